/**
 * Push payloads: values, table rows or user-supplied arrays become KairosDB metrics with an explicit
 * type on every metric (spec surprise #3), validated per point so one bad value does not cost the
 * batch, and a serializer that writes numbers the way KairosDB will read them.
 */
import { promisify } from 'node:util';
import { KairosError, ValidationError, describeValue } from '../errors';
import { JsonByteWriter } from './json-byte-writer';
import { MAX_TIMESTAMP_MS, datetimeToTimestampMs } from '../time/timestamps';
import type { KairosDataType, KairosPushMetric, PointValue, Row, Tags, TimeInput } from '../types';
import { isObjectNotDateOrBuffer } from '../util/validate';


/** How booleans are stored. Default 'long': true -> 1, false -> 0 (KairosDB itself would store the text "true"). */
export type BooleanMode = 'long' | 'double' | 'string';

export interface PushBuildResult {
  metrics: KairosPushMetric[];
  /**
   * Double series held as columns (columnsFromRowsSliced): points of the message besides `metrics`,
   * encoded straight into push bodies by the write queue. Absent from every other builder's result.
   */
  columns?: DoubleColumns[];
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
  if (!isObjectNotDateOrBuffer(values)) throw new ValidationError('values', values, 'must be an object of metric names to values');
  const { tags, key: tagsKey } = checkedTags(opts.tags);
  const ts = checkTimestampArg(opts.timestamp, 'timestamp');
  if (opts.types === undefined && opts.booleans === undefined) {
    const plain = plainDoubles(values, tags, ts);
    if (plain) return { metrics: plain, errors: [], rejected: 0 };
  }
  const types = checkTypes(opts.types);
  const b = new SeriesBuilder(opts.booleans);
  for (const name in values) {
    if (Object.prototype.hasOwnProperty.call(values, name)) b.add(name, tags, ts, values[name], own(types, name), 'value', undefined, tagsKey);
  }
  return b.result();
}

/**
 * metricsFromValues for the common message (every value a finite number, no types given): one double
 * series per name, as the builder would make them, without its map and keys. Names are an object's keys,
 * so no two values share a series. Undefined when any value needs the general path.
 */
function plainDoubles(values: Record<string, unknown>, tags: Tags, ts: number): KairosPushMetric[] | undefined {
  const out: KairosPushMetric[] = [];
  for (const name in values) {
    if (!Object.prototype.hasOwnProperty.call(values, name)) continue;
    const v = values[name];
    if (typeof v !== 'number' || !Number.isFinite(v) || name.trim() === '') return undefined;
    out.push({ name, tags, type: 'double', datapoints: [[ts, v]] });
  }
  return out;
}

/**
 * requireTags and tagKey of a tag set. A frozen set (the write nodes share one per connection) cannot
 * change, so its checked copy and key are kept and reused for every message that carries it.
 */
const checkedFrozenTags = new WeakMap<object, { tags: Tags; key: string }>();
function checkedTags(raw: unknown): { tags: Tags; key: string } {
  const frozen = isObjectNotDateOrBuffer(raw) && Object.isFrozen(raw);
  if (frozen) {
    const hit = checkedFrozenTags.get(raw);
    if (hit) return hit;
  }
  const tags = requireTags(raw, 'tags');
  // The checked copy of a frozen set is shared by every message that carries it: frozen as well.
  const checked = { tags: frozen ? Object.freeze(tags) : tags, key: tagKey(tags) };
  if (frozen) checkedFrozenTags.set(raw as object, checked);
  return checked;
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
  const builder = rowsBuilder(rows, opts, false);
  builder.addRange(0, rows.length);
  return builder.result();
}

/**
 * metricsFromRows in slices of `sliceRows` rows, one event-loop turn each (same result): building
 * a million points at once would stall Node-RED for the better part of a second.
 */
export async function metricsFromRowsSliced(rows: Row[], opts: RowsOptions, sliceRows = 10_000): Promise<PushBuildResult> {
  return buildSliced(rowsBuilder(rows, opts, false), rows.length, sliceRows);
}

