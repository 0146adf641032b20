/** The proficloud-write node's runtime, loaded when the first such node is deployed (see ../proficloud-write.ts). */
import { ValidationError } from '../../src/errors';
import { metricsFromValues, type PushBuildResult } from '../../src/kairos';
import { datetimeToTimestampMs } from '../../src/time';
import type { TimeInput } from '../../src/types';
import type { Service } from '../lib/connection';
import type { Node, NodeAPI, NodeDef, NodeMessage } from '../lib/red';
import { messageTags, overflowPolicy, setupQueuedWriteNode } from '../lib/write-node-setup';
import { isObjectNotDateOrBuffer, nonNegativeOr } from '../../src/util';

interface WriteDef extends NodeDef {
  server?: string;
  maxBatchPoints?: string | number;
  maxDelay?: string | number;
  outbox?: boolean;
  outboxMaxMB?: string | number;
  overflow?: string;
  report?: boolean;
}

function build(msg: NodeMessage, service: Service): PushBuildResult {
  let values: Record<string, unknown>;
  const payload = msg.payload;
  if (isObjectNotDateOrBuffer(payload)) {
    values = payload;
  } else if (typeof payload === 'number' || typeof payload === 'boolean' || typeof payload === 'string') {
    if (typeof msg.topic !== 'string' || !msg.topic.trim()) throw new ValidationError('msg.topic', msg.topic, `must name the metric for the single value ${JSON.stringify(payload)}`);
    values = { [msg.topic.trim()]: payload };
  } else {
    throw new ValidationError('msg.payload', payload, 'must be an object {metric: value} or a number/boolean/string with msg.topic as metric name');
  }
  if (Object.keys(values).length === 0) throw new ValidationError('msg.payload', payload, 'has no metrics to write');
  const timestamp = msg.timestamp !== undefined && msg.timestamp !== null ? datetimeToTimestampMs(msg.timestamp as TimeInput, { zone: service.timeZone, field: 'msg.timestamp' }) : Date.now();
  if (timestamp <= 0) throw new ValidationError('msg.timestamp', msg.timestamp, 'must be after 1970-01-01T00:00:00Z');
  return metricsFromValues(values, { timestamp, tags: messageTags(msg, service) });
}

/** Sets up one deployed proficloud-write node. */
export function setupWriteNode(RED: NodeAPI, node: Node, def: WriteDef): void {
  setupQueuedWriteNode(RED, node, {
    type: 'proficloud-write',
    topic: 'write',
    server: def.server,
    report: def.report === true,
    queue: {
      maxBatchPoints: Math.max(1, Math.round(nonNegativeOr(def.maxBatchPoints, 500))),
      maxDelayMs: Math.round(nonNegativeOr(def.maxDelay, 1) * 1000),
      durable: def.outbox !== false,
      outboxMaxMB: def.outboxMaxMB,
      overflow: overflowPolicy(def.overflow),
    },
    maxReported: 20,
    build,
  });
}
