/**
 * Incremental streaming over a query API that only answers "points in [start, end]".
 *
 * IncrementalPoller turns repeated range queries into a stream that emits each point once, tolerating
 * points that arrive late (up to `overlapMs` behind the newest point of their series) and surviving a
 * restart through a small JSON position. PollLoop runs any async job on an interval without ever
 * overlapping two runs, backing off on errors. Neither imports Node-RED.
 */
import { ValidationError } from './errors';
import type { PointValue, Series, TagFilter } from './types';

/** An inclusive time range in epoch milliseconds (KairosDB ranges include both ends). */
export interface TimeRange {
  start: number;
  end: number;
}

export type SeriesFetch = (range: TimeRange, signal?: AbortSignal) => Promise<Series[]>;

/** What the poller remembers about one series column. */
export interface SeriesPosition {
  /** Newest timestamp emitted. */
  last: number;
  /** Points at or before this timestamp count as handled; absent until the first point. */
  floor?: number;
  /** Timestamps in (floor, last] already emitted, ascending. */
  seen: number[];
}

/** JSON-serialisable state: persist it (e.g. in node context) and pass it back after a restart. */
export interface StreamPosition {
  version: 1;
  series: Record<string, SeriesPosition>;
}

export type StreamMode = 'incremental' | 'window';

export interface IncrementalPollerOptions {
  fetch: SeriesFetch;
  /** Buffer window: the oldest data a poll ever asks for is `now - windowMs`. */
  windowMs: number;
  /** How far behind the newest point of a series a late point may arrive and still be emitted. Default 2000 (at most windowMs). */
  overlapMs?: number;
  /** 'window' emits the whole window on every poll (the seed's behaviour). Default 'incremental'. */
  mode?: StreamMode;
  position?: StreamPosition;
  now?: () => number;
  /** Bound on remembered timestamps per series; beyond it the oldest are folded into `floor`. Default 10000. */
  maxSeenPerSeries?: number;
}

export interface PollResult {
  /** Per series, only points not emitted before, ascending; series without new points are left out (window mode: all). */
  series: Series[];
  /** Number of points in `series`. */
  points: number;
  position: StreamPosition;
  /** The range that was asked for. */
  range: TimeRange;
}

const DEFAULT_OVERLAP_MS = 2000;
const DEFAULT_MAX_SEEN = 10000;

export class IncrementalPoller {
  private readonly fetchSeries: SeriesFetch;
  private readonly windowMs: number;
  private readonly overlapMs: number;
  private readonly mode: StreamMode;
  private readonly now: () => number;
  private readonly maxSeen: number;
  private state: Map<string, SeriesPosition>;
  /** Serialises poll() so two concurrent calls cannot both emit the same point. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: IncrementalPollerOptions) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    if (typeof opts.fetch !== 'function') throw new ValidationError('fetch', opts.fetch, 'must be a function');
    this.fetchSeries = opts.fetch;
    this.windowMs = positiveInteger('windowMs', opts.windowMs);
    this.overlapMs =
      opts.overlapMs === undefined ? Math.min(DEFAULT_OVERLAP_MS, this.windowMs) : nonNegativeInteger('overlapMs', opts.overlapMs);
    if (this.overlapMs > this.windowMs) {
      throw new ValidationError('overlapMs', opts.overlapMs, `must not exceed windowMs (${this.windowMs})`);
    }
    const mode = opts.mode ?? 'incremental';
    if (mode !== 'incremental' && mode !== 'window') {
      throw new ValidationError('mode', opts.mode, "must be 'incremental' or 'window'");
    }
    this.mode = mode;
    if (opts.now !== undefined && typeof opts.now !== 'function') throw new ValidationError('now', opts.now, 'must be a function');
    this.now = opts.now ?? Date.now;
    this.maxSeen = opts.maxSeenPerSeries === undefined ? DEFAULT_MAX_SEEN : positiveInteger('maxSeenPerSeries', opts.maxSeenPerSeries);
    this.state = opts.position === undefined ? new Map() : parsePosition(opts.position);
  }

  /** A copy of the current position; safe to JSON.stringify and keep. */
  get position(): StreamPosition {
    return snapshot(this.state);
  }

  /** Forget everything emitted: the next poll starts from the full window again. */
  reset(): void {
    this.state = new Map();
  }

