/** Start/end values as the query and stream nodes accept them: relative ("2h") or absolute (anything time.ts reads). */
import { ValidationError } from '../errors';
import { datetimeToTimestampMs } from './timestamps';
import type { RelativeTime, TimeInput } from '../types';
import { relativeToMs, tryRelative } from '../kairos/parse-input';

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
