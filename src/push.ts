/**
 * Push payloads: values, table rows or user-supplied arrays become KairosDB metrics with an explicit
 * type on every metric (spec surprise #3), validated per point so one bad value does not cost the
 * batch, and a serializer that writes numbers the way KairosDB will read them.
 */
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { KairosError, ValidationError, describeValue } from './errors';
import { datetimeToTimestampMs } from './time';
import type { KairosDataType, KairosPushMetric, PointValue, Row, Tags, TimeInput } from './types';

const gzipAsync = promisify(gzip);

/** How booleans are stored. Default 'long': true -> 1, false -> 0 (KairosDB itself would store the text "true"). */
export type BooleanMode = 'long' | 'double' | 'string';

export interface PushBuildResult {
  metrics: KairosPushMetric[];
  /** One message per rejected point or metric, naming the metric, the field and the value. */
  errors: string[];
  /** Points left out because they failed validation. */
  rejected: number;
}

export const DATA_TYPES: readonly KairosDataType[] = ['double', 'long', 'string'];
const LONG_LIMIT = 2 ** 63;
const NUMERIC_TEXT = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

export interface ValuesOptions {
  timestamp: number;
  tags: Tags;
  /** Per metric; numbers default to 'double', strings to 'string'. 'long' accepts integers only. */
  types?: Record<string, KairosDataType>;
  booleans?: BooleanMode;
}

/** One point per entry of `values` ({metricName: value}), all at `timestamp` with `tags`. */
export function metricsFromValues(values: Record<string, unknown>, opts: ValuesOptions): PushBuildResult {
  if (!isPlainObject(values)) throw new ValidationError('values', values, 'must be an object of metric names to values');
  const tags = requireTags(opts.tags, 'tags');
  const ts = checkTimestampArg(opts.timestamp, 'timestamp');
  const types = checkTypes(opts.types);
  const b = new SeriesBuilder(opts.booleans);
  for (const [name, value] of Object.entries(values)) {
    b.add(name, tags, ts, value, types[name], 'value');
  }
  return b.result();
}

export interface RowsOptions {
  /** Default 'Timestamp'. */
  timestampColumnName?: string;
  tags: Tags;
  /** Zone for timestamp strings without an offset. Default UTC. */
  zone?: string;
  types?: Record<string, KairosDataType>;
  booleans?: BooleanMode;
}

/**
 * Table rows to metrics: every column but the timestamp column is a metric. Empty cells (null or
 * undefined) are skipped, not errors. A column holding numbers and strings becomes two series.
 */
export function metricsFromRows(rows: Row[], opts: RowsOptions): PushBuildResult {
  if (!Array.isArray(rows)) throw new ValidationError('rows', rows, 'must be an array of row objects');
  const tags = requireTags(opts.tags, 'tags');
  const tsCol = opts.timestampColumnName ?? 'Timestamp';
  if (typeof tsCol !== 'string' || tsCol === '') throw new ValidationError('timestampColumnName', tsCol, 'must be a non-empty column name');
  const types = checkTypes(opts.types);
  const b = new SeriesBuilder(opts.booleans);
  rows.forEach((row, i) => {
    if (!isPlainObject(row)) {
      b.reject(`rows[${i}]: must be an object (got ${describeValue(row)})`, 1);
      return;
    }
    const cells = Object.entries(row).filter(([k, v]) => k !== tsCol && v !== null && v !== undefined);
    let ts: number;
    try {
      const raw = row[tsCol];
      if (raw === null || raw === undefined) throw new ValidationError(`rows[${i}].${tsCol}`, raw, 'missing timestamp');
      ts = datetimeToTimestampMs(raw as TimeInput, { zone: opts.zone, field: `rows[${i}].${tsCol}` });
      if (ts <= 0) throw new ValidationError(`rows[${i}].${tsCol}`, raw, 'must be after 1970-01-01T00:00:00Z');
    } catch (err) {
      if (!(err instanceof KairosError)) throw err;
      b.reject(`${err.message} (${cells.length} value(s) in this row dropped)`, cells.length);
      return;
    }
    for (const [name, value] of cells) b.add(name, tags, ts, value, types[name], `rows[${i}].value`);
  });
  return b.result();
}

export interface NormalizeOptions {
  /** Given to metrics that have no tags at all. */
  defaultTags?: Tags;
  booleans?: BooleanMode;
}

/**
 * Checks a user-supplied KairosDB push array (or a single metric object): valid points are kept, grouped
 * by metric, tags, ttl and type; each problem becomes one message. Metrics without tags get defaultTags.
 * A metric without `type` gets one per point: 'double' for numbers, 'string' for text.
 */
