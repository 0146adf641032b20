/**
 * The local server's in-memory time-series store. A series is (metric, sorted tag set, stored
 * type), as in KairosDB, holding a timestamp-sorted pair of arrays. Appends in time order are the
 * common case and cost a push; anything else marks the series unsorted and it is sorted (last write
 * wins on equal timestamps) on the next read.
 */
import type { Points, StoredType } from './point-types';
import { stableTimeOrder } from '../util/time-order';

export type TagMap = Record<string, string>;

export interface Series {
  readonly metric: string;
  /** Tag names in sorted order; the object's key order is that order. */
  readonly tags: TagMap;
  readonly type: StoredType;
  /** `name=value` pairs joined, the series' identity within its metric and type. */
  readonly key: string;
  ts: number[];
  vs: Array<number | string>;
  /** False after an out-of-order or duplicate append, until normalize() runs. */
  sorted: boolean;
  /**
   * Exact decimal text of long values beyond 2^53, by timestamp: `vs` holds the nearest double
   * (what aggregators compute with) and raw query output prints this text, as KairosDB does.
   */
  exact?: Map<number, string>;
}

/**
 * One series' share of a write: what the write-ahead log records. In a long series a string value
 * is the exact decimal text of a long too large for a JS number.
 */
export interface SeriesWrite {
  metric: string;
  tags: TagMap;
  type: StoredType;
  ts: number[];
  vs: Array<number | string>;
}

export function sortedTags(tags: TagMap): TagMap {
  return Object.fromEntries(Object.keys(tags).sort().map((n) => [n, tags[n]]));
}

export function tagKey(sorted: TagMap): string {
  let k = '';
  for (const n in sorted) k += n + '\u0000' + sorted[n] + '\u0001';
  return k;
}

export class Store {
  private readonly metrics = new Map<string, Map<string, Series>>();

  /** Finds or creates a series. `tags` need not be sorted. */
  series(metric: string, tags: TagMap, type: StoredType): Series {
    let byKey = this.metrics.get(metric);
    if (!byKey) {
      byKey = new Map();
      this.metrics.set(metric, byKey);
    }
    const sorted = sortedTags(tags);
    const key = type + '\u0002' + tagKey(sorted);
    let s = byKey.get(key);
    if (!s) {
      s = { metric, tags: sorted, type, key, ts: [], vs: [], sorted: true };
      byKey.set(key, s);
    }
    return s;
  }

  append(s: Series, t: number, v: number | string): void {
    const n = s.ts.length;
    if (n > 0 && t <= s.ts[n - 1]) s.sorted = false;
    s.ts.push(t);
    if (s.type === 'long' && typeof v === 'string') {
      (s.exact ??= new Map()).set(t, v);
      s.vs.push(Number(v));
    } else {
      // A later write at the same timestamp replaces an exact value too.
      if (s.exact) s.exact.delete(t);
      s.vs.push(v);
    }
  }

  /** Values as the log and snapshot keep them: exact text for oversized longs. */
  loggedValues(s: Series): Array<number | string> {
    const exact = s.exact;
    if (!exact || exact.size === 0) return s.vs;
    return s.vs.map((v, i) => exact.get(s.ts[i]) ?? v);
  }

  write(w: SeriesWrite): void {
    const s = this.series(w.metric, w.tags, w.type);
    for (let i = 0; i < w.ts.length; i++) this.append(s, w.ts[i], w.vs[i]);
  }

  /** Sorts by time, keeping the last written value of equal timestamps. */
  normalize(s: Series): void {
    if (s.sorted) return;
    const n = s.ts.length;
    const ts = s.ts;
    const idx = stableTimeOrder(ts);
    const outT: number[] = [];
    const outV: Array<number | string> = [];
    for (let j = 0; j < n; j++) {
      const i = idx[j];
      const last = outT.length - 1;
      if (last >= 0 && outT[last] === ts[i]) outV[last] = s.vs[i];
      else {
        outT.push(ts[i]);
        outV.push(s.vs[i]);
      }
    }
    s.ts = outT;
    s.vs = outV;
    s.sorted = true;
  }

  /** Every series of a metric with at least one point, in tag-key order (stable merge order). */
  seriesOf(metric: string): Series[] {
    const byKey = this.metrics.get(metric);
    if (!byKey) return [];
    const out: Series[] = [];
    for (const s of byKey.values()) if (s.ts.length > 0) out.push(s);
    out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return out;
  }

  allSeries(): Series[] {
    const out: Series[] = [];
    for (const byKey of this.metrics.values()) for (const s of byKey.values()) if (s.ts.length > 0) out.push(s);
    return out;
  }

  /** Names of metrics that hold points (KairosDB on H2 drops a name with its last point). */
  metricNames(): string[] {
    const out: string[] = [];
    for (const [name, byKey] of this.metrics) {
      for (const s of byKey.values()) {
        if (s.ts.length > 0) {
          out.push(name);
          break;
        }
      }
    }
    return out.sort();
  }

  /** The [lo, hi) index range of a normalized series inside [start, end] (inclusive). */
  range(s: Series, start: number, end: number): [number, number] {
    this.normalize(s);
    return [lowerBound(s.ts, start), upperBound(s.ts, end)];
  }

  points(s: Series, start: number, end: number): Points {
    const [lo, hi] = this.range(s, start, end);
    return { ts: s.ts.slice(lo, hi), vs: s.vs.slice(lo, hi) };
  }

  /** Removes a series' points in [start, end]; returns how many went. */
  deleteRange(s: Series, start: number, end: number): number {
    const [lo, hi] = this.range(s, start, end);
    if (hi <= lo) return 0;
    if (s.exact) for (let i = lo; i < hi; i++) s.exact.delete(s.ts[i]);
    s.ts.splice(lo, hi - lo);
    s.vs.splice(lo, hi - lo);
    return hi - lo;
  }

  deleteMetric(metric: string): boolean {
    return this.metrics.delete(metric);
  }

  pointCount(): number {
    let n = 0;
    for (const s of this.allSeries()) n += s.ts.length;
    return n;
  }
}

/** Binary search in sorted timestamps: the first index whose value is >= x, or > x when `past` is set. */
function searchSorted(a: number[], x: number, past: boolean): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (a[mid] < x || (past && a[mid] === x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function lowerBound(a: number[], x: number): number {
  return searchSorted(a, x, false);
}

export function upperBound(a: number[], x: number): number {
  return searchSorted(a, x, true);
}
