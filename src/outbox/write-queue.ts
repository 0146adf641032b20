/**
 * The forward half of store-and-forward: takes push batches, keeps them in an Outbox (or, without
 * one, a bounded in-memory queue that is NOT crash-safe), coalesces them into few compact requests
 * and delivers them oldest first, one request at a time, retrying what may succeed later.
 *
 * Error policy, by the error the send function throws:
 * - retryable (err.retryable true: network, timeout, 5xx, 429, 408): the batch stays; retried with
 *   exponential backoff and jitter, never sooner than the server's Retry-After. Status 'buffering'.
 *   After a link failure (no answer, or 502/504 from a gateway) without Retry-After, the optional
 *   probe checks the link on a short cycle and brings the next attempt forward once it answers.
 * - EAUTH (or HTTP 401/403): the batch stays and is retried at the slow pace (retry.maxMs), status
 *   'error'. Credentials get fixed (token refresh, edited config) and the data must survive that.
 * - any other error with retryable false (400 validation, EVALIDATION, EREADONLY, EPARSE, 413...):
 *   resending cannot help, so the batch is removed and reported through onRejected and onResult.
 *   When an HTTP 400/413/422 refuses a request coalesced from several enqueued batches, the queue
 *   first narrows it down (a binary search over prefixes of the refused range) so only the batch the server refuses
 *   is dropped; the others are delivered (resending any the server already stored is harmless).
 * - an error without a retryable flag (a bug in the send function, say): kept and retried; losing
 *   data to a programming error is worse than retrying it.
 * A resolved WriteResult with rejected > 0 is how KairosConnector.push answers a 400 (KairosDB stored
 * the metrics it did not name). On a request coalesced from several batches it is narrowed down like
 * a thrown 400; for a single batch it is reported through onResult, not retried.
 *
 * Delivery is at-least-once: a batch whose request was cut off by close() or a crash is sent again
 * after restart. KairosDB overwrites identical points, so a resend does not duplicate data.
 */
import { ValidationError } from '../errors';
import type { KairosPushMetric, Logger, WriteResult } from '../types';
import { Backoff, type RetryOptions } from './backoff';
import { OutboxError } from './outbox-errors';
import { MemoryStore } from './memory-store';
import { assertPushMetrics, coalesceMetrics, countBatchPoints, joinPushBodies, splitByPoints } from '../kairos/push-batches';
import { columnPoints, metricsFromColumns, type ColumnPiece, type DoubleColumns } from '../kairos/push-body';
import type { BatchStore, DropInfo } from './batch-store';
import { nonNegativeOrDefault, positiveIntOrDefault } from '../util/validate';

export type WriteQueueState = 'idle' | 'sending' | 'buffering' | 'error';

export interface WriteQueueStatus {
  state: WriteQueueState;
  /** Points waiting (including the batch in flight). */
  buffered: number;
  lastError?: string;
}

export type SendFunction = (metrics: KairosPushMetric[], signal: AbortSignal) => Promise<WriteResult>;

/**
 * Push bodies stored as they go on the wire: the batch is serialised once, when it is appended, and sent
 * as it is (no parsing or serialising per request). Used with a store that has appendEncoded (the Outbox).
 */
export interface EncodedSender {
  /**
   * The body `send` would post for these metrics (checked, typed and tagged as the connector does), or
   * undefined when the batch cannot be sent as one body unchanged (a point the connector would reject,
   * say): such a batch is stored as metrics and goes through the queue's send function.
   */
  encode(metrics: KairosPushMetric[]): Buffer | undefined;
  /**
   * The body for stretches of column series (PushBuildResult.columns), as encode would make it for the
   * same points as metrics. Without it, column series are turned into metrics first.
   */
  encodeColumns?(pieces: ColumnPiece[]): Buffer;
  /** Posts one body of `points` points (a JSON array, records joined by joinPushBodies). */
  send(body: Buffer, points: number, signal: AbortSignal): Promise<WriteResult>;
  /** Points per request at most: records are cut to it and requests never exceed it. */
  maxPoints: number;
}