  /**
   * Asks for the next range and returns what has not been emitted yet. The position only moves when the
   * fetch succeeds, so a failed or aborted poll can simply be repeated.
   */
  poll(signal?: AbortSignal): Promise<PollResult> {
    const run = this.queue.then(() => this.pollNow(signal));
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** The range the next poll would ask for at time `now`. */
  nextRange(now: number = this.now()): TimeRange {
    const windowStart = now - this.windowMs;
    if (this.mode === 'window' || this.state.size === 0) return { start: windowStart, end: now };
    let oldestLast = Infinity;
    for (const s of this.state.values()) oldestLast = Math.min(oldestLast, s.last);
    // Ask from the least advanced series so no series skips points, but never beyond the buffer window.
    const start = Math.min(now, Math.max(windowStart, oldestLast - this.overlapMs));
    return { start, end: now };
  }

  private async pollNow(signal?: AbortSignal): Promise<PollResult> {
    if (signal?.aborted) throw abortError(signal);
    const now = this.now();
    if (!Number.isFinite(now)) throw new ValidationError('now()', now, 'must return finite epoch milliseconds');
    const range = this.nextRange(Math.floor(now));
    const fetched = await this.fetchSeries({ ...range }, signal);
    if (!Array.isArray(fetched)) throw new ValidationError('fetch result', fetched, 'must be an array of series');

    // Work on a copy so that a malformed series leaves the position untouched.
    const next = cloneState(this.state);
    const out: Series[] = [];
    let points = 0;
    for (const s of fetched) {
      const values = inRangeAscending(s, range);
      const column = s.column ?? s.name;
      const pos = next.get(column);
      let fresh: Array<[number, PointValue]>;
      if (this.mode === 'window') {
        fresh = values;
      } else {
        fresh = pos ? values.filter(([ts]) => isNew(pos, ts)) : values;
      }
      if (values.length > 0) next.set(column, this.advance(pos, values));
      if (this.mode === 'window' || fresh.length > 0) {
        out.push({ ...s, column, values: fresh });
        points += fresh.length;
      }
    }
    this.prune(next, range.end);
    this.state = next;
    return { series: out, points, position: snapshot(next), range };
  }

  /** Records the timestamps of a series' points in range (new or not) and trims what fell below the overlap. */
  private advance(pos: SeriesPosition | undefined, values: Array<[number, PointValue]>): SeriesPosition {
    const seen = new Set(pos?.seen ?? []);
    let last = pos?.last ?? -Infinity;
    for (const [ts] of values) {
      if (pos?.floor !== undefined && ts <= pos.floor) continue;
      seen.add(ts);
      if (ts > last) last = ts;
    }
    let floor = Math.max(pos?.floor ?? -Infinity, last - this.overlapMs);
    let kept = [...seen].filter((ts) => ts > floor).sort((a, b) => a - b);
    if (kept.length > this.maxSeen) {
      // Too many to remember: treat the oldest as a hard edge rather than risk emitting them twice.
      floor = kept[kept.length - this.maxSeen - 1];
      kept = kept.slice(kept.length - this.maxSeen);
    }
    return { last, floor, seen: kept };
  }

  /** Series silent for longer than the window can no longer appear in a poll; dropping them keeps ranges short. */
  private prune(state: Map<string, SeriesPosition>, now: number): void {
    const windowStart = now - this.windowMs;
    for (const [column, pos] of state) {
      if (pos.last < windowStart) state.delete(column);
    }
  }
}

function isNew(pos: SeriesPosition, ts: number): boolean {
  if (ts > pos.last) return true;
  if (pos.floor !== undefined && ts <= pos.floor) return false;
  return !binaryIncludes(pos.seen, ts);
}

function binaryIncludes(sorted: number[], x: number): boolean {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] === x) return true;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
}

/**
 * Points of a series inside the asked range, ascending, without gaps (null). A fetch that returns more than
 * it was asked for must not move the position past `now`.
 */
function inRangeAscending(s: Series, range: TimeRange): Array<[number, PointValue]> {
  if (s === null || typeof s !== 'object' || !Array.isArray(s.values)) {
    throw new ValidationError('fetch result series', s, 'must be a series with a values array');
  }
  const out: Array<[number, PointValue]> = [];
  for (const point of s.values) {
    if (!Array.isArray(point)) continue;
    const [ts, v] = point;
    if (typeof ts !== 'number' || !Number.isFinite(ts) || v === null || v === undefined) continue;
    if (ts < range.start || ts > range.end) continue;
    out.push([ts, v]);
  }
  out.sort((a, b) => a[0] - b[0]);
  return out;
}

function cloneState(state: Map<string, SeriesPosition>): Map<string, SeriesPosition> {
  const copy = new Map<string, SeriesPosition>();
  for (const [k, v] of state) copy.set(k, { ...v, seen: [...v.seen] });
  return copy;
}

