/**
 * proficloud-write: msg.payload {metric: value} (or one value named by msg.topic) into coalesced,
 * store-and-forward writes. Bad values are reported one by one; the good ones of the message still go out.
 */
import { ValidationError } from '../src/errors';
import { metricsFromValues } from '../src/push';
import { datetimeToTimestampMs } from '../src/time';
import type { TimeInput, WriteResult } from '../src/types';
import { configNodeOf, type ProficloudConfigNode } from './lib/connection';
import { parseTags } from './lib/parse';
import { enforceLimits } from './lib/limits';
import { asError, syntheticMsg } from './lib/props';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from './lib/red';
import { buffering, failed, ok, translate } from './lib/status';
import { assertWritable, openWriter, tagsOrFallback, validationErrors, type Writer } from './lib/writer';

interface WriteDef extends NodeDef {
  server?: string;
  maxBatchPoints?: string | number;
  maxDelay?: string | number;
  outbox?: boolean;
  outboxMaxMB?: string | number;
  overflow?: string;
  report?: boolean;
}

/** How long close waits for the last batches before leaving them in the outbox. */
const CLOSE_TIMEOUT_MS = 4000;

function positive(raw: unknown, fallback: number): number {
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 && raw !== '' && raw !== undefined ? n : fallback;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}

export = function register(RED: NodeAPI): void {
  function ProficloudWrite(this: Node, def: WriteDef): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: WriteDef): void {
    const report = def.report === true;
    let config: ProficloudConfigNode | undefined;
    let writerPromise: Promise<Writer> | undefined;

    function onResult(result: WriteResult): void {
      config?.reportOk();
      if (result.errors.length) node.error(asError(new ValidationError('write', result.rejected, `server rejected: ${result.errors.join('; ')}`)), syntheticMsg(node, 'write'));
      node.status(ok(translate(RED, 'proficloud-write.status.written', 'wrote __count__', { count: result.written })));
      if (report) node.send({ topic: 'write', payload: result });
    }

    try {
      config = configNodeOf(RED, def.server);
      config.register(node);
      const cfg = config;
      writerPromise = cfg.getService().then((service) =>
        openWriter(RED, node, service, {
          maxBatchPoints: Math.max(1, Math.round(positive(def.maxBatchPoints, 500))),
          maxDelayMs: Math.round(positive(def.maxDelay, 1) * 1000),
          durable: def.outbox !== false,
          maxBytes: Math.round(positive(def.outboxMaxMB, 100) * 1024 * 1024),
          overflow: def.overflow === 'drop-newest' ? 'drop-newest' : 'drop-oldest',
          onResult,
          onStatus: (s) => {
            if (s.state === 'error') node.status(failed({ message: s.lastError ?? 'write failed' }));
            else if (s.buffered > 0) node.status(buffering(translate(RED, 'proficloud-write.status.buffered', 'buffered __count__', { count: s.buffered }), s.lastError));
          },
          onFailure: (err) => {
            const e = asError(err);
            cfg.reportFailure(e);
            node.status(failed(e));
            node.error(e, syntheticMsg(node, 'write'));
          },
          onDrop: (points, reason) => node.warn(`outbox full: dropped ${points} points (${reason})`),
        }),
      );
      writerPromise.catch((err: unknown) => node.status(failed(err)));
    } catch (err) {
      node.status(failed(err));
    }

    async function handle(msg: NodeMessage): Promise<Error[]> {
      if (!config || !writerPromise) throw new ValidationError('server', def.server, 'no proficloud-config node is selected or it is not deployed');
      const service = await config.getService();
      assertWritable(service);
      let values: Record<string, unknown>;
      const payload = msg.payload;
      if (isPlainObject(payload)) {
        values = payload;
      } else if (typeof payload === 'number' || typeof payload === 'boolean' || typeof payload === 'string') {
        if (typeof msg.topic !== 'string' || !msg.topic.trim()) throw new ValidationError('msg.topic', msg.topic, `must name the metric for the single value ${JSON.stringify(payload)}`);
        values = { [msg.topic.trim()]: payload };
      } else {
        throw new ValidationError('msg.payload', payload, 'must be an object {metric: value} or a number/boolean/string with msg.topic as metric name');
      }
      if (Object.keys(values).length === 0) throw new ValidationError('msg.payload', payload, 'has no metrics to write');
      const timestamp = msg.timestamp !== undefined && msg.timestamp !== null ? datetimeToTimestampMs(msg.timestamp as TimeInput, { zone: service.timeZone, field: 'msg.timestamp' }) : Date.now();
      const tags = tagsOrFallback({ ...service.defaultTags, ...parseTags(msg.tags, 'msg.tags') });
      const built = enforceLimits(metricsFromValues(values, { timestamp, tags }));
      if (built.metrics.length) await (await writerPromise).enqueue(built.metrics);
      return validationErrors(built.errors, 20);
    }

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      handle(msg).then(
        (problems) => {
          for (const p of problems) node.error(p, msg);
          done();
        },
        (err: unknown) => {
          const e = asError(err);
          node.status(failed(e));
          done(e);
        },
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      config?.deregister(node);
      const closing = writerPromise ? writerPromise.then((w) => w.close(CLOSE_TIMEOUT_MS)) : Promise.resolve();
      closing.catch((err: unknown) => node.warn(asError(err).message)).finally(() => done());
    });
  }

  RED.nodes.registerType('proficloud-write', ProficloudWrite);
};