export function normalizePushArray(native: unknown, opts: NormalizeOptions = {}): PushBuildResult {
  const list = Array.isArray(native) ? native : isPlainObject(native) ? [native] : undefined;
  if (!list) throw new ValidationError('payload', native, 'must be a KairosDB push array (or one metric object)');
  const defaults = opts.defaultTags && Object.keys(opts.defaultTags).length ? requireTags(opts.defaultTags, 'defaultTags') : undefined;
  const b = new SeriesBuilder(opts.booleans);
  list.forEach((m: unknown, i) => {
    if (!isPlainObject(m)) {
      b.reject(`metric[${i}]: must be an object {name, tags, datapoints} (got ${describeValue(m)})`, 1);
      return;
    }
    const points = collectPoints(m);
    const label = typeof m.name === 'string' && m.name !== '' ? `metric "${m.name}"` : `metric[${i}]`;
    if (typeof m.name !== 'string' || m.name.trim() === '') {
      b.reject(`metric[${i}].name: must be a non-empty string (got ${describeValue(m.name)})`, Math.max(1, points.length));
      return;
    }
    const hasTags = isPlainObject(m.tags) && Object.keys(m.tags).length > 0;
    const tagsIn = hasTags ? m.tags : defaults;
    const tagProblem = tagsIn === undefined ? `${label} tags: every metric needs at least one tag (got ${describeValue(m.tags)})` : tagError(tagsIn, `${label} tags`);
    if (tagProblem) {
      b.reject(tagProblem, Math.max(1, points.length));
      return;
    }
    let type: KairosDataType | undefined;
    if (m.type !== undefined) {
      if (!DATA_TYPES.includes(m.type as KairosDataType)) {
        b.reject(`${label} type: must be one of ${DATA_TYPES.join(', ')} (got ${describeValue(m.type)})`, Math.max(1, points.length));
        return;
      }
      type = m.type as KairosDataType;
    }
    let ttl: number | undefined;
    if (m.ttl !== undefined) {
      if (typeof m.ttl !== 'number' || !Number.isSafeInteger(m.ttl) || m.ttl < 0) {
        b.reject(`${label} ttl: must be an integer number of seconds >= 0 (got ${describeValue(m.ttl)})`, Math.max(1, points.length));
        return;
      }
      ttl = m.ttl;
    }
    if (m.datapoints !== undefined && !Array.isArray(m.datapoints)) {
      b.reject(`${label} datapoints: must be an array of [timestamp, value] (got ${describeValue(m.datapoints)})`, 1);
    }
    const tags = coerceTags(tagsIn as Record<string, unknown>);
    for (const p of points) {
      if (p.bad) {
        b.reject(`${label} ${p.field}: must be [timestamp, value] or [timestamp, value, type] (got ${describeValue(p.bad)})`, 1);
        continue;
      }
      let pointType = type;
      if (p.type !== undefined) {
        if (!DATA_TYPES.includes(p.type as KairosDataType)) {
          b.reject(`${label} ${p.field}[2]: type must be one of ${DATA_TYPES.join(', ')} (got ${describeValue(p.type)})`, 1);
          continue;
        }
        pointType = p.type as KairosDataType;
      }
      const ts = timestampProblem(p.ts);
      if (ts) {
        b.reject(`${label} ${p.tsField}: ${ts} (got ${describeValue(p.ts)})`, 1);
        continue;
      }
      b.add(m.name, tags, p.ts as number, p.value, pointType, p.valueField, ttl);
    }
  });
  return b.result();
}

interface RawPoint {
  ts: unknown;
  value: unknown;
  type?: unknown;
  field: string;
  tsField: string;
  valueField: string;
  bad?: unknown;
}

function collectPoints(m: Record<string, unknown>): RawPoint[] {
  const out: RawPoint[] = [];
  if (Array.isArray(m.datapoints)) {
    m.datapoints.forEach((p: unknown, j: number) => {
      const field = `datapoints[${j}]`;
      if (!Array.isArray(p) || p.length < 2 || p.length > 3) out.push({ ts: undefined, value: undefined, field, tsField: field, valueField: field, bad: p ?? null });
      else out.push({ ts: p[0], value: p[1], type: p[2], field, tsField: `${field}[0]`, valueField: `${field}[1]` });
    });
  }
  // The single-point form; KairosDB reads `time` as an alias that wins over `timestamp`.
  const ts = m.time ?? m.timestamp;
  if (ts !== undefined || m.value !== undefined) {
    out.push({ ts, value: m.value, field: 'timestamp/value', tsField: m.time !== undefined ? 'time' : 'timestamp', valueField: 'value' });
  }
  return out;
}

