/**
 * The proficloud.io TSD read API (`GET /epts/data`), answered from the local store so demos and
 * tests can exercise the proficloud.io client offline. Series are those tagged `uuid=<device>`;
 * the shape is the one documented for tsd.proficloud.io: an array with one element per
 * (uuid, metric), each `{uuid: {metric: [{timestamp: ISO, values: {value}}]}}`.
 */
import type { Store } from './store';
import { stableTimeOrder } from '../util/time-order';

export class EptsError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function parseDate(name: string, v: string | null): number {
  if (v === null || v === '') throw new EptsError(400, `Required parameter '${name}' is missing`);
  // ISO-8601 with a date and time; Date.parse alone would also take loose formats.
  const t = /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new EptsError(400, `Parameter '${name}' must be an ISO-8601 date-time (got ${JSON.stringify(v)})`);
  return t;
}

/** Builds the /epts/data response body from the query parameters. */
export function eptsData(store: Store, params: URLSearchParams): string {
  const uuid = params.get('uuid');
  if (!uuid) throw new EptsError(400, "Required parameter 'uuid' is missing");
  const namesParam = params.get('timeSeriesName');
  if (!namesParam) throw new EptsError(400, "Required parameter 'timeSeriesName' is missing");
  const from = parseDate('fromDate', params.get('fromDate'));
  const to = parseDate('toDate', params.get('toDate'));
  if (to < from) throw new EptsError(400, `Parameter 'toDate' must not be before 'fromDate' (got ${JSON.stringify(params.get('toDate'))})`);
  const sortRaw = params.get('sort') ?? 'ASC';
  const sort = sortRaw.toUpperCase();
  if (sort !== 'ASC' && sort !== 'DESC') throw new EptsError(400, `Parameter 'sort' must be ASC or DESC (got ${JSON.stringify(sortRaw)})`);

  const names = namesParam
    .split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const uuidJson = JSON.stringify(uuid);
  const elements = names.map((name) => {
    const ts: number[] = [];
    const vs: Array<number | string> = [];
    for (const s of store.seriesOf(name)) {
      if (s.tags.uuid !== uuid) continue;
      const [lo, hi] = store.range(s, from, to);
      for (let i = lo; i < hi; i++) {
        ts.push(s.ts[i]);
        vs.push(s.vs[i]);
      }
    }
    const order = stableTimeOrder(ts);
    if (sort === 'DESC') order.reverse();
    const samples = Array.from(order, (i) => `{"timestamp":"${new Date(ts[i]).toISOString()}","values":{"value":${JSON.stringify(vs[i])}}}`);
    return `{${uuidJson}:{${JSON.stringify(name)}:[${samples.join(',')}]}}`;
  });
  return '[' + elements.join(',') + ']';
}
