/**
 * The node side shared by proficloud-write and proficloud-batch: config registration, the writer with its
 * status and error reporting, the input handler (build, limit, queue, report bad values) and close.
 * Each node only turns its settings and a msg into points.
 */
import { ValidationError } from '../../src/errors';
import { coalesceMetrics, columnPoints, countBatchPoints, enforceLimits, parseTags, type PushBuildResult } from '../../src/kairos';
import type { OverflowPolicy } from '../../src/outbox';
import { MAX_TIMER_MS } from '../../src/time';
import type { KairosPushMetric, WriteResult } from '../../src/types';
import { configNodeOf, type ProficloudConfigNode, type Service } from './connection';
import { asError, syntheticMsg } from './msg-helpers';
import type { DoneFn, Node, NodeAPI, NodeMessage, SendFn } from './red';
import { buffering, busy, failed, ok, translate } from './status';
import { assertWritable, openWriter, tagsOrFallback, validationErrors, type Writer, type WriterOptions } from './outbox-writer';

/** How long close waits for the last batches before leaving them in the outbox. */
const CLOSE_TIMEOUT_MS = 4000;
/** Messages of at most this many points are grouped per event-loop turn (see queueBuilt). */
const GROUP_MAX_POINTS = 100;

export interface WriteNodeSpec {
  /** The node's type, which prefixes its status texts in the catalogue. */
  type: 'proficloud-write' | 'proficloud-batch';
  /** msg.topic of reports and of errors no incoming msg caused. */
  topic: string;
  /** Id of the proficloud-config node. */
  server: string | undefined;
  /** Send one message per finished write. */
  report: boolean;
  queue: Pick<WriterOptions, 'maxBatchPoints' | 'maxDelayMs' | 'durable' | 'overflow'> & {
    /** The editor's outbox size in MB, as configured (checked here, see outboxMaxBytes). */
    outboxMaxMB: unknown;
  };
  /** Bad values reported one by one per message; the rest are summarised in one more error. */
  maxReported: number;
  /** Show "queued N" while a message's points go into the queue (large batches take a moment). */
  showQueued?: boolean;
  /**
   * The points of one message; throws ValidationError when the message as a whole is unusable. A
   * Promise only where the work is long and done in slices (the batch node's CSV text).
   */
  build(msg: NodeMessage, service: Service): PushBuildResult | Promise<PushBuildResult>;
}

const MIB = 1024 * 1024;
export const DEFAULT_OUTBOX_MB = 100;
/**
 * About what one queued point costs in memory (its [timestamp, value] array, two heap numbers and its
 * share of the metric object), to turn the size setting into a point bound for the memory queue.
 */
export const MEMORY_BYTES_PER_POINT = 100;
/** The memory queue's bound before it followed the size setting; never less than this. */
export const MIN_MEMORY_QUEUE_POINTS = 100_000;

/** The outbox size setting in bytes: empty means the default 100 MB, anything but a number > 0 is an error naming the field. */
export function outboxMaxBytes(raw: unknown): number {
  if (raw === undefined || raw === null || (typeof raw === 'string' && raw.trim() === '')) return DEFAULT_OUTBOX_MB * MIB;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw.trim()) : NaN;
  if (!Number.isFinite(n) || n <= 0) throw new ValidationError('outboxMaxMB', raw, 'must be a size in MB greater than 0');
  return Math.max(1, Math.round(n * MIB));
}

/**
 * Without the outbox the backlog waits in memory, bounded by the same size setting (at
 * MEMORY_BYTES_PER_POINT per point, at least MIN_MEMORY_QUEUE_POINTS): the default 100 MB holds about
 * a million points, so one message of the batch node's default 100,000 rows × 10 columns fits.
 */
export function memoryQueuePoints(maxBytes: number): number {
  return Math.max(MIN_MEMORY_QUEUE_POINTS, Math.floor(maxBytes / MEMORY_BYTES_PER_POINT));
}

/** The editor's overflow choice; anything else keeps the default, dropping the oldest points. */
export function overflowPolicy(raw: unknown): OverflowPolicy {
  return raw === 'drop-newest' ? 'drop-newest' : 'drop-oldest';
}