/** Groups accepted points into metrics and collects the messages for rejected ones. */
class SeriesBuilder {
  private readonly series = new Map<string, KairosPushMetric & { datapoints: Array<[number, PointValue]> }>();
  private readonly errors: string[] = [];
  private rejected = 0;

  constructor(private readonly booleans: BooleanMode = 'long') {
    if (!['long', 'double', 'string'].includes(booleans)) throw new ValidationError('booleans', booleans, "must be 'long', 'double' or 'string'");
  }

  reject(message: string, points: number): void {
    this.errors.push(message);
    this.rejected += points;
  }

  add(name: string, tags: Tags, ts: number, raw: unknown, declared: KairosDataType | undefined, field: string, ttl?: number): void {
    if (typeof name !== 'string' || name.trim() === '') {
      this.reject(`metric name: must be a non-empty string (got ${describeValue(name)})`, 1);
      return;
    }
    const conv = convertValue(raw, declared, this.booleans);
    if (typeof conv === 'string') {
      this.reject(`metric "${name}" ${field} at ${ts}: ${conv} (got ${describeValue(raw)})`, 1);
      return;
    }
    const key = `${name}\u0000${conv.type}\u0000${ttl ?? ''}\u0000${tagKey(tags)}`;
    let s = this.series.get(key);
    if (!s) {
      s = { name, tags, type: conv.type, datapoints: [] };
      if (ttl !== undefined) s.ttl = ttl;
      this.series.set(key, s);
    }
    s.datapoints.push([ts, conv.value]);
  }

  result(): PushBuildResult {
    return { metrics: [...this.series.values()], errors: this.errors, rejected: this.rejected };
  }
}

/** The stored type and wire value of one value, or the reason it cannot be sent. */
function convertValue(raw: unknown, declared: KairosDataType | undefined, booleans: BooleanMode): { type: KairosDataType; value: PointValue } | string {
  let v = raw;
  if (typeof v === 'boolean') {
    const mode = declared ?? booleans;
    if (mode === 'string') return { type: 'string', value: String(v) };
    v = v ? 1 : 0;
    declared = mode;
  }
  if (typeof v === 'string') {
    if (declared === 'string' || declared === undefined) {
      return v === '' ? 'must not be an empty string' : { type: 'string', value: v };
    }
    if (!NUMERIC_TEXT.test(v)) return `is not a number, but the series type is ${declared}`;
    v = Number(v);
  }
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return 'must be a finite number';
    if (declared === 'string') return { type: 'string', value: String(v) };
    if (declared === 'long') {
      if (!Number.isInteger(v)) return 'must be an integer for a long series';
      if (Math.abs(v) >= LONG_LIMIT) return 'is outside the range of a 64-bit long';
      return { type: 'long', value: v };
    }
    return { type: 'double', value: v };
  }
  return 'must be a finite number or a non-empty string';
}

/**
 * Writes the push JSON directly. Doubles always carry a '.' (2 -> 2.0, 1e-7 -> 1.0e-7) so KairosDB
 * reads them as doubles even without the type; longs never use exponent notation.
 */
export function serializePush(metrics: KairosPushMetric[]): string {
  let out = '[';
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i];
    if (i > 0) out += ',';
    out += `{"name":${JSON.stringify(m.name)},"tags":{`;
    let first = true;
    for (const k in m.tags) {
      out += `${first ? '' : ','}${JSON.stringify(k)}:${JSON.stringify(m.tags[k])}`;
      first = false;
    }
    out += '}';
    if (m.type !== undefined) out += `,"type":${JSON.stringify(m.type)}`;
    if (m.ttl !== undefined) out += `,"ttl":${longText(m.ttl)}`;
    if (m.datapoints) {
      out += ',"datapoints":[';
      const dps = m.datapoints;
      for (let j = 0; j < dps.length; j++) {
        const p = dps[j];
        const t = p.length === 3 ? p[2] : m.type;
        out += `${j > 0 ? ',' : ''}[${longText(p[0])},${valueText(p[1], t)}${p.length === 3 ? `,${JSON.stringify(p[2])}` : ''}]`;
      }
      out += ']';
    }
    if (m.timestamp !== undefined) out += `,"timestamp":${longText(m.timestamp)}`;
    if (m.value !== undefined) out += `,"value":${valueText(m.value, m.type)}`;
    out += '}';
  }
  return out + ']';
}

function valueText(v: PointValue, type: string | undefined): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError('value', v, 'cannot be serialized: not a finite number or string');
  if (type === 'long' || (type !== 'double' && Number.isInteger(v))) return longText(v);
  return doubleText(v);
}

function doubleText(v: number): string {
  const s = String(v);
  if (s.includes('.')) return s;
  const e = s.search(/e/i);
  return e < 0 ? `${s}.0` : `${s.slice(0, e)}.0${s.slice(e)}`;
}

