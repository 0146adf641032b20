/**
 * Splitting long time ranges into pages. KairosDB includes both ends of a range, so pages are
 * [start, start + pageMs - 1], [start + pageMs, ...]: adjacent pages never share a millisecond.
 */
import { ValidationError } from '../errors';
import type { TimeRange } from '../stream';
import { positiveInt } from '../util/validate';

export type { TimeRange } from '../stream';

/** More pages than this almost certainly means a unit mistake (seconds for milliseconds). */
export const MAX_PAGES = 100000;

/** Inclusive, non-overlapping pages covering [start, end]; the last page may be shorter. */
export function splitRange(start: number, end: number, pageMs: number): TimeRange[] {
  checkRange(start, end);
  positiveInt(pageMs, 'pageMs');
  const count = pageCount(start, end, pageMs);
  const pages: TimeRange[] = [];
  for (let i = 0; i < count; i++) pages.push(pageAt(start, end, pageMs, i));
  return pages;
}

export interface PageResult<T> {
  value: T;
  part: { index: number; count: number };
  /** True on the last page. */
  done: boolean;
}

export interface RangePagerOptions<T> {
  fetch: (range: TimeRange, signal?: AbortSignal) => Promise<T>;
  start: number;
  end: number;
  /** Pages of this length (the last may be shorter); or give `ranges`. */
  pageMs?: number;
  /** The pages themselves: contiguous, ascending, from start to end (e.g. planned by a point budget). */
  ranges?: TimeRange[];
}

/**
 * Fetches one page per next() call, for a downstream that asks for more when it is ready. A failed page
 * is not skipped: the following next() asks for it again.
 */
export class RangePager<T> implements AsyncIterable<PageResult<T>> {
  private readonly fetchPage: (range: TimeRange, signal?: AbortSignal) => Promise<T>;
  private readonly start: number;
  private readonly end: number;
  private readonly pageMs: number;
  private readonly ranges: TimeRange[] | undefined;
  readonly count: number;
  private nextIndex = 0;
  /** Serialises next() so concurrent callers get consecutive pages rather than the same one. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(opts: RangePagerOptions<T>) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    if (typeof opts.fetch !== 'function') throw new ValidationError('fetch', opts.fetch, 'must be a function');
    checkRange(opts.start, opts.end);
    this.fetchPage = opts.fetch;
    this.start = opts.start;
    this.end = opts.end;
    if (opts.ranges !== undefined) {
      checkRanges(opts.ranges, opts.start, opts.end);
      this.ranges = opts.ranges.map((r) => ({ start: r.start, end: r.end }));
      this.pageMs = Math.max(...this.ranges.map((r) => r.end - r.start + 1));
      this.count = this.ranges.length;
    } else {
      positiveInt(opts.pageMs, 'pageMs');
      this.pageMs = opts.pageMs as number;
      this.count = pageCount(opts.start, opts.end, this.pageMs);
    }
  }

  private page(index: number): TimeRange {
    return this.ranges ? { ...this.ranges[index] } : pageAt(this.start, this.end, this.pageMs, index);
  }

  /** Index of the page the next call fetches. */
  get index(): number {
    return this.nextIndex;
  }

  get done(): boolean {
    return this.nextIndex >= this.count;
  }

  /** The range of page `index` (0-based). */
  range(index: number): TimeRange {
    if (!Number.isInteger(index) || index < 0 || index >= this.count) {
      throw new ValidationError('index', index, `must be an integer from 0 to ${this.count - 1}`);
    }
    return this.page(index);
  }