/**
 * metricsFromRowsSliced, but each numeric column's double series is kept as two columns (timestamps,
 * values) in `columns` instead of one [timestamp, value] array per point in `metrics`: the same points,
 * for the write queue to encode straight into push bodies. (A million small arrays cost more to make
 * and to collect than everything else the batch node does with them.)
 */
export async function columnsFromRowsSliced(rows: Row[], opts: RowsOptions, sliceRows = 10_000): Promise<PushBuildResult> {
  return buildSliced(rowsBuilder(rows, opts, true), rows.length, sliceRows);
}

/** columnsFromRowsSliced in one go (for a slice of a table read elsewhere, such as CSV text). */
export function columnsFromRows(rows: Row[], opts: RowsOptions): PushBuildResult {
  const builder = rowsBuilder(rows, opts, true);
  builder.addRange(0, rows.length);
  return builder.result();
}

/** Appends the points of `from` to `into` (the same series), growing its arrays as needed. */
export function appendColumns(into: DoubleColumns, from: DoubleColumns): void {
  const need = into.length + from.length;
  if (need > into.timestamps.length) {
    const cap = Math.max(need, into.timestamps.length * 2);
    const ts = new Float64Array(cap);
    const vs = new Float64Array(cap);
    ts.set(into.timestamps.subarray(0, into.length));
    vs.set(into.values.subarray(0, into.length));
    into.timestamps = ts;
    into.values = vs;
  }
  into.timestamps.set(from.timestamps.subarray(0, from.length), into.length);
  into.values.set(from.values.subarray(0, from.length), into.length);
  into.length = need;
}