function snapshot(state: Map<string, SeriesPosition>): StreamPosition {
  const series: Record<string, SeriesPosition> = {};
  for (const [k, v] of state) {
    const entry: SeriesPosition = { last: v.last, seen: [...v.seen] };
    if (v.floor !== undefined && Number.isFinite(v.floor)) entry.floor = v.floor;
    series[k] = entry;
  }
  return { version: 1, series };
}

/** Validates a restored position; a damaged one is an error rather than a silent replay. */
export function parsePosition(position: unknown): Map<string, SeriesPosition> {
  if (position === null || typeof position !== 'object' || Array.isArray(position)) {
    throw new ValidationError('position', position, 'must be an object saved from IncrementalPoller.position');
  }
  const p = position as Partial<StreamPosition>;
  if (p.version !== 1) throw new ValidationError('position.version', p.version, 'must be 1');
  if (p.series === null || typeof p.series !== 'object' || Array.isArray(p.series)) {
    throw new ValidationError('position.series', p.series, 'must be an object keyed by series column');
  }
  const state = new Map<string, SeriesPosition>();
  for (const [column, raw] of Object.entries(p.series)) {
    const field = `position.series[${JSON.stringify(column)}]`;
    if (raw === null || typeof raw !== 'object') throw new ValidationError(field, raw, 'must be an object');
    const { last, floor, seen } = raw as Partial<SeriesPosition>;
    if (typeof last !== 'number' || !Number.isFinite(last)) throw new ValidationError(`${field}.last`, last, 'must be a finite number');
    if (floor !== undefined && (typeof floor !== 'number' || !Number.isFinite(floor))) {
      throw new ValidationError(`${field}.floor`, floor, 'must be a finite number when present');
    }
    if (!Array.isArray(seen) || seen.some((t) => typeof t !== 'number' || !Number.isFinite(t))) {
      throw new ValidationError(`${field}.seen`, seen, 'must be an array of finite numbers');
    }
    state.set(column, { last, floor, seen: [...seen].sort((a, b) => a - b) });
  }
  return state;
}

// ---------------------------------------------------------------------------------------------
// PollLoop

type TimerHandle = unknown;

export interface PollLoopOptions {
  intervalMs: number;
  /** One poll. Receives a signal that stop() aborts. */
  run: (signal: AbortSignal) => Promise<void>;
  /** Called with every failure of run (not with the abort caused by stop()). */
  onError: (err: unknown) => void;
  /** Upper bound of the error backoff. Default max(60000, intervalMs). */
  maxBackoffMs?: number;
  /** How long stop() waits for an aborted run to settle. Default 5000. */
  stopTimeoutMs?: number;
  setTimer?: (fn: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
}

/**
 * Runs `run` every `intervalMs`, measured from when the previous run settled, so runs never overlap.
 * After a failure the wait doubles (up to maxBackoffMs) until a run succeeds again.
 */
export class PollLoop {
  private interval: number;
  private readonly maxBackoffMs: number | undefined;
  private readonly stopTimeoutMs: number;
  private readonly runFn: (signal: AbortSignal) => Promise<void>;
  private readonly onError: (err: unknown) => void;
  private readonly setTimer: (fn: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;
  private running = false;
  private failures = 0;
  private timer: TimerHandle | undefined;
  private controller: AbortController | undefined;
  private inFlight: Promise<void> | undefined;
  /** Bumped by start/stop so a run belonging to an earlier start does not schedule the next one. */
  private generation = 0;

  constructor(opts: PollLoopOptions) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    this.interval = positiveInterval('intervalMs', opts.intervalMs);
    if (typeof opts.run !== 'function') throw new ValidationError('run', opts.run, 'must be a function');
    if (typeof opts.onError !== 'function') throw new ValidationError('onError', opts.onError, 'must be a function');
    this.maxBackoffMs = opts.maxBackoffMs === undefined ? undefined : positiveInterval('maxBackoffMs', opts.maxBackoffMs);
    this.stopTimeoutMs = opts.stopTimeoutMs === undefined ? 5000 : nonNegativeInteger('stopTimeoutMs', opts.stopTimeoutMs);
    this.runFn = opts.run;
    this.onError = opts.onError;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    // The default timer handle is a Timeout; the injected pair owns its own handle type.
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get isRunning(): boolean {
    return this.running;
  }

  get intervalMs(): number {
    return this.interval;
  }

  /** Failures since the last success (0 when healthy). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** The wait after the current run: the interval, doubled per consecutive failure, capped. */
  get currentDelayMs(): number {
    if (this.failures === 0) return this.interval;
    const cap = Math.max(this.maxBackoffMs ?? 60000, this.interval);
    return Math.min(cap, this.interval * 2 ** Math.min(this.failures, 30));
  }

  /** Starts polling; the first run happens right away (after any run still settling from before). No-op when running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    const gen = ++this.generation;
    const previous = this.inFlight;
    if (previous) {
      void previous.then(() => {
        if (gen === this.generation) this.schedule(0);
      });
    } else {
      this.schedule(0);
    }
  }

  /** Stops polling: cancels the wait, aborts the run in flight and waits (bounded) for it to settle. */
  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    if (this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
    }
    this.controller?.abort();
    const pending = this.inFlight;
    if (!pending) return;
    let guard: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      guard = setTimeout(resolve, this.stopTimeoutMs);
    });
    try {
      await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(guard);
    }
  }

  /** Changes the interval; a pending wait is restarted with the new delay. */
  changeInterval(ms: number): void {
    this.interval = positiveInterval('intervalMs', ms);
    if (this.running && this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
      this.schedule(this.currentDelayMs);
    }
  }

  private schedule(ms: number): void {
    const gen = this.generation;
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      if (gen === this.generation && this.running) this.tick(gen);
    }, ms);
  }

  private tick(gen: number): void {
    const controller = new AbortController();
    this.controller = controller;
    const settled = Promise.resolve()
      .then(() => this.runFn(controller.signal))
      .then(
        () => {
          if (gen === this.generation) this.failures = 0;
        },
        (err: unknown) => {
          // An abort caused by stop() is not a failure worth reporting.
          if (gen !== this.generation || controller.signal.aborted) return;
          this.failures++;
          try {
            this.onError(err);
          } catch {
            // onError is the caller's; its own failure must not stop the loop or escape as a rejection.
          }
        },
      )
      .finally(() => {
        if (this.controller === controller) this.controller = undefined;
        if (this.inFlight === settled) this.inFlight = undefined;
        if (gen === this.generation && this.running) this.schedule(this.currentDelayMs);
      });
    this.inFlight = settled;
  }
}

