/**
 * Time handling: everything the library accepts as a point in time becomes epoch milliseconds here,
 * and relative times ({value, unit}) are validated and converted here.
 *
 * Decisions (documented because callers depend on them):
 * - Fractional epoch milliseconds are rounded to the nearest integer (KairosDB stores integer ms).
 * - Strings without an offset are read in `opts.zone` (default 'UTC'), never in the host's zone.
 * - Accepted range is year 0000 to year 9999 (UTC); KairosDB accepts 0 and negative timestamps.
 * - relativeTimeToMs treats a month as 30 days and a year as 365 days; subtractRelative does calendar
 *   math in a zone, as KairosDB itself does for start_relative/end_relative.
 */
import { ValidationError } from '../errors';
import { luxon } from './luxon';
import { normalizeTimeUnit } from './time-units';
import { UNIT_MS } from './unit-table';
import type { DateTimeLike, RelativeTime, TimeInput, TimestampFormat } from '../types';
import { isPlainObject, positiveInt } from '../util/validate';

/** The seed's '%Y-%m-%d %H:%M:%S.%f' in luxon tokens; SSSSSS (microseconds) is handled by this module. */
export const DEFAULT_FORMAT = 'yyyy-MM-dd HH:mm:ss.SSSSSS';

/** 0000-01-01T00:00:00.000Z */
export const MIN_TIMESTAMP_MS = -62_167_219_200_000;
/** 9999-12-31T23:59:59.999Z */
export const MAX_TIMESTAMP_MS = 253_402_300_799_999;

const NUMERIC_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)$/;

export interface ParseTimeOptions {
  /** luxon tokens, or strftime-style when it contains '%'. */
  format?: string;
  /** IANA zone for strings without an offset. Default 'UTC'. */
  zone?: string;
  /** Named in errors. Default 'timestamp'. */
  field?: string;
}

/** Answers of isValidZone: asking luxon per call costs more than the rest of a timestamp conversion. */
const zoneValidity = new Map<string, boolean>();
/** Zone strings come from config and messages; the cap keeps odd input from growing the cache without bound. */
const MAX_CACHED_ZONES = 1000;

/** An IANA zone name (no fixed offsets): what KairosDB's time_zone takes. */
export function isIanaZone(zone: string): boolean {
  return luxon().IANAZone.isValidZone(zone);
}

export function isValidZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone.trim() === '') return false;
  let valid = zoneValidity.get(zone);
  if (valid === undefined) {
    valid = luxon().DateTime.fromMillis(0).setZone(zone).isValid;
    if (zoneValidity.size >= MAX_CACHED_ZONES) zoneValidity.clear();
    zoneValidity.set(zone, valid);
  }
  return valid;
}

function checkZone(zone: string | undefined, field = 'zone'): string {
  if (zone === undefined) return 'UTC';
  if (!isValidZone(zone)) throw new ValidationError(field, zone, 'unknown time zone (use an IANA name such as "Europe/Berlin" or "UTC")');
  return zone;
}

function checkRange(ms: number, field: string, original: unknown): number {
  if (!Number.isFinite(ms)) throw new ValidationError(field, original, 'not a finite time');
  if (ms < MIN_TIMESTAMP_MS || ms > MAX_TIMESTAMP_MS) {
    throw new ValidationError(field, original, 'time out of range (years 0000 to 9999)');
  }
  return ms;
}

// strftime directive -> luxon tokens. %f is microseconds (6 digits) as in Python.
const STRFTIME: Record<string, string> = {
  Y: 'yyyy',
  y: 'yy',
  m: 'MM',
  d: 'dd',
  e: 'd',
  H: 'HH',
  I: 'hh',
  M: 'mm',
  S: 'ss',
  f: 'SSSSSS',
  p: 'a',
  z: 'ZZZ',
  Z: 'z',
  j: 'ooo',
  a: 'EEE',
  A: 'EEEE',
  b: 'MMM',
  B: 'MMMM',
  h: 'MMM',
  F: 'yyyy-MM-dd',
  T: 'HH:mm:ss',
  R: 'HH:mm',
  s: 'X',
};

/**
 * Translates a strftime-style format ('%Y-%m-%d') into luxon tokens; a format without '%' is taken as
 * luxon tokens already. Literal text is quoted so luxon does not read letters in it as tokens.
 */
export function toLuxonFormat(format: string, field = 'format'): string {
  if (typeof format !== 'string' || format === '') throw new ValidationError(field, format, 'must be a non-empty format string');
  if (!format.includes('%')) return format;
  let out = '';
  let literal = '';
  const flush = (): void => {
    // luxon cannot escape a quote inside a quoted literal; a bare '' outside one prints a quote
    out += literal
      .split("'")
      .map((part) => (part ? `'${part}'` : ''))
      .join("''");
    literal = '';
  };
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      literal += c;
      continue;
    }
    let d = format[++i];
    if (d === undefined) throw new ValidationError(field, format, 'ends with a lone "%"');
    if (d === '%') {
      literal += '%';
      continue;
    }
    if (d === ':' && format[i + 1] === 'z') {
      i++;
      d = ':z';
    }
    const tokens = d === ':z' ? 'ZZ' : STRFTIME[d];
    if (tokens === undefined) throw new ValidationError(field, format, `unsupported strftime directive "%${d}"`);
    flush();
    out += tokens;
  }
  flush();
  return out;
}

// luxon has no 6-digit fraction token: parse it with 'u' (any number of fraction digits, truncated to ms)
// and print it as milliseconds followed by '000' (we hold integer milliseconds).
function forParsing(luxonFormat: string): string {
  return luxonFormat.replace(/S{6}/g, 'u');
}
function forPrinting(luxonFormat: string): string {
  return luxonFormat.replace(/S{6}/g, "SSS'000'");
}

