/**
 * The one table of time units: KairosDB's names, the spellings users may type for them, their fixed
 * lengths, and how a duration or relative time reads as text ("15m", "2 hours", "3 days ago").
 * Free of imports and of Node on purpose: the editor bundle (editor/checks.ts) checks dialog fields with
 * this same module, so a field is accepted in the dialog exactly when the runtime accepts it.
 */

/** KairosDB's time units, lowercase as KairosDB documents them (it accepts any case). */
export const TIME_UNITS = Object.freeze(['milliseconds', 'seconds', 'minutes', 'hours', 'days', 'weeks', 'months', 'years'] as const);

/** One of TIME_UNITS (re-exported by src/types.ts as part of the public API). */
export type TimeUnit = (typeof TIME_UNITS)[number];

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

/** The spellings as listed above (any case is accepted too, except that 'M' is months and 'm' minutes). */
export const UNIT_SPELLINGS: readonly string[] = Object.freeze(Object.keys(UNIT_ALIASES));

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

const RELATIVE_TEXT = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)(?:\s+ago)?\s*$/;
const PLAIN_NUMBER = /^\s*\d+(\.\d+)?\s*$/;

/** "15m", "2 hours", "3 days ago" as {value, unit}; undefined when the text is not a relative time. */
export function relativeText(text: string): { value: number; unit: TimeUnit } | undefined {
  const m = RELATIVE_TEXT.exec(text);
  const unit = m ? timeUnitOf(m[2]) : undefined;
  return m && unit ? { value: Number(m[1]), unit } : undefined;
}

/**
 * Milliseconds of a duration typed as text: "10m", "1.5 hours" (a trailing "ago" is tolerated) or a plain
 * number of milliseconds; undefined unless it is one of these and above 0.
 */
export function durationTextMs(text: string): number | undefined {
  if (PLAIN_NUMBER.test(text)) {
    const n = Number(text);
    return Number.isFinite(n) && n > 0 ? n : undefined;
  }
  const rel = relativeText(text);
  return rel && rel.value > 0 ? rel.value * UNIT_MS[rel.unit] : undefined;
}
