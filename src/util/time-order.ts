/**
 * The one stable sort by time: the table join, chart points, the local server's store and its proficloud.io
 * endpoint all need "these points in time order, equal times in arrival order".
 */

/** Indices 0..n-1 of `ts` ordered by ascending timestamp; equal timestamps keep their input order. */
export function stableTimeOrder(ts: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(ts.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => ts[a] - ts[b] || a - b);
}

/**
 * Points `[time, ...]` in ascending (or, with `desc`, descending) time order. Servers send them sorted one
 * way or the other, so the array itself comes back when it is in order already, a reversed copy when it runs
 * the other way, and only anything else is sorted (a copy, stable: equal times keep their arrival order).
 */
export function inTimeOrder<P extends readonly [number, ...unknown[]]>(values: P[], desc = false): P[] {
  let asc = true;
  let dsc = true;
  for (let i = 1; i < values.length && (asc || dsc); i++) {
    const d = values[i][0] - values[i - 1][0];
    if (d < 0) asc = false;
    else if (d > 0) dsc = false;
  }
  if (desc ? dsc : asc) return values;
  if (desc ? asc : dsc) return values.slice().reverse();
  const ts = new Float64Array(values.length);
  for (let i = 0; i < ts.length; i++) ts[i] = desc ? -values[i][0] : values[i][0];
  const order = stableTimeOrder(ts);
  const out = new Array<P>(values.length);
  for (let i = 0; i < out.length; i++) out[i] = values[order[i]];
  return out;
}