// ---------------------------------------------------------------------------------------------

function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValidationError(field, value, 'must be a positive integer (milliseconds)');
  }
  return value;
}

function nonNegativeInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValidationError(field, value, 'must be a non-negative integer (milliseconds)');
  }
  return value;
}

/** Intervals come from user config (seconds * 1000 can be fractional); timers need a sane positive bound. */
function positiveInterval(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ValidationError(field, value, 'must be a positive number of milliseconds');
  }
  if (value > 2 ** 31 - 1) throw new ValidationError(field, value, 'must be at most 2147483647 ms (about 24.8 days)');
  return value;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('poll aborted');
}

// ---------------------------------------------------------------------------------------------
// MetricsStream / MetricsStreamIO: the seed's stream classes, built from the two parts above.

/** Options both seed stream classes share. */
export interface MetricsStreamBaseOptions {
  metrics: string | string[];
  /** Poll interval in ms (the seed's interval); changeInterval() changes it while running. */
  intervalMs: number;
  /** Buffer window in ms: the oldest data a poll asks for. */
  windowMs: number;
  /** 'incremental' (default) emits each point once; 'window' re-sends the whole window, as the seed did. */
  mode?: StreamMode;
  overlapMs?: number;
  /** A position saved from an earlier run (stream.position), to resume without repeats. */
  position?: StreamPosition;
  /** Called once per poll with the new points; incremental polls without new points are skipped. */
  onData: (result: PollResult) => void | Promise<void>;
  /** Called with each failed poll; the stream backs off and keeps going. Default: kept in lastError only. */
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** The connector side MetricsStream needs (a KairosConnector, or a TSD/EWIMA preset). */
export interface SeriesQuerySource {
  querySeries(opts: { metrics: string[]; startAbsolute: number; endAbsolute: number; tags?: TagFilter }, signal?: AbortSignal): Promise<Series[]>;
}

/** The client side MetricsStreamIO needs (a ProficloudIOMetrics). */
export interface IOSeriesSource {
  querySeries(q: { endpointIds: string[]; metrics: string[]; from: number; to: number }): Promise<Series[]>;
}

export interface MetricsStreamOptions extends MetricsStreamBaseOptions {
  connector: SeriesQuerySource;
  tags?: TagFilter;
}

export interface MetricsStreamIOOptions extends MetricsStreamBaseOptions {
  client: IOSeriesSource;
  /** Device UUIDs (proficloud.io endpoint ids). */
  endpointIds: string | string[];
}

function nameList(value: unknown, field: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw new ValidationError(field, value, 'must be a non-empty string or array of strings');
  list.forEach((v, i) => {
    if (typeof v !== 'string' || v.trim() === '') throw new ValidationError(`${field}[${i}]`, v, 'must be a non-empty string');
  });
  return [...(list as string[])];
}

abstract class PollingStream {
  protected metrics: string[];
  private poller: IncrementalPoller;
  private readonly loop: PollLoop;
  private readonly base: MetricsStreamBaseOptions;
  /** The most recent poll failure, cleared by the next success. */
  lastError: unknown;

