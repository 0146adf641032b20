/**
 * Paged queries by an estimated point budget. A page is one message, and a message of a million
 * points holds hundreds of MB in a Node-RED process; how many points a page of a given length holds
 * depends on the data. Before the first page, the raw points of the first page's range are counted
 * on the server (a count aggregator: the answer is a few numbers), and when they exceed the budget
 * every page is shortened in proportion. The count assumes the rate of the first page holds for the
 * rest of the range; pages never get longer than the configured page size.
 */
import { KairosError } from '../../src/errors';
import type { KairosConnector } from '../../src/connector';
import type { KairosQueryResponse, QueryOptions } from '../../src/types';

/**
 * Points per page the node aims at. A page of 100,000 points is at most 100,000 row objects (some tens
 * of MB); the paged 10-million-point benchmark stays near 170 MB resident with it (over 300 MB with
 * 1-day pages of 864,000 points), and pages of this size cost no throughput.
 */
export const PAGE_POINT_BUDGET = 100_000;

/**
 * Page length for `budget` points per page, given `points` counted over the first `sampleMs` ms;
 * `pageMs` (the configured length) when that fits already. Whole seconds when at least one.
 */
export function pageMsForBudget(pageMs: number, points: number, sampleMs: number, budget: number): number {
  if (!(points > budget) || !(sampleMs > 0)) return pageMs;
  const ms = Math.floor((budget * sampleMs) / points);
  return Math.min(pageMs, Math.max(1, ms >= 1000 ? ms - (ms % 1000) : ms));
}

/** Sum of every value of a count response (per metric, group and sampling bucket). */
export function countedPoints(resp: KairosQueryResponse): number {
  let n = 0;
  for (const q of resp.queries) for (const r of q.results) for (const p of r.values ?? []) if (typeof p[1] === 'number') n += p[1];
  return n;
}

/**
 * The page length for a paged query from `start` over pages of `pageMs`: shortened when the first
 * page would hold more than `budget` raw points. Aggregated queries keep pageMs (their pages hold
 * aggregated points, which the raw count does not predict). A server that refuses the count (an HTTP
 * error) keeps pageMs too; connection problems are thrown, the page query would meet them as well.
 */
export async function budgetedPageMs(
  connector: KairosConnector,
  query: QueryOptions,
  range: { start: number; end: number },
  pageMs: number,
  budget = PAGE_POINT_BUDGET,
  signal?: AbortSignal,
): Promise<number> {
  const perMetric = Array.isArray(query.metrics) ? query.metrics : [query.metrics];
  if (query.aggregators?.length || perMetric.some((m) => typeof m === 'object' && m.aggregators?.length)) return pageMs;
  const sampleMs = Math.min(pageMs, range.end - range.start + 1);
  const counting: QueryOptions = {
    ...query,
    startAbsolute: range.start,
    endAbsolute: range.start + sampleMs - 1,
    startRelative: undefined,
    endRelative: undefined,
    limit: undefined,
    order: 'asc',
    aggregators: [{ name: 'count', sampling: { value: sampleMs, unit: 'milliseconds' } }],
  };
  let resp: KairosQueryResponse;
  try {
    resp = await connector.query(counting, signal);
  } catch (err) {
    if (err instanceof KairosError && err.code === 'EHTTP') return pageMs;
    throw err;
  }
  return pageMsForBudget(pageMs, countedPoints(resp), sampleMs, budget);
}
