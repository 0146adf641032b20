/**
 * One series' points as parallel typed arrays: the common currency of the table code, whether the
 * points came from parsed JSON or straight from the response bytes.
 */
import type { PointValue } from '../types';

export interface PointColumns {
  length: number;
  ts: Float64Array;
  /** Values when every one is a number or null (null is NaN: JSON has no NaN, so it is free). */
  num?: Float64Array;
  /** Values when some are not numbers; null for a gap. */
  cells?: Array<PointValue | null>;
}

/** Grows typed arrays by doubling while points are appended, then trims. */
export class PointBuilder {
  private n = 0;
  private ts: Float64Array;
  private num: Float64Array | undefined;
  private cells: Array<PointValue | null> | undefined;

  constructor(capacity = 1024) {
    this.ts = new Float64Array(capacity);
    this.num = new Float64Array(capacity);
  }

  addNumber(t: number, v: number): void {
    if (this.n === this.ts.length) this.grow();
    this.ts[this.n] = t;
    if (this.num) this.num[this.n] = v;
    else (this.cells as Array<PointValue | null>).push(v);
    this.n++;
  }

  addOther(t: number, v: PointValue | null): void {
    if (v === null && this.num) {
      this.addNumber(t, NaN);
      return;
    }
    if (this.num) this.toCells();
    if (this.n === this.ts.length) this.grow();
    this.ts[this.n++] = t;
    (this.cells as Array<PointValue | null>).push(v);
  }

  finish(): PointColumns {
    const n = this.n;
    // Trim when more than an eighth is unused; otherwise a view is cheaper than a copy.
    const trim = <T extends Float64Array>(a: T): Float64Array => (a.length - n > a.length >> 3 ? a.slice(0, n) : a.subarray(0, n));
    const out: PointColumns = { length: n, ts: trim(this.ts) };
    if (this.num) out.num = trim(this.num);
    else out.cells = this.cells;
    return out;
  }

  /**
   * The points so far as exact-size copies, leaving the builder empty for the next series. One
   * builder reused across the series of a response grows once, instead of once per series (a
   * response of many series would otherwise leave several times its points in discarded arrays).
   */
  take(): PointColumns {
    const n = this.n;
    const out: PointColumns = { length: n, ts: this.ts.slice(0, n) };
    if (this.num) out.num = this.num.slice(0, n);
    else out.cells = this.cells;
    this.n = 0;
    this.cells = undefined;
    if (!this.num) this.num = new Float64Array(this.ts.length);
    return out;
  }

  private grow(): void {
    const cap = Math.max(16, this.ts.length * 2);
    const ts = new Float64Array(cap);
    ts.set(this.ts);
    this.ts = ts;
    if (this.num) {
      const num = new Float64Array(cap);
      num.set(this.num);
      this.num = num;
    }
  }

  private toCells(): void {
    const num = this.num as Float64Array;
    const cells: Array<PointValue | null> = new Array<PointValue | null>(this.n);
    for (let i = 0; i < this.n; i++) cells[i] = num[i] === num[i] ? num[i] : null;
    this.cells = cells;
    this.num = undefined;
  }
}

/** Points of a parsed `values` array; a timestamp that is not a number is a ParseError for the caller to name. */
export function pointsFromValues(values: ReadonlyArray<readonly [number, PointValue | null]>): PointColumns | number {
  const b = new PointBuilder(Math.max(16, values.length));
  for (let i = 0; i < values.length; i++) {
    const p = values[i];
    if (!Array.isArray(p) || typeof p[0] !== 'number') return i;
    const v = p[1] ?? null;
    if (typeof v === 'number') b.addNumber(p[0], v);
    else b.addOther(p[0], v);
  }
  return b.finish();
}