export interface WriteQueueOptions {
  send: SendFunction;
  /** Optional: store and send encoded push bodies (see EncodedSender); send still handles other batches. */
  encoded?: EncodedSender;
  /** Durable backlog (an Outbox, usually). Without one: in-memory, lost on restart or crash. The queue does not close it. */
  outbox?: BatchStore;
  /** Points per request. Default 5000. */
  maxBatchPoints?: number;
  /** Coalescing window: how long the first point of a quiet period may wait for company. Default 1000 ms. */
  maxDelayMs?: number;
  retry?: RetryOptions;
  /** Bound of the in-memory queue (no outbox); oldest points are dropped beyond it. Default 100,000. */
  maxBufferedPoints?: number;
  /** Safety net if the send function never settles: abort and retry after this. Default 120000 ms; 0 disables. */
  sendTimeoutMs?: number;
  now?: () => number;
  /** Jitter source, for tests. */
  random?: () => number;
  logger?: Logger;
  /** Final outcome of each delivered or rejected request. */
  onResult?: (r: WriteResult & { attempt: number }) => void;
  onStatus?: (s: WriteQueueStatus) => void;
  /** A batch removed without being stored: the error carries the server's reason. */
  onRejected?: (err: unknown, metrics: KairosPushMetric[]) => void;
  /**
   * A light check of the link (GET /api/v1/version, say): true when the server answers. Used while
   * data waits out a retry backoff after the link failed (refused, reset, timeout, 502/504), so
   * delivery resumes soon after the link returns instead of after the whole backoff. Never after a
   * Retry-After, a 429 or another answer of the server itself: those are left to the backoff.
   */
  probe?: (signal: AbortSignal) => Promise<boolean>;
  /** Probe cycle (jittered to 50..100 %). Default 2000 ms; 0 disables probing. */
  probeIntervalMs?: number;
  /** Each failed attempt whose data stays for a retry (warn once per cause per outage: see src/util/outage-episodes.ts). */
  onRetry?: (r: RetryInfo) => void;
  /** In-memory queue overflow (an Outbox reports its own drops through its options). */
  onDrop?: (info: DropInfo) => void;
}

export interface RetryInfo {
  error: unknown;
  message: string;
  /** Attempts of this request so far. */
  attempt: number;
  /** Until the next attempt. */
  delayMs: number;
  /** Points waiting. */
  buffered: number;
  /** Credentials refused (retried at the slow pace). */
  auth: boolean;
}

type Verdict = 'retry' | 'auth' | 'reject' | 'isolate';

interface FlushWaiter {
  target: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** Status updates while buffering are rate-limited: at 1,000 msg/s nobody needs 1,000 updates/s. */
const STATUS_INTERVAL_MS = 1000;
/** Backlog (in requests of maxBatchPoints) beyond which requests grow, and by how much at most. */
const BACKLOG_REQUESTS = 4;
const MAX_REQUEST_GROWTH = 10;
/** Points serialised for the outbox per event-loop turn when a large batch is enqueued. */
const LANE_SLICE_POINTS = 50_000;

export class WriteQueue {
  private readonly send: SendFunction;
  /** Set when the store keeps encoded bodies (see EncodedSender). */
  private readonly encoded?: EncodedSender;
  /** Points per appended record: maxBatchPoints, within the encoder's request bound. */
  private readonly recordPoints: number;
  private readonly store: BatchStore;
  private readonly maxBatchPoints: number;
  private readonly maxDelayMs: number;
  private readonly sendTimeoutMs: number;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private readonly logger?: Logger;
  private readonly onResult?: WriteQueueOptions['onResult'];
  private readonly onStatus?: WriteQueueOptions['onStatus'];
  private readonly onRejected?: WriteQueueOptions['onRejected'];
  private readonly onRetry?: WriteQueueOptions['onRetry'];
  private readonly probe?: WriteQueueOptions['probe'];
  private readonly probeIntervalMs: number;
  private readonly random: () => number;

  private windowTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  /** A rate-limited status update, sent at the end of the interval so the last count is never stale. */
  private statusTimer: NodeJS.Timeout | null = null;
  private pumping: Promise<void> | null = null;
  private inFlight: AbortController | null = null;
  private attempt = 0;
  /** Set while narrowing down which message of a refused coalesced request the server objects to. */
  private narrowing: {
    limit: number;
    untilRemoved: number;
    /** Points of the shortest prefix (from the head) known to be refused; unknown once its bad batch is dropped. */
    refused?: number;
  } | null = null;
  private probeTimer: NodeJS.Timeout | null = null;
  private probeInFlight: AbortController | null = null;
  /** A probe already brought one attempt forward in this backoff wait: the rest of the wait is left alone. */
  private probeSpent = false;
  private failing = false;
  private closed = false;
  private halted = false;
  private closing: Promise<void> | null = null;
  /** Appends started and not yet settled; flush() waits for them. */
  private enqueuing = 0;
  /** Set while a large batch is being appended in slices; resolves once all its appends have started. */
  private lane: Promise<void> | null = null;
  private enqueueIdle: Array<() => void> = [];
  private flushWaiters: FlushWaiter[] = [];
  private lastStatus: WriteQueueStatus = { state: 'idle', buffered: 0 };
  private lastStatusAt = -Infinity;

