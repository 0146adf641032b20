/**
 * Timer lengths. Node's setTimeout keeps at most 2^31-1 ms (about 24.8 days) and fires at once for
 * anything longer, so a timeout of 30 days would mean "now". Every timeout and interval a user or
 * caller sets is checked here, with an error naming the field and the value.
 */
import { ValidationError } from '../errors';

/** The longest delay setTimeout honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A timer length in milliseconds: a finite number from `min` (default: above 0) to MAX_TIMER_MS. */
export function checkTimerMs(value: unknown, field: string, opts: { min?: number } = {}): number {
  const min = opts.min;
  if (typeof value !== 'number' || !Number.isFinite(value) || (min === undefined ? value <= 0 : value < min)) {
    throw new ValidationError(field, value, min === undefined ? 'must be a number of milliseconds greater than 0' : `must be a number of milliseconds, at least ${min}`);
  }
  if (value > MAX_TIMER_MS) throw new ValidationError(field, value, `must be at most ${MAX_TIMER_MS} ms (about 24.8 days), the longest a timer can wait`);
  return value;
}
