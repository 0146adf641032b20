/**
 * The one place for the small shape checks every layer makes on user input (config, msg, query bodies,
 * library options): plain objects, positive and non-negative integers, lenient numbers from editor fields.
 * Errors name the field and the value (ValidationError). Durations and timer lengths need the unit table
 * and the timer limit, so they are time's: src/time (parseDurationMs, checkTimerMs), same error form.
 */
import { ValidationError } from '../errors';

/** A non-null object that is not an array (a JSON object once parsed). */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A plain object that is not a Date or a Buffer either: where a msg property may hold a value *or* an
 * object of named values (write payloads, tags), a Date or a Buffer is a value, never a record of names.
 */
export function isObjectNotDateOrBuffer(v: unknown): v is Record<string, unknown> {
  return isPlainObject(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}

/** An integer from 1 up (safe integer), or a ValidationError naming `field`. */
export function positiveInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new ValidationError(field, value, 'must be an integer >= 1');
  return value;
}

/** An integer from 0 up (safe integer), or a ValidationError naming `field`. */
export function nonNegativeInt(value: unknown, field: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new ValidationError(field, value, 'must be an integer >= 0');
  return value;
}

/** An optional setting: `fallback` when undefined, else as positiveInt. */
export function positiveIntOrDefault(value: unknown, field: string, fallback: number): number {
  return value === undefined ? fallback : positiveInt(value, field);
}

/** An optional number from 0 up (fractions allowed, e.g. milliseconds): `fallback` when undefined, else a ValidationError naming `field`. */
export function nonNegativeOrDefault(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) throw new ValidationError(field, value, 'must be a number >= 0');
  return value;
}

/**
 * Lenient reading of an editor field that has a default (typed text or a number): an integer from 1 up,
 * else `fallback`. For fields whose form already limits the input; never throws.
 */
export function positiveIntOr(raw: unknown, fallback: number): number {
  const n = Number(raw);
  return Number.isInteger(n) && n > 0 ? n : fallback;
}

/** As positiveIntOr for a number from 0 up (fractions allowed); empty text and undefined give `fallback`. */
export function nonNegativeOr(raw: unknown, fallback: number): number {
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 && raw !== '' && raw !== undefined ? n : fallback;
}
