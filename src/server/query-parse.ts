/**
 * Parsing and validation of KairosDB query bodies (query, query/tags, delete), reproducing
 * KairosDB 1.3's QueryParser: Gson's leniency and type errors, the bean-validation messages (no
 * trailing period for queries) and the order in which they are checked.
 */
import { DateTime, IANAZone } from 'luxon';
import { ServerError } from './server-errors';
import { GsonError, parseLenient, STATE_CLASS, NUMBER_FORMAT_CLASS } from './json-reader';
import { parseAggregators, type CompiledAggregator } from './aggregators/compile';
import { TIME_UNITS, unitMs, type JavaTimeUnit } from './aggregators/props';
import { isPlainObject } from '../util/validate';
import { parseGroupBys, type CompiledGrouper } from './groupers';

export interface MetricQuery {
  name: string;
  /** Tag filter: OR within a tag, AND across tags. */
  tags: Map<string, string[]>;
  /** 0 means no limit. */
  limit: number;
  order: 'asc' | 'desc';
  excludeTags: boolean;
  start: number;
  end: number;
  aggregators: CompiledAggregator[];
  /** Tag names of a `tag` group_by, or null without one. */
  groupByTags: string[] | null;
  groupers: CompiledGrouper[];
}

export interface ParsedQuery {
  metrics: MetricQuery[];
  timeZone: string;
}

/** Far-future end used when a query gives none (KairosDB uses Long.MAX_VALUE). */
export const NO_END = Number.MAX_SAFE_INTEGER;

/** Reads a query body into a JSON object the way Gson's JsonParser (lenient) would. */
export function readQueryBody(text: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = text.trim() === '' ? null : JSON.parse(text);
  } catch {
    try {
      v = parseLenient(text);
    } catch (e) {
      if (e instanceof GsonError) throw new ServerError(400, e.wrapped());
      throw e;
    }
  }
  if (!isPlainObject(v)) {
    throw new ServerError(500, `Not a JSON Object: ${v === null ? 'null' : JSON.stringify(v)}`);
  }
  return v;
}

/** Gson's name for the token a JS value would read as. */
function tokenOf(v: unknown): string {
  if (Array.isArray(v)) return 'BEGIN_ARRAY';
  if (v === null) return 'NULL';
  switch (typeof v) {
    case 'object':
      return 'BEGIN_OBJECT';
    case 'boolean':
      return 'BOOLEAN';
    case 'number':
      return 'NUMBER';
    default:
      return 'STRING';
  }
}

function gsonState(expected: string, v: unknown, path: string): ServerError {
  return new ServerError(400, `${STATE_CLASS}: Expected ${expected} but was ${tokenOf(v)} at path ${path}`);
}

/** JsonTreeReader.nextLong as Gson's Long adapter uses it. */
function treeLong(v: unknown, path: string): number | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Math.trunc(v);
  if (typeof v === 'string') {
    if (/^[+-]?\d+$/.test(v.trim())) return Number(v.trim());
    if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v.trim())) return Math.trunc(Number(v));
    throw new ServerError(400, `${NUMBER_FORMAT_CLASS}: For input string: "${v}"`);
  }
  throw gsonState('NUMBER', v, path);
}

function treeString(v: unknown, path: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw gsonState('a string', v, path);
}

function treeBoolean(v: unknown, path: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v.toLowerCase() === 'true';
  throw gsonState('a boolean', v, path);
}

function timeUnit(unit: unknown, context: string): JavaTimeUnit {
  const u = typeof unit === 'string' ? unit.toUpperCase() : '';
  const known = TIME_UNITS.find((k) => k === u);
  if (!known) throw new ServerError(400, `${context}.${String(unit)} is not a valid time unit, must be one of ${TIME_UNITS.join(',')}`);
  return known;
}

/** `now` minus a relative time; months and years on the calendar (UTC), as Joda does. */
export function relativeTo(now: number, value: number, unit: JavaTimeUnit): number {
  if (unit === 'MONTHS' || unit === 'YEARS') return DateTime.fromMillis(now, { zone: 'utc' }).minus(unit === 'MONTHS' ? { months: value } : { years: value }).toMillis();
  return now - value * unitMs(unit);
}

function relative(v: unknown, path: string, now: number): number | null {
  if (v === undefined || v === null) return null;
  if (!isPlainObject(v)) throw gsonState('BEGIN_OBJECT', v, path);
  const r = v as Record<string, unknown>;
  const value = treeLong(r.value, `${path}.value`) ?? 0;
  const unit = timeUnit(r.unit, 'query');
  return relativeTo(now, value, unit);
}

/** A Joda zone ID (IANA name or fixed offset) as a zone luxon understands, or null. */
function zoneOf(tz: string): string | null {
  if (tz === '') return 'UTC';
  const offset = /^([+-])(\d{1,2})(?::?(\d{2}))?$/.exec(tz);
  if (offset) return `UTC${offset[1]}${Number(offset[2])}${offset[3] ? ':' + offset[3] : ''}`;
  return IANAZone.isValidZone(tz) ? tz : null;
}

function zoneList(): string {
  const intl = Intl as unknown as { supportedValuesOf?: (key: string) => string[] };
  return '[' + ['UTC', ...(intl.supportedValuesOf ? intl.supportedValuesOf('timeZone') : [])].join(', ') + ']';
}

export interface ParseOptions {
  now: number;
  /** Aggregators and group_by are parsed (validated) but unused by query/tags and delete. */
  forTags?: boolean;
}

