/**
 * What a stream has emitted inside its late-data horizon, per series and time bucket: the count, the
 * sum of the timestamps and (while a global budget allows) the timestamps themselves.
 *
 * Comparing these counts with the server's per-bucket counts (one small count query) tells which
 * buckets received late points, so only those are fetched again; the timestamps tell which of the
 * fetched points are new. When the budget is exceeded the oldest buckets keep only count and sum:
 * there a bucket with nothing emitted, or exactly one point missing (found by the sum), is still
 * resolved exactly; anything else is reported as unresolved rather than risking a repeat.
 *
 * The JSON form stores timestamps as runs (start, step, count), so regular sampling costs a few
 * numbers per bucket.
 */
import { ValidationError } from '../errors';
import { isPlainObject } from '../util/validate';

interface Bucket {
  n: number;
  /** Sum of (ts - bucket start): exact in a double for any realistic bucket. */
  sum: number;
  /** Sorted timestamps, or null once folded to count and sum. */
  ts: number[] | null;
}

/** JSON form: column → bucket start → [n, sum, runs (flat start, step, count triples) or null]. */
export type EmittedJson = Record<string, Record<string, [number, number, number[] | null]>>;

/**
 * A change to the index, for a journal that is cheaper to persist each poll than the whole index:
 * ['a', column, timestamps] added, ['p', from] pruned, ['s', column, bucket, n, sum] settled.
 */
export type EmittedOp = ['a', string, number[]] | ['p', number] | ['s', string, number, number, number];

export class EmittedIndex {
  readonly bucketMs: number;
  private readonly maxTracked: number;
  private readonly columns = new Map<string, Map<number, Bucket>>();
  private tracked = 0;
  /** Changes since the last takeOps(), while a journal is kept. */
  private ops: EmittedOp[] | undefined;

  constructor(bucketMs: number, maxTracked: number, json?: EmittedJson) {
    this.bucketMs = bucketMs;
    this.maxTracked = maxTracked;
    if (json !== undefined) this.restore(json);
  }

  bucketOf(ts: number): number {
    return Math.floor(ts / this.bucketMs) * this.bucketMs;
  }

  /** Timestamps held exactly (the memory bound applies to this). */
  get trackedTimestamps(): number {
    return this.tracked;
  }

  /** True when `ts` was emitted, or cannot be told (its bucket is folded): never emit then. */
  has(column: string, ts: number): boolean {
    const b = this.columns.get(column)?.get(this.bucketOf(ts));
    if (!b) return false;
    if (b.ts === null) return true;
    return sortedIncludes(b.ts, ts);
  }

  /** Starts keeping the changes for takeOps() (a caller that persists a journal). */
  startJournal(): void {
    this.ops ??= [];
  }

  /** The changes since the last call (empty without a journal). */
  takeOps(): EmittedOp[] {
    const out = this.ops ?? [];
    if (this.ops) this.ops = [];
    return out;
  }

  /** Replays journaled changes onto a restored index, in order. */
  applyOps(ops: EmittedOp[]): void {
    const keep = this.ops;
    this.ops = undefined;
    try {
      for (const op of ops) {
        if (!Array.isArray(op)) throw new ValidationError('journal op', op, 'must be an array');
        if (op[0] === 'a' && typeof op[1] === 'string' && Array.isArray(op[2])) for (const ts of op[2]) this.add(op[1], ts);
        else if (op[0] === 'p' && typeof op[1] === 'number') this.prune(op[1]);
        else if (op[0] === 's' && typeof op[1] === 'string') this.setCounts(op[1], op[2], op[3], op[4]);
        else throw new ValidationError('journal op', op, "must be ['a', column, ts[]], ['p', from] or ['s', column, bucket, n, sum]");
      }
    } finally {
      this.ops = keep;
    }
  }

  /** Records an emitted point. */
  add(column: string, ts: number): void {
    let col = this.columns.get(column);
    if (!col) this.columns.set(column, (col = new Map()));
    const start = this.bucketOf(ts);
    let b = col.get(start);
    if (!b) col.set(start, (b = { n: 0, sum: 0, ts: [] }));
    if (b.ts !== null) {
      if (sortedIncludes(b.ts, ts)) return;
      insertSorted(b.ts, ts);
      this.tracked++;
    }
    b.n++;
    b.sum += ts - start;
    if (this.ops) {
      const last = this.ops[this.ops.length - 1];
      if (last && last[0] === 'a' && last[1] === column) last[2].push(ts);
      else this.ops.push(['a', column, [ts]]);
    }
  }

  count(column: string, bucket: number): number {
    return this.columns.get(column)?.get(bucket)?.n ?? 0;
  }

