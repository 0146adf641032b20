/**
 * Incremental streaming over a query API that only answers "points in [start, end]".
 *
 * IncrementalPoller turns repeated range queries into a stream that emits each point once, tolerating
 * points that arrive late (up to `overlapMs` behind the newest point of their series) and surviving a
 * restart through a small JSON position. No Node-RED imports.
 */
import { ValidationError } from '../errors';
import type { PointValue, Series } from '../types';
import { isPlainObject, nonNegativeInt, positiveInt, positiveIntOrDefault } from '../util/validate';
import { EmittedIndex, sortedIncludes, type EmittedJson, type EmittedOp } from './emitted';

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
  /** 1: series only (no late-data bookkeeping); 2: with the late-data horizon's bookkeeping. */
  version: 1 | 2;
  series: Record<string, SeriesPosition>;
  /** Version 2: what was emitted inside the horizon, per series and bucket (see EmittedIndex). */
  emitted?: EmittedJson;
  /** Version 2: the bucket size of `emitted`, ms. */
  bucketMs?: number;
  /** Version 2: late points older than this were never the stream's (it started later). */
  trackedFrom?: number;
}

export type StreamMode = 'incremental' | 'window';

/**
 * What changed since the last takeDelta(): the series positions (small) and the late-data bookkeeping's
 * changes (proportional to the points emitted), for a journal that is cheaper than the whole position.
 */
export interface PositionDelta {
  series: Record<string, SeriesPosition>;
  trackedFrom?: number;
  ops: EmittedOp[];
  /** The bookkeeping was started anew since the last snapshot: write a whole position instead. */
  needsSnapshot?: boolean;
}

/** Points per series per bucket in a range, as a count aggregator with aligned sampling answers. */
export type CountFetch = (range: TimeRange, bucketMs: number, signal?: AbortSignal) => Promise<Map<string, Map<number, number>>>;

export interface IncrementalPollerOptions {
  fetch: SeriesFetch;
  /** Buffer window: the oldest data a poll ever asks for is `now - windowMs`. */
  windowMs: number;
  /** How far behind the newest point of a series a late point may arrive and still be found by the regular poll. Default 2000 (at most windowMs). */
  overlapMs?: number;
  /** 'window' emits the whole window on every poll (the seed's behaviour). Default 'incremental'. */
  mode?: StreamMode;
  position?: StreamPosition;
  now?: () => number;
  /** Bound on remembered timestamps per series; beyond it the oldest are folded into `floor`. Default 10000. */
  maxSeenPerSeries?: number;
  /**
   * Late-data horizon, ms (at most 7 days): points that arrive later than the overlap but whose
   * timestamp is within this of now are still emitted, once, as `late`. Needs `count`. Default 0 (off).
   */
  horizonMs?: number;
  /** Per-bucket counts over the horizon; compared with what was emitted to find buckets with late points. */
  count?: CountFetch;
  /** Bucket size of the late-data check. Default horizon / 60, whole seconds, at least 1 s. */
  bucketMs?: number;
  /** How often the late-data check runs (it also runs right after a start). Default 30000. */
  checkEveryMs?: number;
  /** Timestamps kept exactly for the horizon, over all series; beyond it old buckets keep counts only. Default 200000. */
  maxTracked?: number;
  /** Points one poll emits at most (catch-up continues on the next poll, `more` is set). Default 100000. */
  maxPoints?: number;
}

export interface PollOptions {
  signal?: AbortSignal;
  /** Ask for the whole window and return it in `window` too (a chart that must be replaced). */
  full?: boolean;
}

export interface PollResult {
  /** Per series, only points not emitted before and newer than any emitted one of their series, ascending (window mode: all). */
  series: Series[];
  /** Points not emitted before that are older than an already emitted point of their series, ascending per series. */
  late: Series[];
  /** Number of points in `series` plus `late`. */
  points: number;
  /** Number of points in `late`. */
  latePoints: number;
  /** Missing points the late check found but could not tell apart from emitted ones (counts-only buckets). */
  unresolved: number;
  /** Set when the late check failed (the regular poll still counted); it is retried at the next check. */
  lateError?: unknown;
  /** True when this poll stopped at maxPoints or a shortened range: poll again soon to catch up. */
  more: boolean;
  /** With `full`: every point in the window, per series, ascending. */
  window?: Series[];
  position: StreamPosition;
  /** The range that was asked for. */
  range: TimeRange;
}