  constructor(opts: WriteQueueOptions) {
    if (!opts || typeof opts.send !== 'function') throw new ValidationError('send', opts?.send, 'must be a function (metrics, signal) => Promise<WriteResult>');
    this.send = opts.send;
    this.maxBatchPoints = positiveIntOrDefault(opts.maxBatchPoints, 'maxBatchPoints', 5000);
    this.maxDelayMs = nonNegativeOrDefault(opts.maxDelayMs, 'maxDelayMs', 1000);
    this.sendTimeoutMs = nonNegativeOrDefault(opts.sendTimeoutMs, 'sendTimeoutMs', 120_000);
    const retry = opts.retry ?? {};
    nonNegativeOrDefault(retry.initialMs, 'retry.initialMs', 1000);
    nonNegativeOrDefault(retry.maxMs, 'retry.maxMs', 60_000);
    if (retry.factor !== undefined && !(typeof retry.factor === 'number' && retry.factor >= 1)) {
      throw new ValidationError('retry.factor', retry.factor, 'must be a number >= 1');
    }
    this.backoff = new Backoff(retry, opts.random);
    this.now = opts.now ?? Date.now;
    this.logger = opts.logger;
    this.onResult = opts.onResult;
    this.onStatus = opts.onStatus;
    this.onRejected = opts.onRejected;
    this.onRetry = opts.onRetry;
    if (opts.probe !== undefined && typeof opts.probe !== 'function') throw new ValidationError('probe', opts.probe, 'must be a function (signal) => Promise<boolean>');
    this.probe = opts.probe;
    this.probeIntervalMs = nonNegativeOrDefault(opts.probeIntervalMs, 'probeIntervalMs', 2000);
    this.random = opts.random ?? Math.random;
    this.store =
      opts.outbox ??
      new MemoryStore({ maxPoints: positiveIntOrDefault(opts.maxBufferedPoints, 'maxBufferedPoints', 100_000), logger: opts.logger, onDrop: opts.onDrop });
    if (opts.encoded !== undefined) {
      const e = opts.encoded;
      if (!e || typeof e.encode !== 'function' || typeof e.send !== 'function') throw new ValidationError('encoded', e, 'must be { encode, send, maxPoints }');
      positiveIntOrDefault(e.maxPoints, 'encoded.maxPoints', 1);
      if (typeof this.store.appendEncoded === 'function') this.encoded = e;
    }
    this.recordPoints = this.encoded ? Math.min(this.maxBatchPoints, this.encoded.maxPoints) : this.maxBatchPoints;
    // A durable outbox may hold a backlog from before a restart: start delivering it.
    if (this.store.stats().points > 0) this.schedule();
  }

  /**
   * Resolves when the points are durable in the outbox (or accepted by the in-memory queue).
   * Batches larger than maxBatchPoints are split; delivery happens in the background.
   */
  enqueue(metrics: KairosPushMetric[], columns?: DoubleColumns[]): Promise<void> {
    if (this.closed) return Promise.reject(new OutboxError('EOUTBOXCLOSED', 'write queue is closed'));
    try {
      assertPushMetrics(metrics);
      if (columns !== undefined) assertColumns(columns);
    } catch (err) {
      return Promise.reject(err);
    }
    if (columns && columns.length) {
      // Encoded straight into bodies when the store keeps them; otherwise as metrics, after the others.
      if (this.encoded?.encodeColumns) {
        this.enqueuing++;
        return this.appendInLane(metrics.length ? splitByPoints(metrics, this.recordPoints) : [], columns).then(this.onAppended, this.onAppendFailed);
      }
      metrics = [...metrics, ...metricsFromColumns(columns)];
    }
    if (metrics.length === 0) return Promise.resolve();
    // Appends start in call order, so concurrent enqueue() calls keep their order on disk. The common
    // case (a message of a few points, nothing ahead of it) costs one promise; a large batch is
    // appended in slices, one event-loop turn each, and later enqueues wait behind it.
    const points = countBatchPoints(metrics);
    const appended =
      points <= this.recordPoints && !this.lane
        ? this.appendRecord(metrics, points)
        : this.appendInLane(points <= this.recordPoints ? [metrics] : splitByPoints(metrics, this.recordPoints));
    this.enqueuing++;
    return appended.then(this.onAppended, this.onAppendFailed);
  }

