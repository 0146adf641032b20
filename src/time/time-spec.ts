/**
 * Times and durations as the nodes accept them from the editor or msg: relative ("2h", "3 days ago",
 * {value, unit}) or absolute (anything timestamps.ts reads), durations as "10m" or milliseconds.
 */
import { ValidationError } from '../errors';
import { datetimeToTimestampMs } from './timestamps';
import type { RelativeTime, TimeInput } from '../types';
import { normalizeTimeUnit, relativeToMs } from './time-units';
import { durationTextMs, relativeText } from './unit-table';
import { isObjectNotDateOrBuffer } from '../util/validate';

/** "15m", "2 hours", "3 days ago" or {value, unit}; undefined when the text is not relative. */
export function tryRelative(raw: unknown, field: string): RelativeTime | undefined {
  if (isObjectNotDateOrBuffer(raw) && 'unit' in raw) {
    const value = Number(raw.value);
    if (!Number.isFinite(value) || value < 0) throw new ValidationError(`${field}.value`, raw.value, 'must be a non-negative number');
    return { value, unit: normalizeTimeUnit(raw.unit, `${field}.unit`) };
  }
  return typeof raw === 'string' ? relativeText(raw) : undefined;
}

/** A duration given as "10m", "1 day", {value, unit} or plain milliseconds (text as the editor checks it: durationTextMs). */
export function parseDurationMs(raw: unknown, field: string): number {
  if (typeof raw === 'number') {
    if (Number.isFinite(raw) && raw > 0) return raw;
    throw new ValidationError(field, raw, 'must be a positive duration');
  }
  const ms = typeof raw === 'string' ? durationTextMs(raw) : undefined;
  if (ms !== undefined) return ms;
  const rel = typeof raw === 'string' ? undefined : tryRelative(raw, field);
  if (!rel || rel.value <= 0) throw new ValidationError(field, raw, 'must be a positive duration such as "10m", "1 hour" or {value, unit}');
  return relativeToMs(rel);
}

export type TimeSpec = { relative: RelativeTime } | { absolute: number };

export function parseTimeSpec(raw: unknown, field: string, zone: string): TimeSpec | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'string' && /^\s*now\s*$/i.test(raw)) return { absolute: Date.now() };
  const rel = tryRelative(raw, field);
  if (rel) return { relative: rel };
  if (typeof raw === 'number' && !Number.isFinite(raw)) throw new ValidationError(field, raw, 'must be a finite epoch-ms number');
  if (typeof raw === 'boolean' || (typeof raw === 'object' && !(raw instanceof Date) && !(raw as { isLuxonDateTime?: boolean }).isLuxonDateTime)) {
    throw new ValidationError(field, raw, 'expected a relative time like "2h" or {value, unit}, epoch ms, an ISO-8601 string or a Date');
  }
  return { absolute: datetimeToTimestampMs(raw as TimeInput, { zone, field }) };
}

/** Epoch ms of a spec, relative ones counted back from `now`. */
export function specToMs(spec: TimeSpec, now: number): number {
  return 'absolute' in spec ? spec.absolute : now - relativeToMs(spec.relative);
}