async function buildSliced(builder: ReturnType<typeof rowsBuilder>, count: number, sliceRows: number): Promise<PushBuildResult> {
  for (let from = 0; from < count; from += sliceRows) {
    if (from > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    builder.addRange(from, Math.min(count, from + sliceRows));
  }
  return builder.result();
}

/**
 * A double series as columns: point i (i < length) is [timestamps[i], values[i]]; timestamps are safe
 * integers > 0, values finite. Typed arrays sized once for the table: no growing, nothing for the
 * garbage collector to scan or move.
 */
export interface DoubleColumns {
  name: string;
  tags: Tags;
  timestamps: Float64Array;
  values: Float64Array;
  length: number;
}

/** The points of column series (see PushBuildResult.columns). */
export function columnPoints(columns: readonly DoubleColumns[] | undefined): number {
  let n = 0;
  if (columns) for (const c of columns) n += c.length;
  return n;
}

/** Column series as push metrics with [timestamp, value] points (for a store that keeps metrics). */
export function metricsFromColumns(columns: readonly DoubleColumns[]): KairosPushMetric[] {
  return columns.map((c) => {
    const datapoints: Array<[number, PointValue]> = new Array(c.length);
    for (let i = 0; i < datapoints.length; i++) datapoints[i] = [c.timestamps[i], c.values[i]];
    return { name: c.name, tags: c.tags, type: 'double', datapoints };
  });
}

/** The row loop of metricsFromRows over rows[from, to); rows may be added range by range, in order. */
function rowsBuilder(rows: Row[], opts: RowsOptions, columnar: boolean): { addRange(from: number, to: number): void; result(): PushBuildResult } {
  if (!Array.isArray(rows)) throw new ValidationError('rows', rows, 'must be an array of row objects');
  const tags = requireTags(opts.tags, 'tags');
  const tsCol = opts.timestampColumnName ?? 'Timestamp';
  if (typeof tsCol !== 'string' || tsCol === '') throw new ValidationError('timestampColumnName', tsCol, 'must be a non-empty column name');
  const types = checkTypes(opts.types);
  const b = new SeriesBuilder(opts.booleans);
  const tagsKey = tagKey(tags);
  const columns = new Map<string, ColumnSink>();
  const doubleColumns: DoubleColumns[] = [];
  const column = (name: string): ColumnSink => {
    let c = columns.get(name);
    if (!c) {
      c = { name, declared: own(types, name), valid: name.trim() !== '' };
      columns.set(name, c);
    }
    return c;
  };
  // Numeric epoch-ms timestamps skip the general parser, which would only check the zone and range.
  const plainMs = usableZone(opts.zone);
  let lastKeys: string[] = [];
  let lastSinks: ColumnSink[] = [];
  const addRange = (from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      const row = rows[i];
      if (!isObjectNotDateOrBuffer(row)) {
        b.reject(`rows[${i}]: must be an object (got ${describeValue(row)})`, 1);
        continue;
      }
      const raw = own(row, tsCol);
      let ts: number;
      if (plainMs && typeof raw === 'number' && Number.isSafeInteger(raw) && raw > 0 && raw <= MAX_TIMESTAMP_MS) {
        ts = raw;
      } else {
        try {
          if (raw === null || raw === undefined) throw new ValidationError(`rows[${i}].${tsCol}`, raw, 'missing timestamp');
          ts = datetimeToTimestampMs(raw as TimeInput, { zone: opts.zone, field: `rows[${i}].${tsCol}` });
          if (ts <= 0) throw new ValidationError(`rows[${i}].${tsCol}`, raw, 'must be after 1970-01-01T00:00:00Z');
        } catch (err) {
          if (!(err instanceof KairosError)) throw err;
          const cells = Object.entries(row).filter(([k, v]) => k !== tsCol && v !== null && v !== undefined).length;
          b.reject(`${err.message} (${cells} value(s) in this row dropped)`, cells);
          continue;
        }
      }
      // Rows of one table usually share their key order: compared in place with the previous row's keys
      // (no array per row), and that row's column lookups reused.
      // (Only for plain rows: for-in would also list keys a row inherits.)
      let same = lastKeys.length > 0 && Object.getPrototypeOf(row) === Object.prototype;
      if (same) {
        let j = 0;
        for (const k in row) {
          if (j >= lastKeys.length || k !== lastKeys[j]) {
            same = false;
            break;
          }
          j++;
        }
        if (j !== lastKeys.length) same = false;
      }
      const keys = same ? lastKeys : Object.keys(row);
      const sinks = same ? lastSinks : keys.map(column);
      lastKeys = keys;
      lastSinks = sinks;
      for (let j = 0; j < keys.length; j++) {
        const name = keys[j];
        const value = row[name];
        if (value === null || value === undefined || name === tsCol) continue;
        const sink = sinks[j];
        if (typeof value === 'number' && sink.valid && sink.declared === undefined && Number.isFinite(value)) {
          if (columnar) {
            // This series gets its points only here (a column's finite numbers): no entry in the builder.
            let c = sink.columns;
            // Room for one point per row: a column never holds more.
            if (!c) doubleColumns.push((c = sink.columns = { name, tags, timestamps: new Float64Array(rows.length), values: new Float64Array(rows.length), length: 0 }));
            c.timestamps[c.length] = ts;
            c.values[c.length++] = value;
          } else {
            (sink.double ??= b.series(name, tags, tagsKey, 'double')).push([ts, value]);
          }
        } else {
          b.add(name, tags, ts, value, sink.declared, `rows[${i}].value`);
        }
      }
    }
  };
  const result = (): PushBuildResult => {
    const r = b.result();
    if (columnar) r.columns = doubleColumns;
    return r;
  };
  return { addRange, result };
}

/** Per column of metricsFromRows: its declared type and, once seen, its double series. */
interface ColumnSink {
  name: string;
  declared?: KairosDataType;
  /** False for a blank name: add() rejects each of its values with a message. */
  valid: boolean;
  double?: Array<[number, PointValue]>;
  /** The same series in columnar mode. */
  columns?: DoubleColumns;
}