function longText(v: number): string {
  if (Number.isSafeInteger(v)) return String(v);
  if (Number.isInteger(v)) return BigInt(v).toString();
  throw new ValidationError('long', v, 'cannot be serialized as an integer');
}

/** Gzip for a serialized push (Content-Encoding: gzip, KairosDB 1.3+). */
export function gzipPush(text: string | Buffer): Promise<Buffer> {
  return gzipAsync(text);
}

/** Number of points in one metric (datapoints plus a single timestamp/value). */
export function countPoints(m: KairosPushMetric): number {
  return (m.datapoints?.length ?? 0) + (m.timestamp !== undefined && m.value !== undefined ? 1 : 0);
}

/** Splits metrics into requests of at most maxPointsPerRequest points; a large metric is spread over several. */
export function splitPush(metrics: KairosPushMetric[], maxPointsPerRequest: number): KairosPushMetric[][] {
  if (typeof maxPointsPerRequest !== 'number' || !Number.isSafeInteger(maxPointsPerRequest) || maxPointsPerRequest < 1) {
    throw new ValidationError('maxPointsPerRequest', maxPointsPerRequest, 'must be an integer >= 1');
  }
  const batches: KairosPushMetric[][] = [];
  let current: KairosPushMetric[] = [];
  let room = maxPointsPerRequest;
  const flush = (): void => {
    if (current.length) batches.push(current);
    current = [];
    room = maxPointsPerRequest;
  };
  for (const m of metrics) {
    let points = toDatapoints(m);
    if (points.length === 0) continue;
    while (points.length > 0) {
      if (room === 0) flush();
      const take = points.length <= room ? points : points.slice(0, room);
      const { timestamp: _t, value: _v, ...rest } = m;
      current.push({ ...rest, datapoints: take });
      room -= take.length;
      points = points.length <= take.length ? [] : points.slice(take.length);
    }
  }
  flush();
  return batches;
}

function toDatapoints(m: KairosPushMetric): NonNullable<KairosPushMetric['datapoints']> {
  const dps = m.datapoints ?? [];
  if (m.timestamp !== undefined && m.value !== undefined) return [...dps, [m.timestamp, m.value]];
  return dps;
}

function requireTags(tags: unknown, field: string): Tags {
  if (!isPlainObject(tags) || Object.keys(tags).length === 0) {
    throw new ValidationError(field, tags, 'every metric needs at least one tag, e.g. {"host": "plc1"}');
  }
  const problem = tagError(tags, field);
  if (problem) throw new ValidationError(field, tags, problem.slice(field.length + 2));
  return coerceTags(tags);
}

/** Why a tag set is unusable, or undefined. Numbers are accepted (KairosDB stores them as text). */
function tagError(tags: unknown, label: string): string | undefined {
  if (!isPlainObject(tags)) return `${label}: must be an object of tag names to values (got ${describeValue(tags)})`;
  if (Object.keys(tags).length === 0) return `${label}: every metric needs at least one tag (got object)`;
  for (const [k, v] of Object.entries(tags)) {
    if (k.trim() === '') return `${label}: tag names must be non-empty (got ${describeValue(k)})`;
    const ok = (typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) return `${label}: tag "${k}" needs a non-empty string value (got ${describeValue(v)})`;
  }
  return undefined;
}

function coerceTags(tags: Record<string, unknown>): Tags {
  const out: Tags = {};
  for (const [k, v] of Object.entries(tags)) out[k] = String(v);
  return out;
}

function tagKey(tags: Tags): string {
  return Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`)
    .join('\u0001');
}

function timestampProblem(ts: unknown): string | undefined {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) return 'timestamp must be epoch milliseconds (a finite number)';
  if (!Number.isInteger(ts)) return 'timestamp must be whole milliseconds';
  if (ts <= 0) return 'timestamp must be after 1970-01-01T00:00:00Z';
  if (!Number.isSafeInteger(ts)) return 'timestamp is out of range';
  return undefined;
}

function checkTimestampArg(ts: unknown, field: string): number {
  const p = timestampProblem(ts);
  if (p) throw new ValidationError(field, ts, p);
  return ts as number;
}

function checkTypes(types: unknown): Record<string, KairosDataType> {
  if (types === undefined) return {};
  if (!isPlainObject(types)) throw new ValidationError('types', types, 'must be an object of metric names to double, long or string');
  for (const [k, v] of Object.entries(types)) {
    if (!DATA_TYPES.includes(v as KairosDataType)) throw new ValidationError(`types.${k}`, v, 'must be double, long or string');
  }
  return types as Record<string, KairosDataType>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date);
}