  /**
   * Appends chunks after everything enqueued before them has started, yielding to the event loop every
   * LANE_SLICE_POINTS points: serialising a million points for the outbox must not stall Node-RED.
   */
  private appendInLane(chunks: KairosPushMetric[][], columns?: DoubleColumns[]): Promise<void> {
    const ahead = this.lane;
    let started!: () => void;
    const lane = new Promise<void>((resolve) => (started = resolve));
    this.lane = lane;
    return (async () => {
      const appends: Array<Promise<void>> = [];
      try {
        if (ahead) await ahead;
        let since = 0;
        for (const chunk of chunks) {
          if (since >= LANE_SLICE_POINTS) {
            since = 0;
            await new Promise<void>((resolve) => setImmediate(resolve));
          }
          const n = countBatchPoints(chunk);
          const p = this.appendRecord(chunk, n);
          p.catch(() => undefined); // handled below; a rejection must not count as unhandled meanwhile
          appends.push(p);
          since += n;
        }
        if (columns) {
          const encodeColumns = (this.encoded as EncodedSender).encodeColumns as NonNullable<EncodedSender['encodeColumns']>;
          // Records as large as the requests that will carry them (a table is a backlog at once), cut
          // across series as splitByPoints cuts metrics: each request then sends one stored body as it
          // is, instead of copying several into one.
          const recordPoints = this.requestPoints(this.store.stats().points + columnPoints(columns));
          let pieces: ColumnPiece[] = [];
          let n = 0;
          const flush = async (): Promise<void> => {
            if (since >= LANE_SLICE_POINTS) {
              since = 0;
              await new Promise<void>((resolve) => setImmediate(resolve));
            }
            const p = (this.store.appendEncoded as NonNullable<BatchStore['appendEncoded']>)(encodeColumns(pieces), n);
            p.catch(() => undefined);
            appends.push(p);
            since += n;
            pieces = [];
            n = 0;
          };
          for (const c of columns) {
            const len = c.length;
            for (let from = 0; from < len; ) {
              const take = Math.min(recordPoints - n, len - from);
              pieces.push({ columns: c, from, to: from + take });
              n += take;
              from += take;
              if (n >= recordPoints) await flush();
            }
          }
          if (n > 0) await flush();
        }
      } finally {
        started();
        if (this.lane === lane) this.lane = null;
      }
      await Promise.all(appends);
    })();
  }

  /** One record: the encoded body when there is an encoder and it takes the batch, else the metrics. */
  private appendRecord(metrics: KairosPushMetric[], points: number): Promise<void> {
    const enc = this.encoded;
    if (enc) {
      let body: Buffer | undefined;
      try {
        body = enc.encode(metrics);
      } catch {
        body = undefined; // stored as metrics: send() reports the problem as it always did
      }
      if (body) return (this.store.appendEncoded as NonNullable<BatchStore['appendEncoded']>)(body, points);
    }
    return this.store.append(metrics, true);
  }

  private readonly onAppended = (): void => {
    this.enqueueSettled();
    this.schedule();
    // While a request is out (hung, say) or failing, the status keeps counting the backlog.
    if (this.failing || this.inFlight) this.emitStatus(this.lastStatus.state, this.lastStatus.lastError, false);
  };

  private readonly onAppendFailed = (err: unknown): never => {
    this.enqueueSettled();
    throw err;
  };

  private enqueueSettled(): void {
    if (--this.enqueuing === 0 && this.enqueueIdle.length) for (const wake of this.enqueueIdle.splice(0)) wake();
  }