const DEFAULT_OVERLAP_MS = 2000;
const DEFAULT_MAX_SEEN = 10000;
export const MAX_HORIZON_MS = 7 * 24 * 3600_000;
const DEFAULT_CHECK_EVERY_MS = 30_000;
const DEFAULT_MAX_TRACKED = 200_000;
export const DEFAULT_MAX_POINTS = 100_000;
/** Ranges longer than this are counted first, so a catch-up fetch stays near maxPoints. */
const COUNT_FIRST_MS = 60_000;

type Point = [number, PointValue];

export class IncrementalPoller {
  private readonly fetchSeries: SeriesFetch;
  private readonly windowMs: number;
  private readonly overlapMs: number;
  private readonly mode: StreamMode;
  private readonly now: () => number;
  private readonly maxSeen: number;
  private readonly horizonMs: number;
  private readonly countFetch: CountFetch | undefined;
  private readonly bucketMs: number;
  private readonly checkEveryMs: number;
  private readonly maxPoints: number;
  private readonly maxTracked: number;
  private state: Map<string, SeriesPosition>;
  private index: EmittedIndex | undefined;
  private trackedFrom: number | undefined;
  private lastCheck = -Infinity;
  private journaling = false;
  private needsSnapshot = false;
  /** Longest range a catch-up poll asks for after a poll was cut; undefined when caught up. */
  private rangeCapMs: number | undefined;
  /** Serialises poll() so two concurrent calls cannot both emit the same point. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: IncrementalPollerOptions) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    if (typeof opts.fetch !== 'function') throw new ValidationError('fetch', opts.fetch, 'must be a function');
    this.fetchSeries = opts.fetch;
    this.windowMs = positiveInt(opts.windowMs, 'windowMs');
    this.overlapMs =
      opts.overlapMs === undefined ? Math.min(DEFAULT_OVERLAP_MS, this.windowMs) : nonNegativeInt(opts.overlapMs, 'overlapMs');
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
    this.maxSeen = positiveIntOrDefault(opts.maxSeenPerSeries, 'maxSeenPerSeries', DEFAULT_MAX_SEEN);
    this.horizonMs = opts.horizonMs === undefined ? 0 : nonNegativeInt(opts.horizonMs, 'horizonMs');
    if (this.horizonMs > MAX_HORIZON_MS) throw new ValidationError('horizonMs', opts.horizonMs, `must be at most 7 days (${MAX_HORIZON_MS} ms)`);
    if (opts.count !== undefined && typeof opts.count !== 'function') throw new ValidationError('count', opts.count, 'must be a function');
    this.countFetch = opts.count;
    if (this.horizonMs > 0 && !this.countFetch) throw new ValidationError('count', opts.count, 'is needed for a late-data horizon (horizonMs > 0)');
    this.bucketMs =
      opts.bucketMs === undefined ? Math.max(1000, Math.floor(this.horizonMs / 60 / 1000) * 1000) : positiveInt(opts.bucketMs, 'bucketMs');
    this.checkEveryMs = opts.checkEveryMs === undefined ? DEFAULT_CHECK_EVERY_MS : nonNegativeInt(opts.checkEveryMs, 'checkEveryMs');
    this.maxTracked = positiveIntOrDefault(opts.maxTracked, 'maxTracked', DEFAULT_MAX_TRACKED);
    this.maxPoints = positiveIntOrDefault(opts.maxPoints, 'maxPoints', DEFAULT_MAX_POINTS);
    this.state = new Map();
    if (opts.position !== undefined) {
      this.state = parsePosition(opts.position);
      const p = opts.position;
      if (this.horizonMs > 0 && this.mode === 'incremental') {
        if (p.version === 2 && p.emitted && p.bucketMs === this.bucketMs && typeof p.trackedFrom === 'number') {
          this.index = new EmittedIndex(this.bucketMs, this.maxTracked, p.emitted);
          this.trackedFrom = p.trackedFrom;
        } else {
          // No bookkeeping to compare with: what came before now counts as handled.
          this.index = new EmittedIndex(this.bucketMs, this.maxTracked);
          this.trackedFrom = Math.floor(this.now());
        }
      }
    }
  }

  /** A copy of the current position; safe to JSON.stringify and keep. */
  get position(): StreamPosition {
    return this.snapshot(this.state);
  }

