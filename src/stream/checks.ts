/** Option checks shared by the stream classes: each names the field and the value it got. */
import { ValidationError } from '../errors';

export function positiveInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) {
    throw new ValidationError(field, value, 'must be a positive integer (milliseconds)');
  }
  return value;
}

export function nonNegativeInteger(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new ValidationError(field, value, 'must be a non-negative integer (milliseconds)');
  }
  return value;
}

/** Intervals come from user config (seconds * 1000 can be fractional); timers need a sane positive bound. */
export function positiveInterval(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ValidationError(field, value, 'must be a positive number of milliseconds');
  }
  if (value > 2 ** 31 - 1) throw new ValidationError(field, value, 'must be at most 2147483647 ms (about 24.8 days)');
  return value;
}

export function abortError(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('poll aborted');
}