  /**
   * Sends everything enqueued so far now (skipping the coalescing window and any backoff wait).
   * Resolves once it is all delivered or rejected; rejects with the error if a send fails (the data
   * stays queued and is retried in the background).
   */
  async flush(): Promise<void> {
    if (this.closed) throw new OutboxError('EOUTBOXCLOSED', 'write queue is closed');
    return this.flushNow();
  }

  /**
   * Stops timers, aborts the request in flight and returns within timeoutMs. With an outbox the
   * unsent batches stay on disk and go out after restart. Without one, the queue first spends up to
   * half the time delivering its memory backlog (if sends are succeeding) and warns about what is left.
   */
  close(timeoutMs = 3000): Promise<void> {
    if (this.closing) return this.closing;
    this.closed = true;
    this.clearTimers();
    this.closing = (async () => {
      const deadline = this.now() + timeoutMs;
      if (!this.store.durable && this.store.stats().points > 0 && !this.failing) {
        await raceTimeout(this.flushNow(), timeoutMs / 2).catch(() => undefined);
      }
      this.halted = true;
      this.clearTimers();
      this.inFlight?.abort(new Error('write queue closing'));
      if (this.pumping) await raceTimeout(this.pumping, Math.max(0, deadline - this.now())).catch(() => undefined);
      this.settleFlushWaiters(new OutboxError('EOUTBOXCLOSED', 'write queue closed before everything was delivered'));
      const left = this.store.stats().points;
      if (!this.store.durable && left > 0) this.logger?.warn(`write queue closed with ${left} undelivered points in memory; they are lost (use an outbox to keep them)`);
    })();
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------

  private flushNow(): Promise<void> {
    return (async () => {
      if (this.enqueuing > 0) await new Promise<void>((resolve) => this.enqueueIdle.push(resolve));
      const { appendedBatches, removedBatches } = this.store.stats();
      if (removedBatches >= appendedBatches) return;
      const done = new Promise<void>((resolve, reject) => this.flushWaiters.push({ target: appendedBatches, resolve, reject }));
      this.clearTimers();
      this.startPump();
      return done;
    })();
  }

  /** Opens the coalescing window, or sends at once when a full request is already waiting. */
  private schedule(): void {
    if (this.halted || this.pumping || this.retryTimer) return;
    if (this.store.stats().points >= this.maxBatchPoints) {
      this.startPump();
    } else if (!this.windowTimer) {
      this.windowTimer = setTimeout(() => {
        this.windowTimer = null;
        this.startPump();
      }, this.maxDelayMs);
    }
  }

  private startPump(): void {
    if (this.windowTimer) clearTimeout(this.windowTimer);
    this.windowTimer = null;
    if (this.pumping || this.halted) return;
    this.pumping = this.pump()
      .catch((err: unknown) => this.storeFailed(err))
      .finally(() => {
        this.pumping = null;
        // Points that arrived while the pump was finishing get their own window.
        if (!this.halted && !this.retryTimer && this.store.stats().points > 0) this.schedule();
      });
  }

  /** Delivers until the backlog is empty, a send fails, or close() halts it. */
  private async pump(): Promise<void> {
    while (!this.halted) {
      const batch = await this.store.peek(this.narrowing?.limit ?? this.requestPoints());
      if (!batch) {
        this.failing = false;
        this.emitStatus('idle');
        this.settleFlushWaiters();
        return;
      }
      this.attempt++;
      if (!this.failing) this.emitStatus('sending');
      const controller = new AbortController();
      this.inFlight = controller;
      let result: WriteResult | undefined;
      let error: unknown;
      let ok = false;
      const enc = this.encoded;
      const bodies = enc && batch.bodies && batch.points <= enc.maxPoints ? batch.bodies : undefined;
      try {
        result = await this.callSend(
          bodies && enc ? (signal) => enc.send(joinPushBodies(bodies), batch.points, signal) : (signal) => this.send(coalesceMetrics(batch.metrics), signal),
          controller,
        );
        ok = true;
      } catch (err) {
        error = err;
      } finally {
        this.inFlight = null;
      }
      const r = ok ? normaliseResult(result, batch.points) : undefined;
      if (r && r.rejected > 0 && batch.records > 1 && !this.halted) {
        // The connector answers a 400 with a result (KairosDB stored what it did not name): narrow it
        // down like a thrown 400 so only the refused message is dropped and reported.
        this.narrow(batch);
        continue;
      }
      if (r) {
        await this.store.ack(batch.id);
        this.narrowingStep(batch.points, r.rejected > 0);
        const attempt = this.attempt;
        this.attempt = 0;
        this.failing = false;
        this.probeSpent = false;
        this.safely(() => this.onResult?.({ ...r, attempt }));
        this.settleFlushWaiters();
        if (this.shouldPause()) return;
        continue;
      }
      if (this.halted) return; // aborted by close(): the batch stays for the next run
      const verdict = classify(error);
      const message = errorMessage(error);
      if (verdict === 'isolate' && batch.records > 1) {
        this.narrow(batch);
        continue;
      }
      if (verdict === 'reject' || verdict === 'isolate') {
        await this.store.ack(batch.id);
        this.narrowingStep(batch.points, true);
        const attempt = this.attempt;
        this.attempt = 0;
        this.emitStatus('error', message);
        this.safely(() => this.onRejected?.(error, batch.metrics));
        this.safely(() => this.onResult?.({ written: 0, rejected: batch.points, errors: [message], requests: 1, attempt }));
        this.settleFlushWaiters();
        if (this.shouldPause()) return;
        continue;
      }
      this.failing = true;
      const delay = verdict === 'auth' ? this.backoff.slowDelay() : this.backoff.delay(this.attempt, retryAfterOf(error));
      this.emitStatus(verdict === 'auth' ? 'error' : 'buffering', message);
      this.logger?.debug?.(`write queue: attempt ${this.attempt} failed (${message}); retrying in ${delay} ms`);
      const info: RetryInfo = { error, message, attempt: this.attempt, delayMs: delay, buffered: this.store.stats().points, auth: verdict === 'auth' };
      this.safely(() => this.onRetry?.(info));
      this.settleFlushWaiters(error);
      this.retryLater(delay);
      if (verdict === 'retry' && isLinkFailure(error) && retryAfterOf(error) === undefined) this.startProbing(delay);
      return;
    }
  }

  /**
   * After a request, only go straight on when a full request is waiting or someone is flushing;
   * otherwise the few points that trickled in during the request wait for the next window, so a
   * steady stream of messages still becomes about one request per maxDelayMs.
   */
  private shouldPause(): boolean {
    const waiting = this.store.stats().points;
    // While narrowing, the rest of the refused request was already due: no new window for it.
    if (waiting === 0 || this.flushWaiters.length > 0 || waiting >= this.maxBatchPoints || this.narrowing) return false;
    this.emitStatus('idle');
    return true;
  }

  /**
   * One bad message must not take the good ones of its coalesced request down with it: a binary
   * search over prefixes of the refused range until the refused request is a single appended batch.
   */
  private narrow(batch: { points: number; records: number }): void {
    const removed = this.store.stats().removedBatches;
    this.narrowing = {
      limit: Math.max(1, Math.floor(batch.points / 2)),
      untilRemoved: Math.max(this.narrowing?.untilRemoved ?? 0, removed + batch.records),
      refused: batch.points,
    };
    this.attempt = 0;
  }

  /**
   * After a request is settled while narrowing. Delivered: the refused range starts after it, so try
   * half of what is left of it. Dropped (or past the known range): grow the prefix again. Narrowing
   * ends past the range of the first refusal.
   */
  private narrowingStep(points: number, dropped: boolean): void {
    const n = this.narrowing;
    if (!n) return;
    if (this.store.stats().removedBatches >= n.untilRemoved) {
      this.narrowing = null;
      return;
    }
    const left = n.refused === undefined || dropped ? 0 : n.refused - points;
    if (left > 0) {
      n.refused = left;
      n.limit = Math.max(1, Math.floor(left / 2));
    } else {
      n.refused = undefined;
      n.limit = Math.min(this.maxBatchPoints, n.limit * 2);
    }
  }

  /**
   * Points for the next request: maxBatchPoints while the queue keeps up; with a backlog of more than
   * BACKLOG_REQUESTS requests, requests grow with it up to MAX_REQUEST_GROWTH × maxBatchPoints, so a
   * burst drains in few round trips instead of one small request per round trip.
   */
  private requestPoints(backlog = this.store.stats().points): number {
    const factor = Math.floor(backlog / (BACKLOG_REQUESTS * this.maxBatchPoints));
    const points = this.maxBatchPoints * Math.min(MAX_REQUEST_GROWTH, Math.max(1, factor));
    // Encoded bodies go out as one request each: never more than the encoder's bound.
    return this.encoded ? Math.min(points, this.encoded.maxPoints) : points;
  }

  private async callSend(send: (signal: AbortSignal) => Promise<WriteResult>, controller: AbortController): Promise<WriteResult> {
    const sending = Promise.resolve().then(() => send(controller.signal));
    if (!this.sendTimeoutMs) return sending;
    let timer: NodeJS.Timeout | undefined;
    const watchdog = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const err = Object.assign(new Error(`send did not settle within sendTimeoutMs ${this.sendTimeoutMs}`), { code: 'ETIMEOUT', retryable: true });
        controller.abort(err);
        reject(err);
      }, this.sendTimeoutMs);
      // close() aborts the request: stop waiting for a send that ignores its signal and release the timer, so a
      // closed queue keeps nothing alive.
      controller.signal.addEventListener('abort', () => {
        clearTimeout(timer);
        reject(controller.signal.reason);
      }, { once: true });
    });
    sending.catch(() => undefined); // it may still reject after the watchdog fired
    try {
      return await Promise.race([sending, watchdog]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** peek/ack failed (disk trouble, outbox closed under us): report and try again later. */
  private storeFailed(err: unknown): void {
    if (this.halted) return;
    const message = `outbox: ${errorMessage(err)}`;
    this.failing = true;
    this.emitStatus('error', message);
    this.logger?.warn(`write queue: ${message}`);
    this.settleFlushWaiters(err);
    this.retryLater(this.backoff.slowDelay());
  }

  private retryLater(delay: number): void {
    if (this.halted) return;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.probeSpent = false;
      this.stopProbing();
      this.startPump();
    }, delay);
  }

  /** Probes the link on a short cycle while the retry timer runs (see the probe option). */
  private startProbing(delay: number): void {
    this.stopProbing();
    if (!this.probe || !this.probeIntervalMs || this.probeSpent || delay <= this.probeIntervalMs) return;
    const next = (): void => {
      const wait = Math.round(this.probeIntervalMs * (0.5 + 0.5 * this.random()));
      this.probeTimer = setTimeout(() => {
        this.probeTimer = null;
        void this.runProbe().then((up) => {
          if (this.halted || !this.retryTimer) return;
          if (!up) return next();
          // The link is back: the attempt the backoff planned for later goes out now, once.
          this.probeSpent = true;
          clearTimeout(this.retryTimer);
          this.retryTimer = null;
          this.startPump();
        });
      }, wait);
    };
    next();
  }

  /** One probe, cut off after a cycle and a half (a hung probe says nothing); any failure means "not up". */
  private async runProbe(): Promise<boolean> {
    const probe = this.probe;
    if (!probe) return false;
    const controller = new AbortController();
    this.probeInFlight = controller;
    let timer: NodeJS.Timeout | undefined;
    const cutOff = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => {
        controller.abort(new Error('probe timed out'));
        resolve(false);
      }, Math.max(1000, this.probeIntervalMs * 1.5));
    });
    try {
      const answer = Promise.resolve().then(() => probe(controller.signal));
      answer.catch(() => undefined); // it may still reject after the cut-off
      return (await Promise.race([answer, cutOff])) === true;
    } catch (err) {
      this.logger?.debug?.(`write queue: probe failed (${errorMessage(err)})`);
      return false;
    } finally {
      clearTimeout(timer);
      if (this.probeInFlight === controller) this.probeInFlight = null;
    }
  }

  private stopProbing(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    this.probeTimer = null;
    this.probeInFlight?.abort(new Error('probe no longer needed'));
    this.probeInFlight = null;
  }

  private clearTimers(): void {
    if (this.windowTimer) clearTimeout(this.windowTimer);
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.windowTimer = null;
    this.retryTimer = null;
    this.statusTimer = null;
    this.stopProbing();
  }

  /** Resolves waiters whose batches are all gone; with an error, rejects every waiter. */
  private settleFlushWaiters(error?: unknown): void {
    if (!this.flushWaiters.length) return;
    const removed = this.store.stats().removedBatches;
    const keep: FlushWaiter[] = [];
    for (const w of this.flushWaiters) {
      if (error !== undefined) w.reject(error);
      else if (removed >= w.target) w.resolve();
      else keep.push(w);
    }
    this.flushWaiters = keep;
  }

  private emitStatus(state: WriteQueueState, lastError?: string, force = true): void {
    const buffered = this.store.stats().points;
    const prev = this.lastStatus;
    const same = prev.state === state && prev.buffered === buffered && prev.lastError === lastError;
    if (same) return;
    const now = this.now();
    if (!force && prev.state === state && prev.lastError === lastError && now - this.lastStatusAt < STATUS_INTERVAL_MS) {
      if (!this.statusTimer && !this.closed) {
        this.statusTimer = setTimeout(() => {
          this.statusTimer = null;
          if (!this.closed && (this.failing || this.inFlight)) this.emitStatus(this.lastStatus.state, this.lastStatus.lastError);
        }, STATUS_INTERVAL_MS - (now - this.lastStatusAt));
      }
      return;
    }
    if (this.statusTimer) clearTimeout(this.statusTimer);
    this.statusTimer = null;
    this.lastStatus = lastError === undefined ? { state, buffered } : { state, buffered, lastError };
    this.lastStatusAt = now;
    this.safely(() => this.onStatus?.({ ...this.lastStatus }));
  }

  /** A throwing callback must not stop delivery. */
  private safely(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.logger?.warn(`write queue: callback threw: ${errorMessage(err)}`);
    }
  }
}