  /**
   * Keeps the changes for takeDelta() from now on. A caller that persists `position` now and then and
   * each poll's delta in between (a journal) writes little per poll even with a long horizon.
   */
  startJournal(): void {
    this.journaling = true;
    this.index?.startJournal();
  }

  /** The changes since the last call (or since `position` was saved, if the caller discards this one then). */
  takeDelta(): PositionDelta {
    const d: PositionDelta = { series: snapshot(this.state).series, ops: this.index?.takeOps() ?? [] };
    if (this.trackedFrom !== undefined) d.trackedFrom = this.trackedFrom;
    if (this.needsSnapshot) d.needsSnapshot = true;
    this.needsSnapshot = false;
    return d;
  }

  /** Applies journaled deltas, in order, onto the position this poller was constructed with. */
  replay(deltas: PositionDelta[]): void {
    if (deltas.length === 0) return;
    for (const d of deltas) this.index?.applyOps(Array.isArray(d.ops) ? d.ops : []);
    const last = deltas[deltas.length - 1];
    this.state = parsePosition({ version: 1, series: last.series });
    if (typeof last.trackedFrom === 'number') this.trackedFrom = last.trackedFrom;
  }

  /** Timestamps the late-data bookkeeping holds exactly (bounded by maxTracked). */
  get trackedTimestamps(): number {
    return this.index?.trackedTimestamps ?? 0;
  }

  /** Forget everything emitted: the next poll starts from the full window again. */
  reset(): void {
    this.needsSnapshot = true;
    this.state = new Map();
    this.index = undefined;
    this.trackedFrom = undefined;
    this.lastCheck = -Infinity;
    this.rangeCapMs = undefined;
  }