/** Tags of one message: msg.tags over the config's default tags, or the fallback tag when both are empty. */
export function messageTags(msg: NodeMessage, service: Service): Record<string, string> {
  if (msg.tags === undefined || msg.tags === null || msg.tags === '') return serviceTags(service);
  return tagsOrFallback({ ...service.defaultTags, ...parseTags(msg.tags, 'msg.tags') });
}

/** A message without msg.tags gets the config's tags: one shared object per service, not a copy per message. */
const tagsOfService = new WeakMap<Service, Record<string, string>>();
function serviceTags(service: Service): Record<string, string> {
  let tags = tagsOfService.get(service);
  if (!tags) {
    tags = Object.freeze(tagsOrFallback({ ...service.defaultTags })) as Record<string, string>;
    tagsOfService.set(service, tags);
  }
  return tags;
}

/** A message of a group: what finishing it needs once the group is stored. */
interface Member {
  errors: string[];
  msg: NodeMessage;
  done: DoneFn;
}

export function setupQueuedWriteNode(RED: NodeAPI, node: Node, spec: WriteNodeSpec): void {
  const { type, topic } = spec;
  let config: ProficloudConfigNode | undefined;
  let writerPromise: Promise<Writer> | undefined;
  /** Both known once resolved, so messages after the first skip two awaits (see the input handler). */
  let readyService: Service | undefined;
  let readyWriter: Writer | undefined;
  /** A setting the node cannot work with: every message fails with it (after the status shows it). */
  let setupError: Error | undefined;

  function onResult(result: WriteResult): void {
    config?.reportOk();
    if (result.errors.length) node.error(asError(new ValidationError('write', result.rejected, `server rejected: ${result.errors.join('; ')}`)), syntheticMsg(node, topic));
    node.status(ok(translate(RED, `${type}.status.written`, 'wrote __count__', { count: result.written })));
    if (spec.report) node.send({ topic, payload: result });
  }

  try {
    const { outboxMaxMB, ...queue } = spec.queue;
    const maxBytes = outboxMaxBytes(outboxMaxMB);
    // A delay beyond what setTimeout keeps would fire at once: refuse it, named in seconds as the editor shows it.
    if (queue.maxDelayMs > MAX_TIMER_MS) throw new ValidationError('maxDelay', queue.maxDelayMs / 1000, `must be at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds (about 24.8 days)`);
    config = configNodeOf(RED, spec.server);
    config.register(node);
    const cfg = config;
    writerPromise = cfg.getService().then((service) =>
      openWriter(RED, node, service, {
        ...queue,
        maxBytes,
        maxBufferedPoints: memoryQueuePoints(maxBytes),
        onResult,
        onStatus: (s) => {
          // Yellow only while delivery waits on a failure; a request under way is blue and counts the backlog.
          if (s.state === 'error') node.status(failed({ message: s.lastError ?? 'write failed' }));
          else if (s.state === 'buffering') node.status(buffering(translate(RED, `${type}.status.buffered`, 'buffered __count__', { count: s.buffered }), s.lastError));
          else if (s.state === 'sending' && s.buffered > 0) node.status(busy(translate(RED, `${type}.status.sending`, 'sending __count__', { count: s.buffered })));
        },
        onFailure: (err) => {
          const e = asError(err);
          cfg.reportFailure(e);
          node.status(failed(e));
          node.error(e, syntheticMsg(node, topic));
        },
        onDrop: (points, reason) => node.warn(`outbox full: dropped ${points} points (${reason})`),
      }),
    );
    writerPromise.then(
      (w) => {
        readyWriter = w;
      },
      (err: unknown) => node.status(failed(err)),
    );
    cfg.getService().then(
      (s) => {
        readyService = s;
      },
      () => undefined, // reported through writerPromise and to each message
    );
  } catch (err) {
    if (err instanceof ValidationError) setupError = err;
    node.status(failed(err));
  }

  async function handle(msg: NodeMessage): Promise<Error[]> {
    if (setupError) throw setupError;
    if (!config || !writerPromise) throw new ValidationError('server', spec.server, 'no proficloud-config node is selected or it is not deployed');
    const service = await config.getService();
    assertWritable(service);
    const built = enforceLimits(await spec.build(msg, service));
    if (built.metrics.length || built.columns?.length) {
      const writer = await writerPromise;
      if (spec.showQueued) node.status(busy(translate(RED, `${type}.status.queued`, 'queued __count__', { count: countBatchPoints(built.metrics) + columnPoints(built.columns) })));
      await writer.enqueue(built.metrics, built.columns);
    }
    return validationErrors(built.errors, spec.maxReported);
  }

  function fail(err: unknown, done: DoneFn): void {
    const e = asError(err);
    node.status(failed(e));
    done(e);
  }

  node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
    const service = readyService;
    const writer = readyWriter;
    if (service && writer && !setupError) {
      // Fast path, the same steps as handle() without its awaits: at tens of thousands of messages
      // per second every promise and closure per message shows up in CPU and garbage collection.
      let raw: PushBuildResult | Promise<PushBuildResult>;
      try {
        assertWritable(service);
        raw = spec.build(msg, service);
      } catch (err) {
        fail(err, done);
        return;
      }
      if (raw instanceof Promise) {
        // Built in slices: queue the points once they are all there.
        raw.then((b) => queueBuilt(b, msg, writer, done), (err: unknown) => fail(err, done));
        return;
      }
      queueBuilt(raw, msg, writer, done);
      return;
    }
    handle(msg).then(
      (problems) => {
        for (const p of problems) node.error(p, msg);
        done();
      },
      (err: unknown) => fail(err, done),
    );
  });

  /**
   * Small messages that arrive in one event-loop turn, queued together as one batch: one outbox
   * record, one fsync'd append and one promise for all of them, their points already merged per series.
   * Each message's done() still runs only once the group is in the outbox. (If the server ever refused
   * such a batch as a whole, the queue's narrowing would single out the group, not the message.)
   */
  let group: { writer: Writer; metrics: KairosPushMetric[]; points: number; members: Member[] } | null = null;
  // A group never exceeds one request: the queue then appends it whole, so a full outbox refuses all of its
  // messages or none (a group split across appends could be stored in part and still be reported refused).
  const groupLimit = Math.min(GROUP_MAX_POINTS, spec.queue.maxBatchPoints);

  function flushGroup(): void {
    const g = group;
    group = null;
    if (!g) return;
    g.writer.enqueue(coalesceMetrics(g.metrics)).then(
      () => {
        for (const m of g.members) finish(m);
      },
      (err: unknown) => {
        for (const m of g.members) fail(err, m.done);
      },
    );
  }

  /** Limits, queue, report: the fast path's end once the points are built. */
  function queueBuilt(raw: PushBuildResult, msg: NodeMessage, writer: Writer, done: DoneFn): void {
    let built: PushBuildResult;
    try {
      built = enforceLimits(raw);
    } catch (err) {
      fail(err, done);
      return;
    }
    // A plain record per message, not a closure: at tens of thousands of messages per second each counts.
    const member: Member = { errors: built.errors, msg, done };
    if (!built.metrics.length && !built.columns?.length) {
      finish(member);
      return;
    }
    const points = countBatchPoints(built.metrics) + columnPoints(built.columns);
    if (points <= groupLimit && !built.columns?.length) {
      if (group && group.points + points > groupLimit) flushGroup();
      if (!group) {
        group = { writer, metrics: [], points: 0, members: [] };
        setImmediate(flushGroup);
      }
      for (const m of built.metrics) group.metrics.push(m);
      group.points += points;
      group.members.push(member);
      return;
    }
    flushGroup(); // what arrived before this message is queued before it
    if (spec.showQueued) node.status(busy(translate(RED, `${type}.status.queued`, 'queued __count__', { count: points })));
    writer.enqueue(built.metrics, built.columns).then(
      () => finish(member),
      (err: unknown) => fail(err, done),
    );
  }

  /** A message whose points are stored: its bad values reported, then done. */
  function finish(m: Member): void {
    if (m.errors.length) for (const p of validationErrors(m.errors, spec.maxReported)) node.error(p, m.msg);
    m.done();
  }

  node.on('close', (removed: boolean, done: () => void) => {
    flushGroup(); // queued before the writer closes, not refused by it
    config?.deregister(node);
    const closing = writerPromise ? writerPromise.then((w) => w.close(CLOSE_TIMEOUT_MS, removed)) : Promise.resolve();
    closing.catch((err: unknown) => node.warn(asError(err).message)).finally(() => done());
  });
}
