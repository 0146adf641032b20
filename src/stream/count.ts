/** The late-data check's count query on KairosDB: points per series per bucket, buckets aligned to multiples of their size. */
import type { Aggregator, QueryOptions, Series, TagFilter } from '../types';
import type { CountFetch, TimeRange } from './poller';

/** What counting needs of a connector (KairosConnector.querySeries). */
export interface CountingSource {
  querySeries(opts: QueryOptions, signal?: AbortSignal): Promise<Series[]>;
}

/**
 * A CountFetch for IncrementalPoller: one query with the count aggregator. The poller asks from a
 * multiple of the bucket size, so `align_start_time` puts each bucket's timestamp at its start.
 */
export function kairosCount(source: CountingSource, what: () => { metrics: string[]; tags?: TagFilter }): CountFetch {
  return async (range: TimeRange, bucketMs: number, signal?: AbortSignal) => {
    const { metrics, tags } = what();
    const aggregators: Aggregator[] = [{ name: 'count', sampling: { value: bucketMs, unit: 'milliseconds' }, align_start_time: true, align_sampling: false }];
    const counted = await source.querySeries({ metrics, startAbsolute: range.start, endAbsolute: range.end, aggregators, ...(tags ? { tags } : {}) }, signal);
    const out = new Map<string, Map<number, number>>();
    for (const s of counted) {
      const m = new Map<number, number>();
      for (const [ts, n] of s.values) if (typeof n === 'number') m.set(ts, n);
      out.set(s.column, m);
    }
    return out;
  };
}