/**
 * The shape of column series (names, tags, typed arrays holding `length` points). Their points are
 * checked by the encoder as it writes them (one pass, in the lane's slices), so a point that is not a
 * timestamp > 0 with a finite value fails that enqueue there; the row builder never makes one.
 */
function assertColumns(columns: unknown): asserts columns is DoubleColumns[] {
  if (!Array.isArray(columns)) throw new ValidationError('columns', columns, 'must be an array of column series');
  for (let i = 0; i < columns.length; i++) {
    const c = columns[i] as Partial<DoubleColumns> | null;
    const where = `columns[${i}]`;
    if (!c || typeof c.name !== 'string' || c.name === '') throw new ValidationError(`${where}.name`, c?.name, 'must be a non-empty string');
    if (!c.tags || typeof c.tags !== 'object') throw new ValidationError(`${where}.tags`, c.tags, 'must be an object of tag names to values');
    const ts = c.timestamps;
    const vs = c.values;
    const n = c.length;
    if (!(ts instanceof Float64Array) || !(vs instanceof Float64Array) || typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0 || n > ts.length || n > vs.length) {
      throw new ValidationError(where, c.name, 'must have Float64Array timestamps and values of at least `length` points');
    }
  }
}

function classify(err: unknown): Verdict {
  const e = (err ?? {}) as { code?: unknown; status?: unknown; retryable?: unknown };
  if (e.code === 'EAUTH' || (e.code === 'EHTTP' && (e.status === 401 || e.status === 403))) return 'auth';
  // The server objected to this body (bad content, or too large for a proxy): a smaller one may pass.
  if (e.code === 'EHTTP' && (e.status === 400 || e.status === 413 || e.status === 422)) return 'isolate';
  if (e.retryable === false) return 'reject';
  return 'retry';
}

