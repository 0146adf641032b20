/**
 * The one table of time units: KairosDB's names, the spellings users may type for them, and their
 * fixed lengths. Both the library (query options, aggregator units) and the nodes' editor fields
 * ("15m", "2 hours", {value, unit}) read units through normalizeTimeUnit, so they accept the same words.
 */
import { ValidationError } from '../errors';
import type { RelativeTime, TimeUnit } from '../types';

export const TIME_UNITS: readonly TimeUnit[] = Object.freeze([
  'milliseconds',
  'seconds',
  'minutes',
  'hours',
  'days',
  'weeks',
  'months',
  'years',
] as const);

/** Every accepted spelling; looked up as typed first ('M' months, 'm' minutes), then lowercased. */
const UNIT_ALIASES: Readonly<Record<string, TimeUnit>> = Object.freeze({
  ms: 'milliseconds', millisecond: 'milliseconds', milliseconds: 'milliseconds',
  s: 'seconds', sec: 'seconds', secs: 'seconds', second: 'seconds', seconds: 'seconds',
  m: 'minutes', min: 'minutes', mins: 'minutes', minute: 'minutes', minutes: 'minutes',
  h: 'hours', hr: 'hours', hrs: 'hours', hour: 'hours', hours: 'hours',
  d: 'days', day: 'days', days: 'days',
  w: 'weeks', week: 'weeks', weeks: 'weeks',
  M: 'months', mo: 'months', month: 'months', months: 'months',
  y: 'years', year: 'years', years: 'years',
});

/** Fixed lengths for range arithmetic: a month is 30 days, a year 365 days (as KairosDB's sampling does). */
export const UNIT_MS: Readonly<Record<TimeUnit, number>> = Object.freeze({
  milliseconds: 1,
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
  weeks: 7 * 86_400_000,
  months: 30 * 86_400_000,
  years: 365 * 86_400_000,
});

/** The unit a spelling names, or undefined. 'M' (months) and 'm' (minutes) differ only by case, so the exact spelling is tried first. */
export function timeUnitOf(name: string): TimeUnit | undefined {
  const t = name.trim();
  if (Object.prototype.hasOwnProperty.call(UNIT_ALIASES, t)) return UNIT_ALIASES[t];
  const lower = t.toLowerCase();
  return Object.prototype.hasOwnProperty.call(UNIT_ALIASES, lower) ? UNIT_ALIASES[lower] : undefined;
}

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
