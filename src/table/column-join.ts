/**
 * The outer join of series on their timestamps, done on typed arrays: first the sorted distinct
 * timestamps (a k-way merge that only compares numbers), then each column placed with two cursors.
 * No per-row or per-point objects are created.
 */
import type { FillNaMethod, PointValue } from '../types';
import type { PointColumns } from './point-columns';
import { stableTimeOrder } from '../util/time-order';
import { drain, SLICE_UNITS, type Steps } from '../util/slices';

/** A table column: numbers with NaN for missing cells, or values with null for missing cells. */
export type Column = Float64Array | Array<PointValue | null>;

/** Points in ascending time order; KairosDB sends them sorted (asc or desc), anything else is sorted here (stable). */
export function ascendingPoints(p: PointColumns): PointColumns {
  const ts = p.ts;
  let asc = true;
  let desc = true;
  for (let i = 1; i < p.length && (asc || desc); i++) {
    const d = ts[i] - ts[i - 1];
    if (d < 0) asc = false;
    else if (d > 0) desc = false;
  }
  if (asc) return p;
  let order: Uint32Array;
  if (desc) {
    // Descending input: the reversal is the order, no sort needed.
    order = new Uint32Array(p.length);
    for (let i = 0; i < p.length; i++) order[i] = p.length - 1 - i;
  } else order = stableTimeOrder(ts);
  const out: PointColumns = { length: p.length, ts: new Float64Array(p.length) };
  for (let i = 0; i < p.length; i++) out.ts[i] = ts[order[i]];
  if (p.num) {
    const num = new Float64Array(p.length);
    for (let i = 0; i < p.length; i++) num[i] = p.num[order[i]];
    out.num = num;
  } else {
    const src = p.cells as Array<PointValue | null>;
    out.cells = Array.from(order, (i) => src[i]);
  }
  return out;
}

/** Sorted distinct timestamps of all series (each already ascending). */
export function mergeTimestamps(series: PointColumns[]): Float64Array {
  return drain(mergeTimestampsSteps(series));
}

/** mergeTimestamps in steps of about SLICE_UNITS timestamps (see src/util/slices.ts). */
export function* mergeTimestampsSteps(series: PointColumns[]): Steps<Float64Array> {
  if (series.length === 1) return distinct(series[0].ts, series[0].length);
  const m = new TimestampMerge(series);
  while (!m.run(SLICE_UNITS)) yield;
  return m.result();
}

/** The k-way merge, resumable: run() takes up to `max` distinct timestamps and says whether all are taken. */
class TimestampMerge {
  private readonly pos: Int32Array;
  private out: Float64Array;
  private n = 0;

  constructor(private readonly series: PointColumns[]) {
    this.pos = new Int32Array(series.length);
    let cap = 1024;
    for (const s of series) cap = Math.max(cap, s.length);
    this.out = new Float64Array(cap);
  }

  run(max: number): boolean {
    const { series, pos } = this;
    const k = series.length;
    let out = this.out;
    let n = this.n;
    const stop = n + max;
    let done = false;
    while (n < stop) {
      let min = Infinity;
      for (let c = 0; c < k; c++) {
        const s = series[c];
        const p = pos[c];
        if (p < s.length && s.ts[p] < min) min = s.ts[p];
      }
      if (min === Infinity) {
        done = true;
        break;
      }
      for (let c = 0; c < k; c++) {
        const s = series[c];
        let p = pos[c];
        while (p < s.length && s.ts[p] === min) p++;
        pos[c] = p;
      }
      if (n === out.length) {
        const bigger = new Float64Array(out.length * 2);
        bigger.set(out);
        out = bigger;
      }
      out[n++] = min;
    }
    this.out = out;
    this.n = n;
    return done;
  }

  result(): Float64Array {
    const { out, n } = this;
    return out.length - n > out.length >> 3 ? out.slice(0, n) : out.subarray(0, n);
  }
}

function distinct(ts: Float64Array, length: number): Float64Array {
  let n = 0;
  for (let i = 0; i < length; i++) if (i === 0 || ts[i] !== ts[i - 1]) n++;
  if (n === ts.length) return ts;
  const out = new Float64Array(n);
  n = 0;
  for (let i = 0; i < length; i++) if (i === 0 || ts[i] !== ts[i - 1]) out[n++] = ts[i];
  return out;
}