export function parseQuery(body: Record<string, unknown>, opts: ParseOptions): ParsedQuery {
  const now = opts.now;
  const startAbs = treeLong(body.start_absolute, '$.start_absolute');
  const endAbs = treeLong(body.end_absolute, '$.end_absolute');
  const startRel = relative(body.start_relative, '$.start_relative', now);
  const endRel = relative(body.end_relative, '$.end_relative', now);
  treeLong(body.cache_time, '$.cache_time');
  let timeZone = 'UTC';
  const tz = treeString(body.time_zone, '$.time_zone');
  if (tz) {
    const zone = zoneOf(tz);
    if (!zone) throw new ServerError(400, `query.${tz} is not a valid time zone, must be one of ${zoneList()}`);
    timeZone = zone;
  }

  const metricsJson = body.metrics;
  if (metricsJson === undefined || metricsJson === null) throw new ServerError(400, 'query.metric[] must have a size of at least 1');
  if (!Array.isArray(metricsJson)) throw new ServerError(500, `Not a JSON Array: ${JSON.stringify(metricsJson)}`);

  // Gson builds every metric (tag filters included) before any bean validation runs.
  const tagFilters = metricsJson.map((m: unknown) =>
    isPlainObject(m) ? parseTagFilter(m.tags) : new Map<string, string[]>(),
  );
  const metrics: MetricQuery[] = [];
  metricsJson.forEach((m: unknown, i: number) => {
    const ctx = `query.metric[${i}]`;
    if (!isPlainObject(m)) {
      throw new ServerError(400, `${STATE_CLASS}: Expected BEGIN_OBJECT but was ${tokenOf(m)} at path $`);
    }
    const mj = m as Record<string, unknown>;
    const name = treeString(mj.name, '$.name');
    const tags = tagFilters[i];
    const limitRaw = treeLong(mj.limit, '$.limit');
    const excludeTags = treeBoolean(mj.exclude_tags, '$.exclude_tags');
    if (name === null) throw new ServerError(400, `${ctx}.name may not be null`);
    if (name === '') throw new ServerError(400, `${ctx}.name may not be empty`);

    let start: number;
    if (startAbs !== null) start = startAbs;
    else if (startRel !== null) start = startRel;
    else throw new ServerError(400, `${ctx}.start_time relative or absolute time must be set`);
    const end = endAbs ?? endRel ?? NO_END;
    if (end < start) throw new ServerError(400, `${ctx}.end_time must be greater than the start time`);

    let groupByTags: string[] | null = null;
    let groupers: CompiledGrouper[] = [];
    if (mj.group_by !== undefined && mj.group_by !== null) {
      const g = parseGroupBys(mj.group_by, ctx);
      groupByTags = g.tagNames;
      groupers = g.groupers;
    }
    let aggregators: CompiledAggregator[] = [];
    if (mj.aggregators !== undefined && mj.aggregators !== null) aggregators = parseAggregators(mj.aggregators, ctx);

    let order: 'asc' | 'desc' = 'asc';
    if (mj.order !== undefined && mj.order !== null) {
      const o = String(mj.order).toLowerCase();
      if (o !== 'asc' && o !== 'desc') throw new ServerError(400, `${ctx}.order must be either 'asc' or 'desc'`);
      order = o;
    }
    const limit = limitRaw ?? 0;
    if (limit < 0 && !opts.forTags) {
      // KairosDB hands the limit to the datastore, whose SQL rejects it.
      throw new ServerError(500, `Invalid value "${limit}" for parameter "LIMIT"`);
    }
    metrics.push({ name, tags, limit, order, excludeTags, start, end, aggregators, groupByTags, groupers });
  });
  return { metrics, timeZone };
}

/**
 * Tag filter values may be one string or an array of strings. Checked as QueryParser's Metric
 * deserializer does: an empty tag name, or a null or empty value, is a 400 naming the entry's index.
 */
function parseTagFilter(v: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (v === undefined || v === null) return out;
  if (!isPlainObject(v)) throw gsonState('BEGIN_OBJECT', v, '$.tags');
  let count = 0;
  for (const [k, val] of Object.entries(v as Record<string, unknown>)) {
    const ctx = `query.tags[${count}]`;
    if (k === '') throw new ServerError(400, `${ctx} name must not be empty`);
    const list = Array.isArray(val) ? val : [val];
    const values: string[] = [];
    for (const x of list) {
      const text = x === null || x === undefined ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x);
      if (text === '') throw new ServerError(400, `${ctx}.${k} value must not be null or empty`);
      values.push(text);
    }
    const prev = out.get(k) ?? [];
    out.set(k, [...prev, ...values]);
    count++;
  }
  return out;
}

/** Whether a series' tags pass a filter; "regex:" values are matched whole, as in KairosDB 1.3. */
export function matchesTags(seriesTags: Record<string, string>, filter: Map<string, string[]>): boolean {
  for (const [k, values] of filter) {
    const have = seriesTags[k];
    if (have === undefined) return false;
    if (values.length === 0) continue;
    let ok = false;
    for (const want of values) {
      if (want.startsWith('regex:')) {
        try {
          if (new RegExp(`^(?:${want.slice(6)})$`).test(have)) ok = true;
        } catch {
          // an invalid pattern matches nothing
        }
      } else if (want === have) ok = true;
      if (ok) break;
    }
    if (!ok) return false;
  }
  return true;
}