  constructor(opts: MetricsStreamBaseOptions) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    if (typeof opts.onData !== 'function') throw new ValidationError('onData', opts.onData, 'must be a function');
    if (opts.onError !== undefined && typeof opts.onError !== 'function') throw new ValidationError('onError', opts.onError, 'must be a function');
    this.base = opts;
    this.metrics = nameList(opts.metrics, 'metrics');
    this.poller = this.makePoller(opts.position);
    const onError = opts.onError;
    this.loop = new PollLoop({
      intervalMs: opts.intervalMs,
      run: (signal) => this.runOnce(signal),
      onError: (err) => {
        this.lastError = err;
        onError?.(err);
      },
    });
  }

  protected abstract fetch(range: TimeRange, signal?: AbortSignal): Promise<Series[]>;

  private makePoller(position?: StreamPosition): IncrementalPoller {
    const o = this.base;
    return new IncrementalPoller({
      fetch: (range, signal) => this.fetch(range, signal),
      windowMs: o.windowMs,
      ...(o.overlapMs !== undefined ? { overlapMs: o.overlapMs } : {}),
      ...(o.mode !== undefined ? { mode: o.mode } : {}),
      ...(position !== undefined ? { position } : {}),
      ...(o.now !== undefined ? { now: o.now } : {}),
    });
  }

  private async runOnce(signal?: AbortSignal): Promise<void> {
    const current = this.poller;
    const result = await current.poll(signal);
    // changeMetrics() during the poll: this result describes the old metrics.
    if (signal?.aborted || current !== this.poller) return;
    this.lastError = undefined;
    if (result.points === 0 && this.base.mode !== 'window') return;
    await this.base.onData(result);
  }

  /** Starts polling at once, then every interval. */
  start(): void {
    this.loop.start();
  }

  /** Stops polling and aborts a poll in flight. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One poll outside the loop (onData is called as usual); errors are thrown, not reported. */
  pollOnce(signal?: AbortSignal): Promise<void> {
    return this.runOnce(signal);
  }

  /** The seed's changeInterval. */
  changeInterval(ms: number): void {
    this.loop.changeInterval(ms);
  }

  /** New metrics start from a fresh position: the old one describes other series. */
  changeMetrics(metrics: string | string[]): void {
    this.metrics = nameList(metrics, 'metrics');
    this.poller = this.makePoller();
  }

  get isRunning(): boolean {
    return this.loop.isRunning;
  }

  /** Save this (JSON) and pass it as `position` to resume after a restart. */
  get position(): StreamPosition {
    return this.poller.position;
  }
}

/** The seed's MetricsStream: polls a KairosDB connector for `metrics` over a buffer window. */
export class MetricsStream extends PollingStream {
  private readonly connector: SeriesQuerySource;
  private readonly tags: TagFilter | undefined;

  constructor(opts: MetricsStreamOptions) {
    super(opts);
    if (!opts.connector || typeof opts.connector.querySeries !== 'function') {
      throw new ValidationError('connector', opts.connector, 'must be a KairosConnector (something with querySeries)');
    }
    this.connector = opts.connector;
    this.tags = opts.tags;
  }

  protected fetch(range: TimeRange, signal?: AbortSignal): Promise<Series[]> {
    const q = { metrics: this.metrics, startAbsolute: range.start, endAbsolute: range.end, ...(this.tags ? { tags: this.tags } : {}) };
    return this.connector.querySeries(q, signal);
  }
}

/** The seed's MetricsStreamIO: polls proficloud.io for `metrics` of the devices in `endpointIds`. */
export class MetricsStreamIO extends PollingStream {
  private readonly client: IOSeriesSource;
  private readonly endpointIds: string[];

  constructor(opts: MetricsStreamIOOptions) {
    super(opts);
    if (!opts.client || typeof opts.client.querySeries !== 'function') {
      throw new ValidationError('client', opts.client, 'must be a ProficloudIOMetrics (something with querySeries)');
    }
    this.client = opts.client;
    this.endpointIds = nameList(opts.endpointIds, 'endpointIds');
  }

  protected fetch(range: TimeRange): Promise<Series[]> {
    return this.client.querySeries({ endpointIds: this.endpointIds, metrics: this.metrics, from: range.start, to: range.end });
  }
}
