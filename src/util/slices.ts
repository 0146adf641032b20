/**
 * Long loops over large results (a 25 MB response, a million row objects) cut into slices, so that a
 * node converting a query answer lets the rest of the flow run in between.
 *
 * A conversion is written once, as a generator that `yield`s after each bounded chunk of work (about
 * SLICE_UNITS points). `drain()` runs it to the end at once (the synchronous public API);
 * `runSliced()` runs chunks until sliceMs have passed, then gives the event loop a turn
 * (setImmediate) and goes on. The hot loops themselves stay in plain functions that the generators
 * call chunk by chunk: a generator frame only steers.
 */

/** Work of a conversion; each `yield` is a point where it may pause. */
export type Steps<T> = Generator<void, T, void>;

/** Points (or cells, or bytes / 16) one chunk handles before it offers to pause. */
export const SLICE_UNITS = 8192;

/** Runs the steps to the end without pausing. */
export function drain<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

export interface SliceOptions {
  /** Stops at the next pause with signal.reason (the steps are closed, so their `finally` runs). */
  signal?: AbortSignal;
  /**
   * Work time before the event loop gets a turn (default 8 ms). 0 gives it a turn at every pause,
   * which tests use to count the pauses.
   */
  sliceMs?: number;
}

const DEFAULT_SLICE_MS = 8;

function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function aborted(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/**
 * Runs the steps with event-loop turns in between; rejects with signal.reason once the signal is
 * aborted (checked at every pause, so an aborted conversion stops within one slice).
 */
export async function runSliced<T>(steps: Steps<T>, opts: SliceOptions = {}): Promise<T> {
  const { signal } = opts;
  const sliceMs = opts.sliceMs ?? DEFAULT_SLICE_MS;
  // A fresh slice starts after the caller's own synchronous work: the first turn comes right away.
  let until = 0;
  try {
    for (;;) {
      if (signal?.aborted) throw aborted(signal);
      if (performance.now() >= until) {
        await turn();
        if (signal?.aborted) throw aborted(signal);
        until = performance.now() + sliceMs;
      }
      const r = steps.next();
      if (r.done) return r.value;
    }
  } finally {
    steps.return(undefined as T);
  }
}

/** Chunks of [start, end) of at most `per` indices, for loops that slice an index range. */
export function* chunks(length: number, per: number, each: (start: number, end: number) => void): Steps<void> {
  const step = Math.max(1, Math.floor(per));
  for (let start = 0; start < length; start += step) {
    each(start, Math.min(length, start + step));
    if (start + step < length) yield;
  }
}
