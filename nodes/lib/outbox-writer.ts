/**
 * The write path shared by proficloud-write and proficloud-batch: a WriteQueue over the connector's
 * push(), backed by a durable Outbox under <userDir>/proficloud-outbox/<node id> or by memory.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Episodes, formatRecovery } from '../../src/util';
import { KairosError, ReadOnlyError } from '../../src/errors';
import type { OverflowPolicy, WriteQueue, WriteQueueStatus, RetryOptions } from '../../src/outbox';
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
  /** columns: a message's column series (PushBuildResult.columns), queued after its metrics. */
  enqueue(metrics: Parameters<WriteQueue['enqueue']>[0], columns?: Parameters<WriteQueue['enqueue']>[1]): Promise<void>;
  /** removed: the node was deleted (or got a new id); its outbox is delivered, deleted or reported. */
  close(timeoutMs: number, removed?: boolean): Promise<void>;
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
 * Retry pacing from settings.js (`proficloudRetry: { initialMs, maxMs, quietMs }`): gateways on metered
 * links may want slower retries, and tests faster ones. quietMs: how long delivery must go without a
 * failure before an outage counts as over (one warning per cause per outage). Bad values are ignored
 * with a warning, never fatal.
 */
export function retrySettings(RED: NodeAPI, node: Node): (RetryOptions & { quietMs?: number }) | undefined {
  const raw = RED.settings.proficloudRetry;
  if (raw === undefined || raw === null) return undefined;
  const out: RetryOptions & { quietMs?: number } = {};
  const given = typeof raw === 'object' ? (raw as Record<string, unknown>) : {};
  for (const key of ['initialMs', 'maxMs', 'quietMs'] as const) {
    const v = given[key];
    if (v === undefined) continue;
    if (typeof v === 'number' && Number.isFinite(v) && v >= 10) out[key] = v;
    else node.warn(`settings.proficloudRetry.${key} ignored: must be a number of milliseconds >= 10 (got ${JSON.stringify(v)})`);
  }
  if (typeof raw !== 'object') node.warn(`settings.proficloudRetry ignored: must be an object { initialMs, maxMs, quietMs }`);
  if (out.initialMs !== undefined && out.maxMs !== undefined && out.maxMs < out.initialMs) out.maxMs = out.initialMs;
  return out;
}

export async function openWriter(RED: NodeAPI, node: Node, service: Service, opts: WriterOptions): Promise<Writer> {
  assertWritable(service);
  const connector = service.connector!;
  // Retry chatter goes to debug level: a gateway offline for a day must not flood the log.
  const logger = { warn: (m: string) => node.warn(m), debug: (m: string) => node.debug(m) };
  const { quietMs, ...retry } = retrySettings(RED, node) ?? {};
  // One warning per distinct cause per outage (not per retry, nor per flap of the link), and a summary when it is over.
  const episodes = new Episodes({ quietMs, onRecovered: (s) => node.warn(`delivery ${formatRecovery(s)}`) });
  const onDrop = (info: { points: number; reason: string }) => opts.onDrop(info.points, info.reason);
  // Without the outbox the queue keeps its backlog in memory (lost on restart), bounded the same way.
  const dir = outboxDir(RED, node);
  const store = opts.durable ? await outbox().Outbox.open({ dir, maxBytes: opts.maxBytes, overflow: opts.overflow, logger, onDrop }) : undefined;
  const queue = new (outbox().WriteQueue)({
    send: (metrics, signal) => connector.push(metrics, signal),
    // With the outbox, each batch is serialised once when stored and sent as those bytes.
    encoded: {
      encode: (metrics) => connector.encodePush(metrics),
      encodeColumns: (pieces) => connector.encodeColumns(pieces),
      send: (body, points, signal) => connector.pushEncoded(body, points, signal),
      maxPoints: connector.maxPointsPerRequest,
    },
    // After a link failure, a GET of the version every ~2 s notices the link returning long before a
    // grown backoff would; any answer but 5xx/429/408 means the server is there again.
    probe: async (signal) => {
      const resp = await connector.http.request({ method: 'GET', path: '/api/v1/version', signal });
      return resp.status < 500 && resp.status !== 429 && resp.status !== 408;
    },
    outbox: store,
    maxBatchPoints: opts.maxBatchPoints,
    maxDelayMs: opts.maxDelayMs,
    maxBufferedPoints: opts.maxBufferedPoints,
    retry,
    logger,
    onResult: (result) => {
      episodes.success();
      opts.onResult(result);
    },
    onRetry: (r) => {
      if (episodes.failure(r.message)) node.warn(`delivery failed, ${r.buffered} points kept for retry: ${r.message}`);
    },
    onStatus: (status) => opts.onStatus(status),
    onRejected: (err) => opts.onFailure(err),
    onDrop,
  });
  let closing: Promise<void> | undefined;
  async function close(timeoutMs: number, removed: boolean): Promise<void> {
    episodes.close();
    const start = Date.now();
    // A removed node gets no restart to deliver its backlog: try now, within half the time.
    if (removed && store && store.stats().points > 0) await settleWithin(queue.flush(), timeoutMs / 2);
    let left = 0;
    try {
      await queue.close(Math.max(0, timeoutMs - (Date.now() - start)));
    } finally {
      left = store?.stats().points ?? 0;
      await store?.close();
    }
    if (!removed || !store) return;
    if (left === 0) {
      await rm(dir, { recursive: true, force: true });
      return;
    }
    node.warn(
      `node removed with ${left} undelivered points in its outbox ${dir}; they stay there. To deliver them, stop Node-RED and ` +
        `move them into the outbox of a write or batch node on the same connection with moveOutbox (README: "Recovering the outbox of a removed node")`,
    );
  }
  return {
    enqueue: (metrics, columns) => queue.enqueue(metrics, columns),
    close: (timeoutMs, removed = false) => (closing ??= close(timeoutMs, removed)),
  };
}

/** Waits for p (its failure included) at most ms. */
function settleWithin(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p.then(() => undefined, () => undefined), t]).finally(() => clearTimeout(timer));
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