/** No answer from the server itself: refused, reset, DNS, timeout, or a gateway that could not reach it. */
function isLinkFailure(err: unknown): boolean {
  const e = (err ?? {}) as { code?: unknown; status?: unknown };
  return e.code === 'ENETWORK' || e.code === 'ETIMEOUT' || (e.code === 'EHTTP' && (e.status === 502 || e.status === 504));
}

function retryAfterOf(err: unknown): number | undefined {
  const v = (err as { retryAfterMs?: unknown } | null)?.retryAfterMs;
  return typeof v === 'number' ? v : undefined;
}

function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : 'unknown error';
}

/** A send function that resolves without a proper WriteResult is taken to have written everything. */
function normaliseResult(r: WriteResult | undefined, points: number): WriteResult {
  if (!r || typeof r !== 'object') return { written: points, rejected: 0, errors: [], requests: 1 };
  return {
    written: typeof r.written === 'number' ? r.written : points,
    rejected: typeof r.rejected === 'number' ? r.rejected : 0,
    errors: Array.isArray(r.errors) ? r.errors : [],
    requests: typeof r.requests === 'number' ? r.requests : 1,
  };
}

function raceTimeout<T>(p: Promise<T>, ms: number): Promise<T | void> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  return Promise.race([p, t]).finally(() => clearTimeout(timer));
}
