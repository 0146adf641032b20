/**
 * The write path shared by proficloud-write and proficloud-batch: a WriteQueue over the connector's
 * push(), backed by a durable Outbox under <userDir>/proficloud-outbox/<node id> or by memory.
 */
import { join } from 'node:path';
import { KairosError, ReadOnlyError } from '../../src/errors';
import type { OverflowPolicy } from '../../src/outbox/store';
import type { WriteQueue, WriteQueueStatus } from '../../src/outbox';
import type { RetryOptions } from '../../src/outbox/backoff';
import type { WriteResult } from '../../src/types';
import type { Service } from './connection';
import type { Node, NodeAPI } from './red';

export interface WriterOptions {
  maxBatchPoints: number;
  maxDelayMs: number;
  durable: boolean;
  maxBytes: number;
  /** Bound of the memory queue used when durable is false. */
  maxBufferedPoints: number;
  overflow: OverflowPolicy;
  onResult(result: WriteResult): void;
  onStatus(status: WriteQueueStatus): void;
  onFailure(err: unknown): void;
  onDrop(points: number, reason: string): void;
}

export interface Writer {
  enqueue(metrics: Parameters<WriteQueue['enqueue']>[0]): Promise<void>;
  close(timeoutMs: number): Promise<void>;
}

export function assertWritable(service: Service): void {
  if (service.readOnly || !service.connector) {
    const what = service.kind === 'io' ? 'proficloud.io TSD' : 'Proficloud TSD';
    throw new ReadOnlyError(`${what} is read-only: choose a KairosDB or EWIMA connection to write`);
  }
}

/** The outbox and queue code, loaded when the first write node is deployed, not when Node-RED starts. */
function outbox(): typeof import('../../src/outbox') {
  return require('../../src/outbox') as typeof import('../../src/outbox');
}

export function outboxDir(RED: NodeAPI, node: Node): string {
  return join(RED.settings.userDir || process.cwd(), 'proficloud-outbox', node.id);
}

/**
 * Retry pacing from settings.js (`proficloudRetry: { initialMs, maxMs }`): gateways on metered links
 * may want slower retries, and tests faster ones. Bad values are ignored with a warning, never fatal.
 */
export function retrySettings(RED: NodeAPI, node: Node): RetryOptions | undefined {
  const raw = RED.settings.proficloudRetry;
  if (raw === undefined || raw === null) return undefined;
  const out: RetryOptions = {};
  const given = typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  for (const key of ['initialMs', 'maxMs'] as const) {
    const v = given[key];
    if (v === undefined) continue;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 10) out[key] = v;
    else node.warn(`settings.proficloudRetry.${key} ignored: must be a number of milliseconds >= 10 (got ${JSON.stringify(v)})`);
  }
  if (typeof raw !== 'object') node.warn(`settings.proficloudRetry ignored: must be an object { initialMs, maxMs }`);
  if (out.initialMs !== undefined && out.maxMs !== undefined && out.maxMs < out.initialMs) out.maxMs = out.initialMs;
  return out;
}

export async function openWriter(RED: NodeAPI, node: Node, service: Service, opts: WriterOptions): Promise<Writer> {
  assertWritable(service);
  const connector = service.connector!;
  // Retry chatter goes to debug level: a gateway offline for a day must not flood the log.
  const logger = { warn: (m: string) => node.warn(m), debug: (m: string) => node.debug(m) };
  let warned: string | undefined;
  const onDrop = (info: { points: number; reason: string }) => opts.onDrop(info.points, info.reason);
  // Without the outbox the queue keeps its backlog in memory (lost on restart), bounded the same way.
  const store = opts.durable
    ? await outbox().Outbox.open({ dir: outboxDir(RED, node), maxBytes: opts.maxBytes, overflow: opts.overflow, logger, onDrop })
    : undefined;
  const queue = new (outbox().WriteQueue)({
    send: (metrics, signal) => connector.push(metrics, signal),
    outbox: store,
    maxBatchPoints: opts.maxBatchPoints,
    maxDelayMs: opts.maxDelayMs,
    maxBufferedPoints: opts.maxBufferedPoints,
    retry: retrySettings(RED, node),
    logger,
    onResult: (result) => opts.onResult(result),
    onStatus: (status) => {
      // One warning per distinct cause of an outage (not per retry), so the log says what happened.
      if (status.state === 'buffering' && status.lastError && status.lastError !== warned) {
        warned = status.lastError;
        node.warn(`delivery failed, ${status.buffered} points kept for retry: ${status.lastError}`);
      } else if (status.state === 'idle') {
        warned = undefined;
      }
      opts.onStatus(status);
    },
    onRejected: (err) => opts.onFailure(err),
    onDrop,
  });
  return {
    enqueue: (metrics) => queue.enqueue(metrics),
    async close(timeoutMs) {
      try {
        await queue.close(timeoutMs);
      } finally {
        await store?.close();
      }
    },
  };
}

/** One Error per problem the push builders reported, so each reaches Catch nodes with its own text. */
export function validationErrors(errors: string[], limit: number): Error[] {
  const shown = errors.slice(0, limit).map((m) => new KairosError('EVALIDATION', m, false));
  if (errors.length > limit) shown.push(new KairosError('EVALIDATION', `${errors.length - limit} more invalid value(s) not listed`, false));
  return shown;
}

/** KairosDB stores no point without a tag; when neither the config nor the msg gives one, tag the source. */
export function tagsOrFallback(tags: Record<string, string>): Record<string, string> {
  return Object.keys(tags).length ? tags : { source: 'node-red' };
}
