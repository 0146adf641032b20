/**
 * Paged queries by a point budget. A page is one message, and a message of a million points holds
 * hundreds of MB in a Node-RED process; how many points a page of a given length holds depends on the
 * data, and data is rarely even: a range may start empty and turn dense. So before the first page the
 * raw points of the whole range are counted on the server in up to PLAN_BUCKETS time buckets (a count
 * aggregator: the answer is a few numbers per bucket), and the pages are planned from those counts:
 * neighbouring buckets share a page while it stays within the budget and the configured page size, a
 * bucket with more points than the budget is split evenly. Every page is thereby sized from the counts
 * of its own time span, not from the first page's, and the number of pages is known up front.
 */
import { KairosError } from '../errors';
import type { KairosConnector } from './connector';
import type { TimeRange } from './range-pager';
import type { KairosQueryResponse, QueryOptions } from '../types';

/**
 * Points per page the node aims at. A page of 100,000 points is at most 100,000 row objects (some tens
 * of MB); the paged 10-million-point benchmark stays near 170 MB resident with it (over 300 MB with
 * 1-day pages of 864,000 points), and pages of this size cost no throughput.
 */
export const PAGE_POINT_BUDGET = 100_000;

/** Count buckets over the whole range: enough to see where the dense parts are, few enough for a small answer. */
export const PLAN_BUCKETS = 2000;

/** Bucket length for counting [start, end]: at least a second, at most PLAN_BUCKETS buckets. */
export function bucketMsFor(start: number, end: number): number {
  return Math.max(1000, Math.ceil((end - start + 1) / PLAN_BUCKETS));
}

/**
 * Pages for [start, end] from point counts per bucket (bucket b = [start + b * bucketMs, ...], the last
 * one cut at end). The range is cut at bucket boundaries and at the configured page grid (start + k *
 * pageMs), each piece holding its bucket's points in proportion (they are assumed spread over the
 * bucket); consecutive pieces share a page while its points stay within `budget` and its length within
 * `pageMs`, and a piece above the budget is split evenly (whole seconds when a part is at least one).
 * Sparse data thus keeps the configured pages exactly; pages are contiguous and ascending.
 */
export function planPages(start: number, end: number, pageMs: number, bucketMs: number, counts: ArrayLike<number>, budget: number): TimeRange[] {
  const pages: TimeRange[] = [];
  let from = start;
  let points = 0;
  const close = (to: number): void => {
    if (to >= from) pages.push({ start: from, end: to });
    from = to + 1;
    points = 0;
  };
  let b = 0;
  for (let t = start; t <= end; ) {
    const bucketStart = start + b * bucketMs;
    const bucketEnd = Math.min(end, bucketStart + bucketMs - 1);
    const gridEnd = Math.min(end, start + (Math.floor((t - start) / pageMs) + 1) * pageMs - 1);
    const pieceEnd = Math.min(bucketEnd, gridEnd);
    const n = ((counts[b] ?? 0) * (pieceEnd - t + 1)) / (bucketEnd - bucketStart + 1);
    if (n > budget) {
      close(t - 1);
      let part = Math.floor((pieceEnd - t + 1) / Math.ceil(n / budget));
      if (part >= 1000) part -= part % 1000;
      part = Math.max(1, part);
      for (let p = t; p <= pieceEnd; p += part) close(Math.min(pieceEnd, p + part - 1));
    } else {
      if (points + n > budget || pieceEnd - from + 1 > pageMs) close(t - 1);
      points += n;
    }
    t = pieceEnd + 1;
    if (t > bucketEnd) b++;
  }
  close(end);
  return pages;
}

/** Sum of every value of a count response (per metric, group and sampling bucket). */
export function countedPoints(resp: KairosQueryResponse): number {
  let n = 0;
  for (const q of resp.queries) for (const r of q.results) for (const p of r.values ?? []) if (typeof p[1] === 'number') n += p[1];
  return n;
}

/** Points per bucket of a count response over [start, ...] in buckets of bucketMs (summed over metrics and groups). */
export function countsPerBucket(resp: KairosQueryResponse, start: number, bucketMs: number, buckets: number): Float64Array {
  const counts = new Float64Array(buckets);
  for (const q of resp.queries) {
    for (const r of q.results) {
      for (const p of r.values ?? []) {
        if (typeof p[1] !== 'number') continue;
        // A bucket's count carries its start (align_start_time) or a time inside it: either maps back.
        const b = Math.min(buckets - 1, Math.max(0, Math.floor((p[0] - start) / bucketMs)));
        counts[b] += p[1];
      }
    }
  }
  return counts;
}

/**
 * The pages of a paged query over `range`, planned from the raw point counts of the whole range (see
 * the module comment), or undefined to page by `pageMs` as configured: aggregated queries (their pages
 * hold aggregated points, which raw counts do not predict) and servers that refuse the count (an HTTP
 * error). Connection problems are thrown; the page queries would meet them as well.
 */
export async function budgetedPages(
  connector: KairosConnector,
  query: QueryOptions,
  range: { start: number; end: number },
  pageMs: number,
  budget = PAGE_POINT_BUDGET,
  signal?: AbortSignal,
): Promise<TimeRange[] | undefined> {
  const perMetric = Array.isArray(query.metrics) ? query.metrics : [query.metrics];
  if (query.aggregators?.length || perMetric.some((m) => typeof m === 'object' && m.aggregators?.length)) return undefined;
  const bucketMs = bucketMsFor(range.start, range.end);
  const buckets = Math.ceil((range.end - range.start + 1) / bucketMs);
  const counting: QueryOptions = {
    ...query,
    startAbsolute: range.start,
    endAbsolute: range.end,
    startRelative: undefined,
    endRelative: undefined,
    limit: undefined,
    order: 'asc',
    aggregators: [{ name: 'count', sampling: { value: bucketMs, unit: 'milliseconds' }, align_start_time: true }],
  };
  let resp: KairosQueryResponse;
  try {
    resp = await connector.query(counting, signal);
  } catch (err) {
    if (err instanceof KairosError && err.code === 'EHTTP') return undefined;
    throw err;
  }
  return planPages(range.start, range.end, pageMs, bucketMs, countsPerBucket(resp, range.start, bucketMs, buckets), budget);
}