/** One series placed on the joined timestamps; a duplicate timestamp within the series keeps the last value. */
export function placeColumn(s: PointColumns, rows: Float64Array): Column {
  return drain(placeColumnSteps(s, rows));
}

/** placeColumn in steps of about SLICE_UNITS rows. */
export function* placeColumnSteps(s: PointColumns, rows: Float64Array): Steps<Column> {
  const n = rows.length;
  const col: Column = s.num ? new Float64Array(n).fill(NaN) : new Array<PointValue | null>(n).fill(null);
  let p = 0;
  for (let r = 0; r < n && p < s.length; r += SLICE_UNITS) {
    const end = Math.min(n, r + SLICE_UNITS);
    p = s.num ? placeNumbers(s, rows, col as Float64Array, r, end, p) : placeCells(s, rows, col as Array<PointValue | null>, r, end, p);
    if (end < n && p < s.length) yield;
  }
  return col;
}

/** Rows [r0, r1) of a numeric column, the series' cursor at `p`; returns the cursor. */
function placeNumbers(s: PointColumns, rows: Float64Array, col: Float64Array, r0: number, r1: number, p: number): number {
  const ts = s.ts;
  const src = s.num as Float64Array;
  const len = s.length;
  for (let r = r0; r < r1 && p < len; r++) {
    const t = rows[r];
    if (ts[p] !== t) continue;
    do p++;
    while (p < len && ts[p] === t);
    col[r] = src[p - 1];
  }
  return p;
}

function placeCells(s: PointColumns, rows: Float64Array, col: Array<PointValue | null>, r0: number, r1: number, p: number): number {
  const ts = s.ts;
  const src = s.cells as Array<PointValue | null>;
  const len = s.length;
  for (let r = r0; r < r1 && p < len; r++) {
    const t = rows[r];
    if (ts[p] !== t) continue;
    do p++;
    while (p < len && ts[p] === t);
    col[r] = src[p - 1] ?? null;
  }
  return p;
}

/** Fills missing cells in place, forwards or backwards. */
export function fillColumn(col: Column, method: FillNaMethod): void {
  if (method === null) return;
  const forward = method === 'ffill' || method === 'pad';
  if (col instanceof Float64Array) {
    let last = NaN;
    if (forward) {
      for (let i = 0; i < col.length; i++) {
        const v = col[i];
        if (v !== v) col[i] = last;
        else last = v;
      }
    } else {
      for (let i = col.length - 1; i >= 0; i--) {
        const v = col[i];
        if (v !== v) col[i] = last;
        else last = v;
      }
    }
    return;
  }
  let last: PointValue | null = null;
  const step = forward ? 1 : -1;
  for (let i = forward ? 0 : col.length - 1; i >= 0 && i < col.length; i += step) {
    if (col[i] === null) col[i] = last;
    else last = col[i];
  }
}

/**
 * The seed's dropTrailingNa cut: the earliest of the series' last timestamps, where a series' last
 * timestamp is that of its newest point with a value (a trailing null is no value). Rows after it are
 * dropped before any fill, so a delayed metric's stale value is not carried past its own end. A series
 * without any value does not cut; Infinity when none does.
 */
export function trailingCut(series: PointColumns[]): number {
  let cut = Infinity;
  for (const s of series) {
    let i = s.length - 1;
    if (s.num) while (i >= 0 && s.num[i] !== s.num[i]) i--;
    else while (i >= 0 && (s.cells as Array<PointValue | null>)[i] === null) i--;
    // Each series is ascending here, so its newest value is the last one found from the end.
    if (i >= 0 && s.ts[i] < cut) cut = s.ts[i];
  }
  return cut;
}

/** Number of leading (ascending) timestamps at or before `cut`. */
export function rowsUpTo(timestamps: Float64Array, cut: number): number {
  let lo = 0;
  let hi = timestamps.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (timestamps[mid] <= cut) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Reverses a column in place (descending output). */
export function reverseColumn(col: Column): void {
  col.reverse();
}