function usableZone(zone: string | undefined): boolean {
  if (zone === undefined) return true;
  try {
    datetimeToTimestampMs(1, { zone });
    return true;
  } catch {
    return false;
  }
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
  const list = Array.isArray(native) ? native : isObjectNotDateOrBuffer(native) ? [native] : undefined;
  if (!list) throw new ValidationError('payload', native, 'must be a KairosDB push array (or one metric object)');
  const defaults = opts.defaultTags && Object.keys(opts.defaultTags).length ? requireTags(opts.defaultTags, 'defaultTags') : undefined;
  const b = new SeriesBuilder(opts.booleans);
  list.forEach((m: unknown, i) => {
    if (!isObjectNotDateOrBuffer(m)) {
      b.reject(`metric[${i}]: must be an object {name, tags, datapoints} (got ${describeValue(m)})`, 1);
      return;
    }
    const points = pointCount(m);
    const label = typeof m.name === 'string' && m.name !== '' ? `metric "${m.name}"` : `metric[${i}]`;
    if (typeof m.name !== 'string' || m.name.trim() === '') {
      b.reject(`metric[${i}].name: must be a non-empty string (got ${describeValue(m.name)})`, Math.max(1, points));
      return;
    }
    const hasTags = isObjectNotDateOrBuffer(m.tags) && Object.keys(m.tags).length > 0;
    const tagsIn = hasTags ? m.tags : defaults;
    const tagProblem = tagsIn === undefined ? `${label} tags: every metric needs at least one tag (got ${describeValue(m.tags)})` : tagError(tagsIn, `${label} tags`);
    if (tagProblem) {
      b.reject(tagProblem, Math.max(1, points));
      return;
    }
    let type: KairosDataType | undefined;
    if (m.type !== undefined) {
      if (!DATA_TYPES.includes(m.type as KairosDataType)) {
        b.reject(`${label} type: must be one of ${DATA_TYPES.join(', ')} (got ${describeValue(m.type)})`, Math.max(1, points));
        return;
      }
      type = m.type as KairosDataType;
    }
    let ttl: number | undefined;
    if (m.ttl !== undefined) {
      if (typeof m.ttl !== 'number' || !Number.isSafeInteger(m.ttl) || m.ttl < 0) {
        b.reject(`${label} ttl: must be an integer number of seconds >= 0 (got ${describeValue(m.ttl)})`, Math.max(1, points));
        return;
      }
      ttl = m.ttl;
    }
    if (m.datapoints !== undefined && !Array.isArray(m.datapoints)) {
      b.reject(`${label} datapoints: must be an array of [timestamp, value] (got ${describeValue(m.datapoints)})`, 1);
    }
    const tags = coerceTags(tagsIn as Record<string, unknown>);
    const name = m.name;
    const slowPoint = (p: RawPoint): void => {
      if (p.bad) {
        b.reject(`${label} ${p.field}: must be [timestamp, value] or [timestamp, value, type] (got ${describeValue(p.bad)})`, 1);
        return;
      }
      let pointType = type;
      if (p.type !== undefined) {
        if (!DATA_TYPES.includes(p.type as KairosDataType)) {
          b.reject(`${label} ${p.field}[2]: type must be one of ${DATA_TYPES.join(', ')} (got ${describeValue(p.type)})`, 1);
          return;
        }
        pointType = p.type as KairosDataType;
      }
      // Fractional milliseconds are rounded, as datetimeToTimestampMs (the write node, table rows) does.
      const t = typeof p.ts === 'number' && Number.isFinite(p.ts) ? Math.round(p.ts) : p.ts;
      const ts = timestampProblem(t);
      if (ts) {
        b.reject(`${label} ${p.tsField}: ${ts} (got ${describeValue(p.ts)})`, 1);
        return;
      }
      b.add(name, tags, t as number, p.value, pointType, p.valueField, ttl);
    };
    // Plain [timestamp, number] points of a double (or untyped) metric skip the per-point checks'
    // objects and strings; the series is looked up once, in the order the general path would create it.
    const plainDouble = type === undefined || type === 'double';
    let doubles: Array<[number, PointValue]> | undefined;
    const dps: unknown[] = Array.isArray(m.datapoints) ? m.datapoints : [];
    for (let j = 0; j < dps.length; j++) {
      const p = dps[j];
      if (plainDouble && Array.isArray(p) && p.length === 2) {
        const t = p[0];
        const v = p[1];
        if (typeof v === 'number' && Number.isFinite(v) && typeof t === 'number' && Number.isSafeInteger(t) && t > 0) {
          (doubles ??= b.series(name, tags, tagKey(tags), 'double', ttl)).push([t, v]);
          continue;
        }
      }
      slowPoint(rawPoint(p, j));
    }
    const single = singlePoint(m);
    if (single) slowPoint(single);
  });
  return b.result();
}