  /**
   * Which points of a re-fetched bucket are new: all when the bucket was empty; those not recorded
   * when it holds timestamps; for a folded bucket, the one point the sum identifies when exactly one
   * is missing. `unresolved` counts the missing points that could not be told apart.
   */
  newIn(column: string, bucket: number, fetched: number[]): { fresh: number[]; unresolved: number } {
    const b = this.columns.get(column)?.get(bucket);
    if (!b || b.n === 0) return { fresh: fetched, unresolved: 0 };
    if (b.ts !== null) return { fresh: fetched.filter((ts) => !sortedIncludes(b.ts!, ts)), unresolved: 0 };
    const missing = fetched.length - b.n;
    if (missing <= 0) return { fresh: [], unresolved: 0 };
    if (missing === 1) {
      let total = 0;
      for (const ts of fetched) total += ts - bucket;
      const ts = bucket + (total - b.sum);
      if (fetched.includes(ts)) return { fresh: [ts], unresolved: 0 };
    }
    return { fresh: [], unresolved: missing };
  }

  /** A counts-only bucket whose difference could not be resolved: take the server's points as the new count, so it is reported once. */
  settle(column: string, bucket: number, fetched: number[]): void {
    const b = this.columns.get(column)?.get(bucket);
    if (!b || b.ts !== null) return;
    this.setCounts(column, bucket, fetched.length, fetched.reduce((s, ts) => s + (ts - bucket), 0));
  }

  private setCounts(column: string, bucket: number, n: number, sum: number): void {
    const b = this.columns.get(column)?.get(bucket);
    if (!b || b.ts !== null) return;
    b.n = n;
    b.sum = sum;
    this.ops?.push(['s', column, bucket, n, sum]);
  }

  /** Forgets buckets that ended before `from`, then folds the oldest buckets while over the budget. */
  prune(from: number): void {
    this.ops?.push(['p', from]);
    for (const [column, col] of this.columns) {
      for (const [start, b] of col) {
        if (start + this.bucketMs <= from) {
          if (b.ts) this.tracked -= b.ts.length;
          col.delete(start);
        }
      }
      if (col.size === 0) this.columns.delete(column);
    }
    if (this.tracked <= this.maxTracked) return;
    const all: Array<[number, Bucket]> = [];
    for (const col of this.columns.values()) for (const [start, b] of col) if (b.ts) all.push([start, b]);
    all.sort((a, b) => a[0] - b[0]);
    for (const [, b] of all) {
      if (this.tracked <= this.maxTracked) break;
      this.tracked -= b.ts!.length;
      b.ts = null;
    }
  }

  toJSON(): EmittedJson {
    const out: EmittedJson = {};
    for (const [column, col] of this.columns) {
      const o: Record<string, [number, number, number[] | null]> = {};
      for (const [start, b] of col) o[String(start)] = [b.n, b.sum, b.ts ? encodeRuns(b.ts) : null];
      out[column] = o;
    }
    return out;
  }

  private restore(json: EmittedJson): void {
    if (!isPlainObject(json)) throw new ValidationError('position.emitted', json, 'must be an object');
    for (const [column, col] of Object.entries(json)) {
      const m = new Map<number, Bucket>();
      for (const [key, v] of Object.entries(col ?? {})) {
        const start = Number(key);
        const field = `position.emitted[${JSON.stringify(column)}][${key}]`;
        if (!Number.isFinite(start) || !Array.isArray(v) || typeof v[0] !== 'number' || typeof v[1] !== 'number' || !(v[2] === null || Array.isArray(v[2]))) {
          throw new ValidationError(field, v, 'must be [count, sum, runs or null]');
        }
        const ts = v[2] === null ? null : decodeRuns(v[2], field);
        if (ts) this.tracked += ts.length;
        m.set(start, { n: v[0], sum: v[1], ts });
      }
      this.columns.set(column, m);
    }
  }
}

/** Binary search in ascending timestamps. */
export function sortedIncludes(sorted: number[], x: number): boolean {
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

function insertSorted(sorted: number[], x: number): void {
  // Appends in time order are the common case.
  if (sorted.length === 0 || sorted[sorted.length - 1] < x) {
    sorted.push(x);
    return;
  }
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  sorted.splice(lo, 0, x);
}

/** Sorted timestamps as flat (start, step, count) triples. */
export function encodeRuns(sorted: number[]): number[] {
  const out: number[] = [];
  let i = 0;
  while (i < sorted.length) {
    const start = sorted[i];
    if (i + 1 === sorted.length) {
      out.push(start, 0, 1);
      break;
    }
    const step = sorted[i + 1] - start;
    let n = 2;
    while (i + n < sorted.length && sorted[i + n] - sorted[i + n - 1] === step) n++;
    out.push(start, step, n);
    i += n;
  }
  return out;
}

export function decodeRuns(runs: number[], field = 'runs'): number[] {
  if (runs.length % 3 !== 0 || runs.some((x) => typeof x !== 'number' || !Number.isFinite(x))) {
    throw new ValidationError(field, runs, 'must hold (start, step, count) number triples');
  }
  const out: number[] = [];
  for (let i = 0; i < runs.length; i += 3) for (let k = 0; k < runs[i + 2]; k++) out.push(runs[i] + k * runs[i + 1]);
  return out;
}
