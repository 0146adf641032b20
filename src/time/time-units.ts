/**
 * Units as the library checks them: the table itself (names, spellings, fixed lengths) is unit-table.ts,
 * which the editor bundles too; this adds the check that names field and value, and relative lengths.
 */
import { ValidationError } from '../errors';
import type { RelativeTime, TimeUnit } from '../types';
import { TIME_UNITS, UNIT_MS, timeUnitOf } from './unit-table';

/** Normalises a unit: any case, singular, plural or short ('Hour', 'hours', 'MINUTES', 'h', 'M'). */
export function normalizeTimeUnit(unit: unknown, field = 'unit'): TimeUnit {
  const u = typeof unit === 'string' ? timeUnitOf(unit) : undefined;
  if (u) return u;
  throw new ValidationError(field, unit, `unknown time unit (one of ${TIME_UNITS.join(', ')})`);
}

/** Length of an already checked relative time in ms (months and years approximate, see UNIT_MS). */
export function relativeToMs(rel: RelativeTime): number {
  return rel.value * UNIT_MS[rel.unit];
}