  next(signal?: AbortSignal): Promise<PageResult<T>> {
    const result = this.queue.then(() => this.fetchNext(signal));
    this.queue = result.catch(() => undefined);
    return result;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<PageResult<T>> {
    while (!this.done) yield await this.next();
  }

  private async fetchNext(signal?: AbortSignal): Promise<PageResult<T>> {
    const index = this.nextIndex;
    if (index >= this.count) {
      throw new ValidationError('page', index + 1, `all ${this.count} page(s) were already fetched`);
    }
    const value = await this.fetchPage(this.page(index), signal);
    this.nextIndex = index + 1;
    return { value, part: { index, count: this.count }, done: index + 1 >= this.count };
  }
}

export interface HalvingOptions {
  /** The window is never halved below this; a 504 at this size is rethrown. Default min(60000, windowMs). */
  minWindowMs?: number;
  /** Which errors mean "too much at once". Default: `err.status === 504`. */
  isRetryable504?: (err: unknown) => boolean;
  signal?: AbortSignal;
}

export interface WindowResult<T> {
  range: TimeRange;
  value: T;
}

/**
 * Fetches [start, end] window by window, one request at a time. When the service answers a window with
 * a 504 (hosted KairosDB's "over quota"), the same span is asked again in halves, and the smaller window
 * is kept for the rest of the range since the data density that caused it usually persists.
 */
export async function windowedWithHalving<T>(
  fetch: (range: TimeRange, signal?: AbortSignal) => Promise<T>,
  start: number,
  end: number,
  windowMs: number,
  options: HalvingOptions = {},
): Promise<Array<WindowResult<T>>> {
  if (typeof fetch !== 'function') throw new ValidationError('fetch', fetch, 'must be a function');
  checkRange(start, end);
  positiveInt(windowMs, 'windowMs');
  const minWindowMs = options.minWindowMs ?? Math.min(60000, windowMs);
  positiveInt(minWindowMs, 'minWindowMs');
  if (minWindowMs > windowMs) {
    throw new ValidationError('minWindowMs', minWindowMs, `must not exceed windowMs (${windowMs})`);
  }
  const is504 = options.isRetryable504 ?? isStatus504;
  if (typeof is504 !== 'function') throw new ValidationError('isRetryable504', is504, 'must be a function');

  const results: Array<WindowResult<T>> = [];
  let window = windowMs;
  let from = start;
  while (from <= end) {
    options.signal?.throwIfAborted();
    const range = { start: from, end: Math.min(end, from + window - 1) };
    try {
      const value = await fetch(range, options.signal);
      results.push({ range, value });
      from = range.end + 1;
    } catch (err) {
      if (!is504(err) || window <= minWindowMs) throw err;
      window = Math.max(minWindowMs, Math.floor(window / 2));
    }
  }
  return results;
}

function isStatus504(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { status?: unknown }).status === 504;
}

function checkRange(start: unknown, end: unknown): void {
  if (typeof start !== 'number' || !Number.isSafeInteger(start)) {
    throw new ValidationError('start', start, 'must be an integer epoch millisecond timestamp');
  }
  if (typeof end !== 'number' || !Number.isSafeInteger(end)) {
    throw new ValidationError('end', end, 'must be an integer epoch millisecond timestamp');
  }
  if (end < start) throw new ValidationError('end', end, `must not be before start (${start})`);
}

/** Given pages: at least one, at most MAX_PAGES, contiguous and ascending from start to end. */
function checkRanges(ranges: unknown, start: number, end: number): asserts ranges is TimeRange[] {
  if (!Array.isArray(ranges) || ranges.length === 0 || ranges.length > MAX_PAGES) {
    throw new ValidationError('ranges', ranges, `must be an array of 1 to ${MAX_PAGES} pages`);
  }
  let from = start;
  ranges.forEach((r: unknown, i) => {
    const p = r as TimeRange;
    const ok = r !== null && typeof r === 'object' && p.start === from && Number.isSafeInteger(p.end) && p.end >= p.start && p.end <= end;
    if (!ok) throw new ValidationError(`ranges[${i}]`, r, `must be {start: ${from}, end} with start <= end <= ${end}`);
    from = p.end + 1;
  });
  if (from !== end + 1) throw new ValidationError('ranges', ranges, `must end at ${end}`);
}

function pageCount(start: number, end: number, pageMs: number): number {
  const count = Math.ceil((end - start + 1) / pageMs);
  if (count > MAX_PAGES) {
    throw new ValidationError('pageMs', pageMs, `splits ${end - start + 1} ms into ${count} pages (limit ${MAX_PAGES})`);
  }
  return count;
}

function pageAt(start: number, end: number, pageMs: number, index: number): TimeRange {
  const from = start + index * pageMs;
  return { start: from, end: Math.min(end, from + pageMs - 1) };
}
