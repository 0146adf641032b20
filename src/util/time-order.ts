/**
 * The one stable sort by time: the table join, the local server's store and its proficloud.io endpoint
 * all need "the indices of these points in ascending time order, equal times in arrival order".
 */

/** Indices 0..n-1 of `ts` ordered by ascending timestamp; equal timestamps keep their input order. */
export function stableTimeOrder(ts: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(ts.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => ts[a] - ts[b] || a - b);
}
