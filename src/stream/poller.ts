/**
 * Incremental streaming over a query API that only answers "points in [start, end]".
 *
 * IncrementalPoller turns repeated range queries into a stream that emits each point once, tolerating
 * points that arrive late (up to `overlapMs` behind the newest point of their series) and surviving a
 * restart through a small JSON position. No Node-RED imports.
 */
import { ValidationError } from '../errors';
import type { PointValue, Series } from '../types';
import { abortError, nonNegativeInteger, positiveInteger } from './checks';

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