  /**
   * Asks for the next range and returns what has not been emitted yet. The position only moves when the
   * fetch succeeds, so a failed or aborted poll can simply be repeated.
   */
  poll(arg?: AbortSignal | PollOptions): Promise<PollResult> {
    const opts: PollOptions = arg === undefined ? {} : isSignal(arg) ? { signal: arg } : arg;
    const run = this.queue.then(() => this.pollNow(opts));
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

  private async pollNow(opts: PollOptions): Promise<PollResult> {
    const { signal } = opts;
    if (signal?.aborted) throw abortError(signal);
    const nowRaw = this.now();
    if (!Number.isFinite(nowRaw)) throw new ValidationError('now()', nowRaw, 'must return finite epoch milliseconds');
    const now = Math.floor(nowRaw);
    const full = opts.full === true || this.mode === 'window';
    const range = full ? { start: now - this.windowMs, end: now } : this.nextRange(now);
    let more = false;
    if (!full && this.mode === 'incremental') {
      const end = await this.boundedEnd(range, signal);
      if (end < range.end) {
        range.end = end;
        more = true;
      }
    }
    const fetched = await this.fetchSeries({ ...range }, signal);
    if (!Array.isArray(fetched)) throw new ValidationError('fetch result', fetched, 'must be an array of series');

    // Work on copies so that a malformed series leaves the position untouched.
    const next = cloneState(this.state);
    const tracking = this.horizonMs > 0 && this.mode === 'incremental';
    if (tracking && this.index === undefined) {
      this.index = new EmittedIndex(this.bucketMs, this.maxTracked);
      this.trackedFrom = range.start;
      if (this.journaling) {
        this.index.startJournal();
        this.needsSnapshot = true;
      }
    }
    const lateFrom = tracking ? Math.max(this.trackedFrom ?? now, now - this.horizonMs) : Infinity;
    const rows: Array<{ s: Series; column: string; values: Point[]; fresh: Point[]; late: Point[] }> = [];
    for (const s of fetched) {
      const values = inRangeAscending(s, range);
      const column = s.column ?? s.name;
      const pos = next.get(column);
      const fresh: Point[] = [];
      const late: Point[] = [];
      if (this.mode === 'window') {
        fresh.push(...values);
      } else {
        for (const p of values) {
          const ts = p[0];
          if (!pos) {
            // A series the position forgot (silent for a window) may still have late points on record.
            if (!(tracking && this.index!.has(column, ts))) fresh.push(p);
          } else if (isNew(pos, ts)) (ts < pos.last ? late : fresh).push(p);
          else if (tracking && ts >= lateFrom && ts <= (pos.floor ?? -Infinity) && !this.index!.has(column, ts)) late.push(p);
        }
      }
      rows.push({ s, column, values, fresh, late });
    }
    // Bounded catch-up: emit up to maxPoints, oldest first, and leave the rest (still new) for the next poll.
    const total = rows.reduce((n, r) => n + r.fresh.length + r.late.length, 0);
    let cut = Infinity;
    let spanMs = 0;
    // A full poll hands the whole window on (a chart replacement, sent in pieces), so it is not cut.
    if (this.mode === 'incremental' && !opts.full && total > this.maxPoints) {
      const all = rows.flatMap((r) => [...r.fresh, ...r.late].map((p) => p[0])).sort((a, b) => a - b);
      // Points at the cut timestamp go together, so a row is never split.
      cut = all[this.maxPoints - 1];
      // The time maxPoints took here sizes the next ranges.
      spanMs = cut - all[0];
      more = true;
    }
    const out: Series[] = [];
    const lateOut: Series[] = [];
    const windowOut: Series[] = [];
    let points = 0;
    let latePoints = 0;
    const added: Array<[string, number]> = [];
    for (const r of rows) {
      const fresh = cut === Infinity ? r.fresh : r.fresh.filter((p) => p[0] <= cut);
      const late = cut === Infinity ? r.late : r.late.filter((p) => p[0] <= cut);
      const kept = cut === Infinity ? r.values : r.values.filter((p) => p[0] <= cut);
      const pos = next.get(r.column);
      if (kept.length > 0) next.set(r.column, this.advance(pos, kept));
      if (this.mode === 'window' || fresh.length > 0) {
        out.push({ ...r.s, column: r.column, values: fresh });
        points += fresh.length;
      }
      if (late.length > 0) {
        lateOut.push({ ...r.s, column: r.column, values: late });
        latePoints += late.length;
      }
      if (opts.full) windowOut.push({ ...r.s, column: r.column, values: r.values });
      if (tracking) for (const p of [...fresh, ...late]) added.push([r.column, p[0]]);
    }
    if (cut !== Infinity) this.rangeCapMs = Math.max(1000, spanMs);
    else if (!more) this.rangeCapMs = undefined;
    // A shortened range that came back light: take longer steps so sparse data does not crawl.
    else if (this.rangeCapMs !== undefined && total < this.maxPoints / 4) this.rangeCapMs *= 2;
    this.prune(next, range.end);
    // The position is filled in when the poll commits (below).
    const result: PollResult = { series: out, late: lateOut, points: points + latePoints, latePoints, unresolved: 0, more, position: { version: 1, series: {} }, range };
    if (opts.full) result.window = windowOut;
    let commitLate: (() => void) | undefined;
    if (tracking && !more && now - this.lastCheck >= this.checkEveryMs) commitLate = await this.checkLate(now, range, result, next, added, signal);
    // Nothing moves before the last await: a poll aborted by stop() (its result is never sent) leaves
    // the position as it was, so its points come with the next poll instead of being lost.
    if (signal?.aborted) throw abortError(signal);
    this.state = next;
    if (tracking) {
      for (const [c, ts] of added) this.index!.add(c, ts);
      commitLate?.();
      this.index!.prune(now - this.horizonMs);
    }
    result.position = this.snapshot(next);
    return result;
  }

  /**
   * The end of a catch-up range: shortened after a cut poll, or when a count of a long range says it
   * holds more than maxPoints (so one fetch stays near the budget).
   */
  private async boundedEnd(range: TimeRange, signal?: AbortSignal): Promise<number> {
    // The range starts an overlap before the oldest series' newest point; the cap counts from there.
    if (this.rangeCapMs !== undefined) return Math.min(range.end, range.start + this.overlapMs + this.rangeCapMs);
    if (!this.countFetch || range.end - range.start <= COUNT_FIRST_MS) return range.end;
    const bucketMs = Math.max(1000, Math.ceil((range.end - range.start + 1) / 20 / 1000) * 1000);
    let counts: Map<string, Map<number, number>>;
    try {
      counts = await this.countFetch({ ...range }, bucketMs, signal);
    } catch {
      // Counting is an optimisation here; the fetch itself reports a real problem.
      return range.end;
    }
    const perBucket = new Map<number, number>();
    for (const m of counts.values()) for (const [b, n] of m) perBucket.set(b, (perBucket.get(b) ?? 0) + n);
    let sum = 0;
    const starts = [...perBucket.keys()].sort((x, y) => x - y);
    for (let i = 0; i < starts.length; i++) {
      sum += perBucket.get(starts[i])!;
      if (sum <= this.maxPoints) continue;
      // Up to the bucket before the one that overflows; the first bucket alone is cut by maxPoints.
      const end = i === 0 ? starts[0] + bucketMs - 1 : starts[i] - 1;
      return Math.max(range.start, Math.min(range.end, end));
    }
    return range.end;
  }

  /**
   * The late-data check: the server's per-bucket counts over the horizon against what was emitted;
   * buckets with more points on the server are fetched again and their new points added to `late`.
   * Only buckets the regular poll has passed (at or before each series' floor) are compared.
   * It changes nothing itself: `state` and `pending` are the poll's uncommitted position and points,
   * and the returned function records what the check found once the poll commits.
   */
  private async checkLate(
    now: number,
    range: TimeRange,
    result: PollResult,
    state: Map<string, SeriesPosition>,
    pending: Array<[string, number]>,
    signal?: AbortSignal,
  ): Promise<(() => void) | undefined> {
    const index = this.index!;
    const b = this.bucketMs;
    const from = Math.ceil(Math.max(this.trackedFrom ?? now, now - this.horizonMs) / b) * b;
    const commit: Array<() => void> = [];
    const done = (): (() => void) => () => commit.forEach((f) => f());
    if (from >= now) {
      commit.push(() => (this.lastCheck = now));
      return done();
    }
    // This poll's points, not yet in the index: counted as emitted, never found as late.
    const pendingTs = new Map<string, Set<number>>();
    const pendingCount = new Map<string, number>();
    for (const [c, ts] of pending) {
      let set = pendingTs.get(c);
      if (!set) pendingTs.set(c, (set = new Set()));
      set.add(ts);
      const k = `${c}\u0000${index.bucketOf(ts)}`;
      pendingCount.set(k, (pendingCount.get(k) ?? 0) + 1);
    }
    const emittedIn = (column: string, bucket: number): number => index.count(column, bucket) + (pendingCount.get(`${column}\u0000${bucket}`) ?? 0);
    try {
      const counts = await this.countFetch!({ start: from, end: now }, b, signal);
      const changed: Array<{ column: string; bucket: number; n: number }> = [];
      // Per series, points at or before this are the check's: later ones are the regular poll's.
      const limits = new Map<string, number>();
      for (const [column, perBucket] of counts) {
        const pos = state.get(column);
        const limit = pos ? (pos.floor ?? -Infinity) : range.start - 1;
        limits.set(column, limit);
        for (const [bucket, n] of perBucket) {
          // The bucket holding the limit counts too (its points after the limit were emitted by the regular poll just now).
          if (bucket < from || bucket > limit) continue;
          if (n > emittedIn(column, bucket)) changed.push({ column, bucket, n });
        }
      }
      if (changed.length === 0) {
        commit.push(() => (this.lastCheck = now));
        return done();
      }
      changed.sort((x, y) => x.bucket - y.bucket);
      // Within the point budget: the oldest changed buckets now, the rest on the next poll.
      let budget = Math.max(0, this.maxPoints - result.points);
      const take: typeof changed = [];
      for (const c of changed) {
        if (take.length > 0 && c.n > budget) break;
        take.push(c);
        budget -= c.n;
      }
      if (take.length < changed.length) result.more = true;
      else commit.push(() => (this.lastCheck = now));
      const wanted = new Map<string, Set<number>>();
      for (const c of take) {
        let set = wanted.get(c.column);
        if (!set) wanted.set(c.column, (set = new Set()));
        set.add(c.bucket);
      }
      // Contiguous runs of wanted buckets become one fetch each.
      const buckets = [...new Set(take.map((c) => c.bucket))].sort((x, y) => x - y);
      const lateBy = new Map<string, { s: Series; points: Point[] }>();
      for (let i = 0; i < buckets.length; ) {
        let j = i;
        while (j + 1 < buckets.length && buckets[j + 1] === buckets[j] + b) j++;
        const fetched = await this.fetchSeries({ start: buckets[i], end: buckets[j] + b - 1 }, signal);
        if (!Array.isArray(fetched)) throw new ValidationError('fetch result', fetched, 'must be an array of series');
        for (const s of fetched) {
          const column = s.column ?? s.name;
          const set = wanted.get(column);
          if (!set) continue;
          const byBucket = new Map<number, Point[]>();
          const mine = pendingTs.get(column);
          for (const p of inRangeAscending(s, { start: buckets[i], end: buckets[j] + b - 1 })) {
            if (mine?.has(p[0])) continue;
            const bk = index.bucketOf(p[0]);
            if (!set.has(bk)) continue;
            let list = byBucket.get(bk);
            if (!list) byBucket.set(bk, (list = []));
            list.push(p);
          }
          for (const [bk, pts] of byBucket) {
            const limit = limits.get(column) ?? -Infinity;
            const found = index.newIn(column, bk, pts.map((p) => p[0]));
            const fresh = found.fresh.filter((ts) => ts <= limit);
            // A bucket the regular poll is still in: what is missing after the limit is its business.
            if (bk + b - 1 <= limit && found.unresolved > 0) {
              result.unresolved += found.unresolved;
              // Reported once: the bucket now counts as what the server holds.
              const all = [...pts.map((p) => p[0]), ...[...(mine ?? [])].filter((ts) => index.bucketOf(ts) === bk)];
              commit.push(() => index.settle(column, bk, all));
            }
            if (fresh.length === 0) continue;
            const keep = new Set(fresh);
            let entry = lateBy.get(column);
            if (!entry) lateBy.set(column, (entry = { s, points: [] }));
            for (const p of pts) if (keep.has(p[0])) entry.points.push(p);
          }
        }
        i = j + 1;
      }
      for (const [column, { s, points }] of lateBy) {
        commit.push(() => points.forEach((p) => index.add(column, p[0])));
        const existing = result.late.find((x) => x.column === column);
        if (existing) {
          existing.values = [...existing.values, ...points].sort((x, y) => x[0] - y[0]);
        } else {
          result.late.push({ ...s, column, values: points });
        }
        result.latePoints += points.length;
        result.points += points.length;
      }
      return done();
    } catch (err) {
      if (signal?.aborted) throw err;
      result.lateError = err;
      // Retried at the next check, not on every poll: a server that refuses the count is not asked twice as often.
      return () => (this.lastCheck = now);
    }
  }

  private snapshot(state: Map<string, SeriesPosition>): StreamPosition {
    const p = snapshot(state);
    if (!this.index) return p;
    return { ...p, version: 2, emitted: this.index.toJSON(), bucketMs: this.bucketMs, trackedFrom: this.trackedFrom };
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

/** What a poll stopped by its signal throws: the abort reason, so callers can tell it from a failure. */
function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('poll aborted');
}

function isSignal(x: unknown): x is AbortSignal {
  return typeof x === 'object' && x !== null && 'aborted' in x && typeof (x as AbortSignal).addEventListener === 'function';
}

function isNew(pos: SeriesPosition, ts: number): boolean {
  if (ts > pos.last) return true;
  if (pos.floor !== undefined && ts <= pos.floor) return false;
  return !sortedIncludes(pos.seen, ts);
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
  if (!isPlainObject(position)) {
    throw new ValidationError('position', position, 'must be an object saved from IncrementalPoller.position');
  }
  const p = position as Partial<StreamPosition>;
  if (p.version !== 1 && p.version !== 2) throw new ValidationError('position.version', p.version, 'must be 1 or 2');
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
