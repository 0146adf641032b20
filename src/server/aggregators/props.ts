/**
 * Readers for aggregator and group_by properties that fail the way KairosDB 1.3.0 does.
 * KairosDB feeds each property through Gson (lenient) and bean validation, so a bad value gives
 * either a Gson message (`java.lang.IllegalStateException: Expected NUMBER but was BOOLEAN at path $`)
 * or a `<context>.<property> <reason>` line; these helpers reproduce both shapes.
 */
import { IANAZone } from 'luxon';
import { ServerError, badRequest } from '../server-errors';
import { isPlainObject } from '../../util/validate';
import { UNIT_MS, type TimeUnit } from '../../time/unit-table';

/** KairosDB's TimeUnit enum: the library's units (src/time/unit-table.ts) as Java spells them. */
export const TIME_UNITS = ['MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS'] as const;
export type JavaTimeUnit = (typeof TIME_UNITS)[number];

/**
 * A unit's fixed length from the one unit table (a month 30 days, a year 365). Where KairosDB counts on the
 * calendar (months, years, local days) or differs (TimeGroupBy's 52-week year), the caller says so.
 */
export function unitMs(unit: JavaTimeUnit): number {
  return UNIT_MS[unit.toLowerCase() as TimeUnit];
}

export interface Duration {
  value: number;
  unit: JavaTimeUnit;
}

/** Gson's token name for a JSON value, as it appears in "Expected X but was Y". */
export function gsonToken(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (Array.isArray(v)) return 'BEGIN_ARRAY';
  switch (typeof v) {
    case 'string':
      return 'STRING';
    case 'number':
      return 'NUMBER';
    case 'boolean':
      return 'BOOLEAN';
    default:
      return 'BEGIN_OBJECT';
  }
}

/** The 400 KairosDB answers when Gson meets the wrong JSON token (MetricsResource passes Gson's text on). */
export function gsonTypeError(expected: string, v: unknown, path = '$'): ServerError {
  return badRequest(`java.lang.IllegalStateException: Expected ${expected} but was ${gsonToken(v)} at path ${path}`);
}

export { isPlainObject };

/** Java's Double.toString for the values that show up in messages (2 -> "2.0", 1e21 -> "1.0E21"). */
export function javaDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e7) return Number.isInteger(x) ? `${x}.0` : String(x);
  const [mant, exp] = x.toExponential().split('e');
  return `${mant.includes('.') ? mant : mant + '.0'}E${exp.replace('+', '')}`;
}

const JAVA_DOUBLE = /^[+-]?(NaN|Infinity|((\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)[fFdD]?)$/;

/** Double.parseDouble: trims, accepts NaN/Infinity and a trailing d/f; anything else is a NumberFormatException. */
function parseJavaDouble(s: string): number | undefined {
  const t = s.trim();
  if (!JAVA_DOUBLE.test(t)) return undefined;
  const core = t.replace(/[fFdD]$/, '');
  if (core.endsWith('NaN')) return NaN;
  if (core.endsWith('Infinity')) return core.startsWith('-') ? -Infinity : Infinity;
  return Number(core);
}

/** A `double` property. Gson leaves NumberFormatException unwrapped; QueryParser reports it against the property. */
export function readDouble(v: unknown, prop: string, ctx: string, path = '$'): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    const n = parseJavaDouble(v);
    if (n === undefined) throw badRequest(`${ctx}.${prop} For input string: "${v.trim()}"`);
    return n;
  }
  throw gsonTypeError('NUMBER', v, path);
}

/** A `long`/`int` property: JSON numbers are truncated (Gson goes through BigDecimal), strings must be integers. */
export function readInteger(v: unknown, bits: 32 | 64, path = '$'): number {
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 0;
    const t = Math.trunc(v);
    // int properties wrap like Java's (int) cast of a long.
    return bits === 32 ? t | 0 : t;
  }
  if (typeof v === 'string') {
    const inRange = bits === 32 ? (n: number) => n >= -2147483648 && n <= 2147483647 : (n: number) => Number.isSafeInteger(n);
    if (/^[+-]?\d+$/.test(v) && inRange(Number(v))) return Number(v);
    throw badRequest(`java.lang.NumberFormatException: For input string: "${v}"`);
  }
  throw gsonTypeError('NUMBER', v, path);
}

export function readBoolean(v: unknown, path = '$'): boolean {
  if (typeof v === 'boolean') return v;
  // Gson's boolean adapter reads a string with Boolean.parseBoolean, so "yes" is false.
  if (typeof v === 'string') return v.toLowerCase() === 'true';
  throw gsonTypeError('BOOLEAN', v, path);
}

export function readString(v: unknown, path = '$'): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw gsonTypeError('STRING', v, path);
}

/** JsonElement.getAsString on something that is not a primitive: an UnsupportedOperationException (500). */
function asJsonString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new ServerError(500, Array.isArray(v) ? 'JsonArray' : 'JsonObject');
}