/**
 * Whether normalizePushArray would keep these metrics as they are (up to grouping entries of one series):
 * each a typed double series with a usable name and tags (string values) and plain [timestamp, number]
 * points; no single-point form. The write nodes build exactly this; anything else takes the full check.
 */
export function pushReady(metrics: readonly KairosPushMetric[]): boolean {
  for (const m of metrics) {
    if (!m || m.type !== 'double' || typeof m.name !== 'string' || m.name.trim() === '') return false;
    if (m.timestamp !== undefined || m.value !== undefined) return false;
    if (m.ttl !== undefined && !(typeof m.ttl === 'number' && Number.isSafeInteger(m.ttl) && m.ttl >= 0)) return false;
    const tags = m.tags;
    if (!isObjectNotDateOrBuffer(tags)) return false;
    let tagCount = 0;
    for (const k in tags) {
      if (!Object.prototype.hasOwnProperty.call(tags, k)) return false;
      const v: unknown = tags[k];
      if (k.trim() === '' || typeof v !== 'string' || v === '') return false;
      tagCount++;
    }
    if (tagCount === 0) return false;
    const dps = m.datapoints;
    if (!Array.isArray(dps) || dps.length === 0) return false;
    for (let j = 0; j < dps.length; j++) {
      const p = dps[j];
      if (!Array.isArray(p) || p.length !== 2) return false;
      const t = p[0];
      const v = p[1];
      if (typeof v !== 'number' || !Number.isFinite(v) || typeof t !== 'number' || !Number.isSafeInteger(t) || t <= 0) return false;
    }
  }
  return true;
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

/** Number of points a metric object carries (datapoints plus the single-point form). */
function pointCount(m: Record<string, unknown>): number {
  return (Array.isArray(m.datapoints) ? m.datapoints.length : 0) + (singlePoint(m) ? 1 : 0);
}

function rawPoint(p: unknown, j: number): RawPoint {
  const field = `datapoints[${j}]`;
  if (!Array.isArray(p) || p.length < 2 || p.length > 3) return { ts: undefined, value: undefined, field, tsField: field, valueField: field, bad: p ?? null };
  return { ts: p[0], value: p[1], type: p[2], field, tsField: `${field}[0]`, valueField: `${field}[1]` };
}

/** The single-point form; KairosDB reads `time` as an alias that wins over `timestamp`. */
function singlePoint(m: Record<string, unknown>): RawPoint | undefined {
  const ts = m.time ?? m.timestamp;
  if (ts === undefined && m.value === undefined) return undefined;
  return { ts, value: m.value, field: 'timestamp/value', tsField: m.time !== undefined ? 'time' : 'timestamp', valueField: 'value' };
}

/** Groups accepted points into metrics and collects the messages for rejected ones. */
class SeriesBuilder {
  private readonly byKey = new Map<string, KairosPushMetric & { datapoints: Array<[number, PointValue]> }>();
  private readonly errors: string[] = [];
  private rejected = 0;

  constructor(private readonly booleans: BooleanMode = 'long') {
    if (!['long', 'double', 'string'].includes(booleans)) throw new ValidationError('booleans', booleans, "must be 'long', 'double' or 'string'");
  }

  reject(message: string, points: number): void {
    this.errors.push(message);
    this.rejected += points;
  }

  add(name: string, tags: Tags, ts: number, raw: unknown, declared: KairosDataType | undefined, field: string, ttl?: number, tagsKey?: string): void {
    if (typeof name !== 'string' || name.trim() === '') {
      this.reject(`metric name: must be a non-empty string (got ${describeValue(name)})`, 1);
      return;
    }
    const conv = convertValue(raw, declared, this.booleans);
    if (typeof conv === 'string') {
      this.reject(`metric "${name}" ${field} at ${ts}: ${conv} (got ${describeValue(raw)})`, 1);
      return;
    }
    this.series(name, tags, tagsKey ?? tagKey(tags), conv.type, ttl).push([ts, conv.value]);
  }

  /** The datapoints of one series (created in first-use order); `name` must already be checked. */
  series(name: string, tags: Tags, tagsKey: string, type: KairosDataType, ttl?: number): Array<[number, PointValue]> {
    const key = `${name}\u0000${type}\u0000${ttl ?? ''}\u0000${tagsKey}`;
    let s = this.byKey.get(key);
    if (!s) {
      s = { name, tags, type, datapoints: [] };
      if (ttl !== undefined) s.ttl = ttl;
      this.byKey.set(key, s);
    }
    return s.datapoints;
  }

  result(): PushBuildResult {
    return { metrics: [...this.byKey.values()], errors: this.errors, rejected: this.rejected };
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
  const w = JsonByteWriter.scratch(sizeEstimate(metrics));
  try {
    writePush(w, metrics);
    return w.toString();
  } finally {
    w.release();
  }
}

/** serializePush as bytes (what goes on the wire), without a detour through a JS string. */
export function serializePushToBuffer(metrics: KairosPushMetric[]): Buffer {
  const w = JsonByteWriter.scratch(sizeEstimate(metrics));
  try {
    writePush(w, metrics);
    return w.copyBytes();
  } finally {
    w.release();
  }
}

/** About 32 bytes per point (a 13-digit timestamp and a value with up to 17 digits); the writer grows if short. */
function sizeEstimate(metrics: KairosPushMetric[]): number {
  let points = 0;
  for (const m of metrics) points += m.datapoints?.length ?? 0;
  return 256 + points * 32 + metrics.length * 64;
}

function writePush(w: JsonByteWriter, metrics: KairosPushMetric[]): void {
  w.byte(0x5b);
  for (let i = 0; i < metrics.length; i++) {
    const m = metrics[i];
    if (i > 0) w.byte(0x2c);
    w.ascii('{"name":');
    w.string(m.name);
    w.ascii(',"tags":{');
    let first = true;
    for (const k in m.tags) {
      if (!first) w.byte(0x2c);
      w.string(k);
      w.byte(0x3a);
      w.string(m.tags[k]);
      first = false;
    }
    w.byte(0x7d);
    if (m.type !== undefined) {
      w.ascii(',"type":');
      w.string(m.type);
    }
    if (m.ttl !== undefined) {
      w.ascii(',"ttl":');
      writeLong(w, m.ttl);
    }
    if (m.datapoints) {
      w.ascii(',"datapoints":[');
      writeDatapoints(w, m.datapoints, m.type);
      w.byte(0x5d);
    }
    if (m.timestamp !== undefined) {
      w.ascii(',"timestamp":');
      writeLong(w, m.timestamp);
    }
    if (m.value !== undefined) {
      w.ascii(',"value":');
      writeValue(w, m.value, m.type);
    }
    w.byte(0x7d);
  }
  w.byte(0x5d);
}

/** Points per JSON.stringify call for the doubles that need String's formatting. */
const TEXT_CHUNK = 4096;

function writeDatapoints(w: JsonByteWriter, dps: NonNullable<KairosPushMetric['datapoints']>, type: string | undefined): void {
  for (let start = 0; start < dps.length; start += TEXT_CHUNK) {
    const end = Math.min(dps.length, start + TEXT_CHUNK);
    // Same test as writeValue + JsonByteWriter.double, so the texts are used in order, one per such value.
    const slow: number[] = [];
    for (let j = start; j < end; j++) {
      const p = dps[j];
      const v = p[1];
      if (typeof v === 'number' && Number.isFinite(v) && writesDouble(v, p.length === 3 ? p[2] : type) && !JsonByteWriter.hasDigitPath(v)) slow.push(v);
    }
    if (slow.length > 1) w.useDoubleTexts(JSON.stringify(slow));
    for (let j = start; j < end; j++) {
      const p = dps[j];
      if (j > 0) w.byte(0x2c);
      w.byte(0x5b);
      writeLong(w, p[0]);
      w.byte(0x2c);
      if (p.length === 3) {
        writeValue(w, p[1], p[2]);
        w.byte(0x2c);
        w.string(p[2]);
      } else {
        writeValue(w, p[1], type);
      }
      w.byte(0x5d);
    }
    w.useDoubleTexts('');
  }
}

/** Points [from, to) of one column series: one metric entry of a push body. */
export interface ColumnPiece {
  columns: DoubleColumns;
  from: number;
  to: number;
}

/**
 * The push body of column pieces, one double metric entry each: byte for byte what serializePushToBuffer
 * writes for the same points as metrics. `tags` maps a series' tags to the ones to send (forced tags).
 * Throws a ValidationError for a point that is not a safe timestamp > 0 with a finite value.
 */
export function serializeColumnsToBuffer(pieces: readonly ColumnPiece[], tags: (t: Tags) => Tags = (t) => t): Buffer {
  let points = 0;
  for (const p of pieces) points += p.to - p.from;
  const w = JsonByteWriter.scratch(256 + points * 32 + pieces.length * 64);
  try {
    writeColumnPieces(w, pieces, tags);
    return w.copyBytes();
  } finally {
    w.release();
  }
}

function writeColumnPieces(w: JsonByteWriter, pieces: readonly ColumnPiece[], tags: (t: Tags) => Tags): void {
  w.byte(0x5b);
  for (let i = 0; i < pieces.length; i++) {
    const { columns: c, from, to } = pieces[i];
    if (i > 0) w.byte(0x2c);
    w.ascii('{"name":');
    w.string(c.name);
    w.ascii(',"tags":{');
    const t = tags(c.tags);
    let first = true;
    for (const k in t) {
      if (!first) w.byte(0x2c);
      w.string(k);
      w.byte(0x3a);
      w.string(t[k]);
      first = false;
    }
    w.ascii('},"type":"double","datapoints":[');
    writeColumnPoints(w, c, from, to);
    w.ascii(']}');
  }
  w.byte(0x5d);
}

/** writeDatapoints for a double series held as columns (the same texts, the same double-text batching). */
function writeColumnPoints(w: JsonByteWriter, c: DoubleColumns, from: number, to: number): void {
  const ts = c.timestamps;
  const vs = c.values;
  for (let start = from; start < to; start += TEXT_CHUNK) {
    const end = Math.min(to, start + TEXT_CHUNK);
    const slow: number[] = [];
    for (let j = start; j < end; j++) {
      const v = vs[j];
      const t = ts[j];
      if (typeof v !== 'number' || !Number.isFinite(v)) throw new ValidationError(`${c.name} values[${j}]`, v, 'must be a finite number');
      if (typeof t !== 'number' || !Number.isSafeInteger(t) || t <= 0) throw new ValidationError(`${c.name} timestamps[${j}]`, t, 'must be epoch milliseconds > 0');
      if (!JsonByteWriter.hasDigitPath(v)) slow.push(v);
    }
    if (slow.length > 1) w.useDoubleTexts(JSON.stringify(slow));
    w.doublePoints(ts, vs, start, end, start > from);
    w.useDoubleTexts('');
  }
}

/** Whether a finite number of this series type is written as a double. */
function writesDouble(v: number, type: string | undefined): boolean {
  return !(type === 'long' || (type !== 'double' && Number.isInteger(v)));
}

function writeValue(w: JsonByteWriter, v: PointValue, type: string | undefined): void {
  if (typeof v === 'number' && Number.isFinite(v)) {
    if (writesDouble(v, type)) w.double(v);
    else writeLong(w, v);
  } else if (typeof v === 'string') {
    w.string(v);
  } else {
    throw new ValidationError('value', v, 'cannot be serialized: not a finite number or string');
  }
}

function writeLong(w: JsonByteWriter, v: number): void {
  if (Number.isSafeInteger(v)) w.integer(v);
  else w.ascii(longText(v));
}

function longText(v: number): string {
  if (Number.isSafeInteger(v)) return String(v);
  if (Number.isInteger(v)) return BigInt(v).toString();
  throw new ValidationError('long', v, 'cannot be serialized as an integer');
}

/** Gzip for a serialized push (Content-Encoding: gzip, KairosDB 1.3+). */
export function gzipPush(text: string | Buffer): Promise<Buffer> {
  // zlib on first use: requiring this module (the write nodes do at Node-RED start-up) stays cheap.
  const { gzip } = require('node:zlib') as typeof import('node:zlib');
  return promisify(gzip)(text);
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
    const points = toDatapoints(m);
    const { timestamp: _t, value: _v, ...rest } = m;
    // Walk the points with an offset: slicing off the remainder each time copies it again and again.
    for (let from = 0; from < points.length; ) {
      if (room === 0) flush();
      const take = Math.min(room, points.length - from);
      current.push({ ...rest, datapoints: take === points.length ? points : points.slice(from, from + take) });
      room -= take;
      from += take;
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
  if (!isObjectNotDateOrBuffer(tags) || Object.keys(tags).length === 0) {
    throw new ValidationError(field, tags, 'every metric needs at least one tag, e.g. {"host": "plc1"}');
  }
  const problem = tagError(tags, field);
  if (problem) {
    // The problem text already names the tag and its value; a second "(got object)" would only confuse.
    const err = new ValidationError(field, tags, problem);
    err.message = problem;
    throw err;
  }
  return coerceTags(tags);
}

/** Why a tag set is unusable, or undefined. Numbers are accepted (KairosDB stores them as text). */
function tagError(tags: unknown, label: string): string | undefined {
  if (!isObjectNotDateOrBuffer(tags)) return `${label}: must be an object of tag names to values (got ${describeValue(tags)})`;
  if (Object.keys(tags).length === 0) return `${label}: every metric needs at least one tag (got object)`;
  for (const [k, v] of Object.entries(tags)) {
    if (k.trim() === '') return emptyTagName(label, k, v);
    const ok = (typeof v === 'string' && v !== '') || (typeof v === 'number' && Number.isFinite(v));
    if (!ok) return `${label}: tag "${k}" needs a non-empty string value (got ${describeValue(v)})`;
  }
  return undefined;
}

/** "tags: tag name must not be empty (got "" for the value "v")": one message naming the empty name. */
export function emptyTagName(label: string, name: string, value: unknown): string {
  return `${label}: tag name must not be empty (got ${describeValue(name)} for the value ${describeValue(value)})`;
}

/** Object.fromEntries defines own keys, so "__proto__" stays a tag instead of replacing the prototype. */
function coerceTags(tags: Record<string, unknown>): Tags {
  return Object.fromEntries(Object.entries(tags).map(([k, v]) => [k, String(v)]));
}

/** An own property only: a metric named "constructor" must not find Object's constructor in a plain object. */
function own<T>(obj: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
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
  if (!isObjectNotDateOrBuffer(types)) throw new ValidationError('types', types, 'must be an object of metric names to double, long or string');
  for (const [k, v] of Object.entries(types)) {
    if (!DATA_TYPES.includes(v as KairosDataType)) throw new ValidationError(`types.${k}`, v, 'must be double, long or string');
  }
  return types as Record<string, KairosDataType>;
}
