/**
 * Bucket arithmetic of KairosDB's range aggregators (RangeAggregator on Joda time).
 * Units below a day are plain millisecond arithmetic in every zone (Joda treats them as time fields);
 * days and weeks count local days, months and years count calendar fields in the zone.
 */
import { DateTime } from 'luxon';
import { ServerError } from '../server-errors';
import { unitMs, type Duration, type JavaTimeUnit } from './props';

/** Units below a day: plain millisecond arithmetic in every zone. */
const SUB_DAY: ReadonlySet<JavaTimeUnit> = new Set<JavaTimeUnit>(['MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS']);
const fixedMs = (unit: JavaTimeUnit): number | undefined => (SUB_DAY.has(unit) ? unitMs(unit) : undefined);

export interface RangeGrid {
  /** Bucket origin (already aligned when align_sampling is on). */
  origin: number;
  sampling: Duration;
  zone: string;
}

/** Joda's withDayOfYear/withDayOfMonth/withDayOfWeek/withMillisOfDay/withMillisOfSecond alignment. */
export function alignOrigin(t: number, unit: JavaTimeUnit, zone: string): number {
  if (unit === 'MILLISECONDS') return t - (((t % 1000) + 1000) % 1000);
  const dt = DateTime.fromMillis(t, { zone });
  const period = unit === 'YEARS' ? 'year' : unit === 'MONTHS' ? 'month' : unit === 'WEEKS' ? 'week' : 'day';
  return dt.startOf(period).toMillis();
}

function localMs(t: number, zone: string): number {
  return t + DateTime.fromMillis(t, { zone }).offset * 60_000;
}

/** Whole units between origin and t, truncated toward zero like Joda's getDifferenceAsLong. */
function unitsBetween(t: number, origin: number, unit: JavaTimeUnit, zone: string): number {
  const fixed = fixedMs(unit);
  if (fixed !== undefined) return Math.trunc((t - origin) / fixed);
  if (unit === 'DAYS' || unit === 'WEEKS') return Math.trunc((localMs(t, zone) - localMs(origin, zone)) / unitMs(unit));
  const a = DateTime.fromMillis(origin, { zone });
  const b = DateTime.fromMillis(t, { zone });
  const later = t >= origin;
  const [lo, hi] = later ? [a, b] : [b, a];
  let n = unit === 'YEARS' ? hi.year - lo.year : (hi.year - lo.year) * 12 + (hi.month - lo.month);
  // A partial last period does not count.
  if (n > 0 && addUnits(lo.toMillis(), n, unit, zone) > hi.toMillis()) n--;
  return later ? n : -n;
}

function addUnits(t: number, n: number, unit: JavaTimeUnit, zone: string): number {
  const fixed = fixedMs(unit);
  if (fixed !== undefined) return t + n * fixed;
  const dt = DateTime.fromMillis(t, { zone });
  switch (unit) {
    case 'DAYS':
      return dt.plus({ days: n }).toMillis();
    case 'WEEKS':
      return dt.plus({ weeks: n }).toMillis();
    case 'MONTHS':
      return dt.plus({ months: n }).toMillis();
    default:
      return dt.plus({ years: n }).toMillis();
  }
}

/** Index of the bucket holding t; throws KairosDB's `/ by zero` for a zero sampling value. */
function periodsBefore(grid: RangeGrid, t: number): number {
  if (grid.sampling.value === 0) throw new ServerError(500, '/ by zero');
  return Math.trunc(unitsBetween(t, grid.origin, grid.sampling.unit, grid.zone) / grid.sampling.value);
}

export function bucketStart(grid: RangeGrid, t: number): number {
  return addUnits(grid.origin, periodsBefore(grid, t) * grid.sampling.value, grid.sampling.unit, grid.zone);
}

export function bucketEnd(grid: RangeGrid, t: number): number {
  return addUnits(grid.origin, (periodsBefore(grid, t) + 1) * grid.sampling.value, grid.sampling.unit, grid.zone);
}

/** Length in ms of `sampling` starting at t (Util.getSamplingDuration), used by rate and sampler. */
export function samplingMillis(t: number, sampling: Duration, zone: string): number {
  if (sampling.unit === 'MILLISECONDS') return sampling.value;
  return addUnits(t, sampling.value, sampling.unit, zone) - t;
}