/** Time units ignore case; an unknown one is reported with the unit itself as the property. */
export function readTimeUnit(v: unknown, ctx: string): JavaTimeUnit {
  const s = asJsonString(v);
  const unit = TIME_UNITS.find((u) => u === s.toUpperCase());
  if (!unit) throw badRequest(`${ctx}.${s} is not a valid time unit, must be one of ${TIME_UNITS.join(',')}`);
  return unit;
}

/** `{value, unit}` as in sampling and range_size, validated like KairosDB's Duration bean. */
export function readDuration(v: unknown, prop: string, ctx: string): Duration {
  if (!isPlainObject(v)) throw gsonTypeError('BEGIN_OBJECT', v);
  let value = 0;
  let unit: JavaTimeUnit | null = null;
  if (v.value !== undefined && v.value !== null) value = readInteger(v.value, 64, '$.value');
  if (v.unit !== undefined && v.unit !== null) unit = readTimeUnit(v.unit, ctx);
  const problems: string[] = [];
  if (value < 0) problems.push(`${ctx}.${prop}.value must be greater than or equal to 0`);
  if (unit === null) problems.push(`${ctx}.${prop}.unit may not be null`);
  if (problems.length) throw badRequest(...problems);
  return { value, unit: unit as JavaTimeUnit };
}

/** Enums read by KairosDB's lowercase adapter: only the exact lowercase name matches, anything else is null. */
export function readLowercaseEnum<T extends string>(v: unknown, options: readonly T[]): T | null {
  return typeof v === 'string' && (options as readonly string[]).includes(v) ? (v as T) : null;
}

/** trim and filter_op ignore case; their shared deserializer calls every enum a "trim type". */
export function readTrimTypeEnum<T extends string>(v: unknown, options: readonly T[], ctx: string): T {
  const s = asJsonString(v);
  const hit = options.find((o) => o === s.toLowerCase());
  if (hit) return hit;
  const quoted = options.map((o) => `'${o}'`);
  const list = quoted.length > 1 ? `${quoted.slice(0, -1).join(', ')} or ${quoted[quoted.length - 1]}` : quoted[0];
  throw badRequest(`${ctx}.${s} is not a valid trim type, must be ${list}.`);
}

/** A Joda zone ID; the empty string means UTC. Returns a zone luxon understands. */
export function readTimeZone(v: unknown, ctx: string): string {
  const s = asJsonString(v);
  if (s === '') return 'UTC';
  const offset = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(s);
  if (offset) return `UTC${offset[1]}${Number(offset[2])}${offset[3] ? ':' + offset[3] : ''}`;
  if (IANAZone.isValidZone(s)) return s;
  throw badRequest(`${ctx}.${s} is not a valid time zone, must be one of [${supportedZones().join(', ')}]`);
}

let zoneList: string[] | undefined;
function supportedZones(): string[] {
  if (!zoneList) {
    const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
    zoneList = intl.supportedValuesOf ? ['UTC', ...intl.supportedValuesOf('timeZone')] : ['UTC'];
  }
  return zoneList;
}

/** Map<String,String> through Gson: an object, or Gson's array-of-pairs form. */
export function readStringMap(v: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (Array.isArray(v)) {
    v.forEach((entry, i) => {
      if (!Array.isArray(entry)) throw gsonTypeError('BEGIN_ARRAY', entry, `$[${i}]`);
      if (entry.length >= 2) out[readString(entry[0], `$[${i}][0]`)] = readString(entry[1], `$[${i}][1]`);
    });
    return out;
  }
  if (!isPlainObject(v)) throw gsonTypeError('BEGIN_OBJECT', v);
  for (const [k, val] of Object.entries(v)) {
    if (val === null) continue;
    out[k] = readString(val, `$.${k}`);
  }
  return out;
}

/** A List<String> or String[] property. */
export function readStringList(v: unknown): string[] {
  if (!Array.isArray(v)) throw gsonTypeError('BEGIN_ARRAY', v);
  return v.map((x, i) => readString(x, `$[${i}]`));
}

/** A double[] property. */
export function readDoubleList(v: unknown, prop: string, ctx: string): number[] {
  if (!Array.isArray(v)) throw gsonTypeError('BEGIN_ARRAY', v);
  return v.map((x, i) => readDouble(x, prop, ctx, `$[${i}]`));
}

/** QueryParser's answer to a property no setter takes (a 400 without the query context). */
export function unknownProperty(prop: string, name: string, javaClass: string): ServerError {
  return badRequest(
    `Property '${prop}' was specified for object '${name}' but no matching setter was found on 'class ${javaClass}'`,
  );
}

/**
 * Bean validation of a null property value throws before any setter runs (500 in KairosDB).
 * Kept as one place so every reader treats JSON null the same.
 */
export function nullProperty(): ServerError {
  return new ServerError(500, 'cannot validate null');
}
