/**
 * A simulated KairosDB for stream tests on a simulated clock: every point has the time it becomes
 * visible to queries (ingest is asynchronous and not atomic), queries see only what is visible at
 * the clock's time, and ranges include both ends as KairosDB's do. Counting queries answer per
 * bucket, like a count aggregator with sampling aligned to the bucket size.
 */
import type { TimeRange } from '../../src/stream';
import type { PointValue, Series } from '../../src/types';

export interface SimPoint {
  ts: number;
  value: PointValue;
  visibleAt: number;
}

export class SimDb {
  readonly data = new Map<string, SimPoint[]>();
  clock = 0;
  fetches = 0;
  /** Points each raw fetch returned, in order. */
  fetchedPoints: number[] = [];
  failing: Error | undefined;

  add(column: string, ts: number, value: PointValue, visibleAt: number): void {
    let list = this.data.get(column);
    if (!list) this.data.set(column, (list = []));
    // Last write wins for one timestamp, as on KairosDB.
    const i = list.findIndex((p) => p.ts === ts);
    if (i >= 0) list.splice(i, 1);
    list.push({ ts, value, visibleAt });
  }

  /** Every point of every column, visible or not. */
  all(): Array<{ column: string; ts: number; value: PointValue }> {
    return [...this.data].flatMap(([column, list]) => list.map((p) => ({ column, ts: p.ts, value: p.value })));
  }

  fetch = async (range: TimeRange): Promise<Series[]> => {
    this.fetches++;
    if (this.failing) throw this.failing;
    const out: Series[] = [];
    for (const [column, list] of this.data) {
      const values = list
        .filter((p) => p.visibleAt <= this.clock && p.ts >= range.start && p.ts <= range.end)
        .sort((a, b) => a.ts - b.ts)
        .map((p): [number, PointValue] => [p.ts, p.value]);
      if (values.length) out.push({ name: column, column, tags: {}, values });
    }
    this.fetchedPoints.push(out.reduce((n, s) => n + s.values.length, 0));
    return out;
  };

  /** Visible points per column per bucket of `bucketMs` (bucket start = floor(ts / bucketMs) * bucketMs) in range. */
  count = async (range: TimeRange, bucketMs: number): Promise<Map<string, Map<number, number>>> => {
    this.fetches++;
    if (this.failing) throw this.failing;
    const out = new Map<string, Map<number, number>>();
    for (const [column, list] of this.data) {
      for (const p of list) {
        if (p.visibleAt > this.clock || p.ts < range.start || p.ts > range.end) continue;
        let m = out.get(column);
        if (!m) out.set(column, (m = new Map()));
        const b = Math.floor(p.ts / bucketMs) * bucketMs;
        m.set(b, (m.get(b) ?? 0) + 1);
      }
    }
    return out;
  };
}

/** Counts how often each (column, ts) was emitted; `twice` lists the ones seen more than once. */
export class EmitLog {
  readonly seen = new Map<string, number>();
  add(column: string, ts: number): void {
    const k = `${column}@${ts}`;
    this.seen.set(k, (this.seen.get(k) ?? 0) + 1);
  }
  addSeries(series: Series[]): void {
    for (const s of series) for (const [ts] of s.values) this.add(s.column, ts);
  }
  twice(): string[] {
    return [...this.seen].filter(([, n]) => n > 1).map(([k]) => k);
  }
  missing(expected: Array<{ column: string; ts: number }>): string[] {
    return expected.map((p) => `${p.column}@${p.ts}`).filter((k) => !this.seen.has(k));
  }
}