function parseString(input: string, opts: ParseTimeOptions, field: string, zone: string): number {
  const s = input.trim();
  if (s === '') throw new ValidationError(field, input, 'empty date/time string');
  if (NUMERIC_RE.test(s)) return checkRange(Math.round(Number(s)), field, input);
  if (opts.format !== undefined) {
    const dt = luxon().DateTime.fromFormat(s, forParsing(toLuxonFormat(opts.format)), { zone });
    if (dt.isValid) return checkRange(dt.toMillis(), field, input);
  }
  for (const dt of [
    luxon().DateTime.fromISO(s, { zone }),
    luxon().DateTime.fromSQL(s, { zone }),
    luxon().DateTime.fromFormat(s, forParsing(DEFAULT_FORMAT), { zone }),
    luxon().DateTime.fromRFC2822(s, { zone }),
  ]) {
    if (dt.isValid) return checkRange(dt.toMillis(), field, input);
  }
  const expected = opts.format !== undefined ? `format "${opts.format}", ` : '';
  throw new ValidationError(field, input, `not a recognised date/time (expected ${expected}ISO-8601, "${DEFAULT_FORMAT}" or epoch milliseconds)`);
}

/**
 * Any TimeInput to epoch milliseconds: epoch ms (number or numeric string; fractions rounded), Date,
 * luxon DateTime, ISO-8601/SQL/RFC 2822 strings, the DEFAULT_FORMAT and strings in `opts.format`.
 */
export function datetimeToTimestampMs(input: TimeInput, options?: ParseTimeOptions): number {
  const opts = options ?? {};
  const field = opts.field ?? 'timestamp';
  const zone = checkZone(opts.zone);
  if (typeof input === 'number') return checkRange(Math.round(input), field, input);
  if (typeof input === 'string') return parseString(input, opts, field, zone);
  if (input instanceof Date) return checkRange(input.getTime(), field, input);
  if (luxon().DateTime.isDateTime(input)) {
    if (!input.isValid) throw new ValidationError(field, input.invalidReason ?? 'invalid', 'invalid luxon DateTime');
    return checkRange(input.toMillis(), field, input.toISO());
  }
  throw new ValidationError(field, input, 'expected epoch milliseconds, a Date, a luxon DateTime or a date/time string');
}

export interface FormatTimeOptions {
  /** Default 'UTC'. */
  zone?: string;
  /** 'iso' | 'date' | 'datetime' or a format (luxon tokens or strftime). Default DEFAULT_FORMAT. */
  format?: string;
}

/**
 * Epoch ms to a readable time. Default: a string in DEFAULT_FORMAT in UTC ('2024-01-02 03:04:05.678000').
 * format 'iso' gives an ISO-8601 string with the zone's offset ('Z' in UTC), 'date' a Date, 'datetime' a
 * luxon DateTime in the zone; any other string is used as a format.
 */
export function timestampMsToDatetime(ms: number, options?: FormatTimeOptions): string | Date | DateTimeLike {
  const opts = options ?? {};
  if (typeof ms !== 'number') throw new ValidationError('timestamp', ms, 'expected epoch milliseconds (a number)');
  checkRange(ms, 'timestamp', ms);
  const zone = checkZone(opts.zone);
  const format = opts.format ?? DEFAULT_FORMAT;
  if (format === 'date') return new Date(Math.round(ms));
  const dt = luxon().DateTime.fromMillis(Math.round(ms), { zone });
  if (format === 'datetime') return dt;
  if (format === 'iso') return dt.toISO() as string;
  return dt.toFormat(forPrinting(toLuxonFormat(format)));
}

/** The table's timestamp conversions; the fast path used per row, so no validation beyond the format. */
export function formatTimestamp(ms: number, fmt: TimestampFormat): number | string | Date {
  switch (fmt) {
    case 'ms':
      return ms;
    case 'iso':
      return new Date(ms).toISOString();
    case 'date':
      return new Date(ms);
    default:
      throw new ValidationError('convertTimestamp', fmt, 'must be "ms", "iso" or "date"');
  }
}

/** Approximate length of a relative time in ms: a month is 30 days, a year 365 days. */
export function relativeTimeToMs(rel: RelativeTime): number {
  const r = validateRelativeTime(rel, 'relativeTime');
  return r.value * UNIT_MS[r.unit];
}

/** `now` minus `rel` with calendar math in `zone` (months and years have their real lengths). */
export function subtractRelative(now: TimeInput, rel: RelativeTime, zone = 'UTC'): number {
  const r = validateRelativeTime(rel, 'relativeTime');
  const z = checkZone(zone);
  const base = luxon().DateTime.fromMillis(datetimeToTimestampMs(now, { field: 'now' }), { zone: z });
  return base.minus({ [r.unit]: r.value }).toMillis();
}

/**
 * Checks and normalises a relative time: `{value, unit}` with a positive integer value, or a string
 * like "5 minutes" / "1 day". The unit comes back lowercase plural.
 */
export function validateRelativeTime(rel: unknown, field: string): RelativeTime {
  if (typeof rel === 'string') {
    const m = /^\s*(\S+)\s+([A-Za-z]+)\s*$/.exec(rel);
    if (!m) throw new ValidationError(field, rel, 'expected {value, unit} or a string like "5 minutes"');
    return validateRelativeTime({ value: Number(m[1]), unit: m[2] }, field);
  }
  if (!isPlainObject(rel)) throw new ValidationError(field, rel, 'expected an object {value, unit}');
  return { value: positiveInt(rel.value, `${field}.value`), unit: normalizeTimeUnit(rel.unit, `${field}.unit`) };
}
