/**
 * Tables and series from KairosDB query responses (the seed's pandasDfFromQueryResponse, without pandas).
 *
 * Series: one per non-empty result, in response order. Results without values (both of KairosDB's empty
 * shapes: `results: []` and `results: [{values: []}]`) give no series, so no column.
 *
 * Column names (stable, so flows can rely on them):
 * - the metric name when the query did not group it;
 * - grouped series (even when only one group came back): `name{tag=value,...}` from the group_by tag values (sorted by tag
 *   name), then `[key=value,...]` from time/value/bin groups (e.g. `name[group_number=2]`,
 *   `name[bin_number=0]`), then `:text` for a text type group when a number group of the metric exists;
 * - any name already taken (the same metric queried twice, identical groups) gets `#2`, `#3`, ...
 *
 * Tables: one row per distinct timestamp, one column per series (outer join), missing cells null.
 * Null values (gaps) are null cells too, and fills treat them like missing cells, as pandas does.
 * dropTrailingNa (default on), as the seed defines it: after the join the table is cut at the earliest
 * of the series' last timestamps (newest point with a value), keeping rows up to and including it even
 * where a series has no value there; only then are holes filled. A metric that arrives late therefore
 * ends the table instead of having its stale value carried forward.
 *
 * Speed: the join, trailing cut and fills run on typed arrays (src/table/). Given the response bytes,
 * the values arrays are scanned straight into those arrays (src/table/scan-query-response.ts) instead of building the
 * parsed tree; row objects are then the only per-row allocation, and columnarTableFromBytes skips
 * those too. Numeric columns mark a missing cell with NaN, so a NaN value in a JS-object response
 * (JSON cannot carry one) also counts as missing.
 */
import { ParseError, ValidationError } from '../errors';
import { scanQueryResponseSteps, type ScannedResult } from './scan-query-response';
import { NotScannable } from './byte-scanner';
import { ascendingPoints, fillColumn, mergeTimestampsSteps, placeColumnSteps, rowsUpTo, trailingCut, type Column } from './column-join';
import { valuesSteps, type ChartPoint } from './point-payloads';
import { chunks, drain, SLICE_UNITS, type Steps } from '../util/slices';
import { nameQueryResults, rowColumnNames, type GroupInfo } from './column-names';
import { pointsFromValues, type PointColumns } from './point-columns';
import { checkTableOptions, type CheckedTableOptions } from './table-options';
import { inTimeOrder } from '../util/time-order';
import { checkResponse, parseResponse } from './response-parse';
import { setOwn } from '../util/own-key';
import { formatTimestamp } from '../time/timestamps';
import type {
  CellValue,
  KairosQueryResponse,
  KairosResult,
  PointValue,
  Row,
  Series,
  TableOptions,
  TimestampFormat,
} from '../types';

type Point = [number, PointValue | null];

/** Every non-empty result of a response as a Series with a unique column name (see the module comment). */
export function seriesFromQueryResponse(resp: KairosQueryResponse | string | Buffer): Series[] {
  if (Buffer.isBuffer(resp)) {
    const scanned = scanSeries(resp);
    if (scanned) return scanned;
  }
  const parsed = parseResponse(resp);
  checkResponse(parsed);
  const out: Series[] = [];
  const used = new Set<string>();
  for (const query of parsed.queries) {
    const results = query.results.filter((r) => Array.isArray(r.values) && r.values.length > 0);
    if (results.length === 0) continue;
    nameQueryResults(results, used).forEach(({ column, info }, i) => out.push(makeSeries(results[i], column, info)));
  }
  return out;
}

function makeSeries(r: KairosResult, column: string, info: GroupInfo): Series {
  const s: Series = { name: r.name, column, tags: r.tags ?? {}, values: r.values };
  if (Object.keys(info.group).length) s.group = info.group;
  return s;
}

export type { Column as TableColumn } from './column-join';

/** Name, tags and group of a series; its points are in the table's columns. */
export type SeriesInfo = Omit<Series, 'values'>;

/**
 * A table as columns: what the row form holds without one object per row (a 1M-row table of row
 * objects needs several times the memory of these arrays).
 */
export interface ColumnarTable {
  /** The timestamp column's name, then one name per series (the keys rows would have). */
  columns: string[];
  /** Epoch milliseconds, one per row, in the table's order (convertTimestamp applies to rows only). */
  timestamps: Float64Array;
  /** One per series, in `columns` order after the timestamp: numbers with NaN for a missing cell, or values with null. */
  cells: Column[];
  series: SeriesInfo[];
  rowCount: number;
  /** Points the series held (before the join; null values included), for counts such as a node's status. */
  pointCount: number;
}

/** A series as its info and its points in typed arrays (what the byte scan gives). */
export interface SeriesPoints {
  info: SeriesInfo;
  points: PointColumns;
}

function emptyTable(): ColumnarTable {
  return { columns: [], timestamps: new Float64Array(0), cells: [], series: [], rowCount: 0, pointCount: 0 };
}

/** Join, trailing cut, fill and order on typed arrays. */
function joinSeries(list: SeriesPoints[], o: CheckedTableOptions): ColumnarTable {
  return drain(joinSteps(list, o));
}

/** joinSeries in steps: a pause after each series' sort, fill and reversal, and inside the merge and placing. */
function* joinSteps(list: SeriesPoints[], o: CheckedTableOptions): Steps<ColumnarTable> {
  if (list.length === 0) return emptyTable();
  const names = rowColumnNames(
    list.map((s) => s.info.column),
    o.timestampColumnName,
  );
  const points: PointColumns[] = [];
  for (const s of list) {
    points.push(ascendingPoints(s.points));
    yield;
  }
  let timestamps = yield* mergeTimestampsSteps(points);
  // Cut before filling (the seed's order): fills then never reach past the earliest series end.
  if (o.dropTrailingNa) timestamps = timestamps.subarray(0, rowsUpTo(timestamps, trailingCut(points)));
  const n = timestamps.length;
  const cells: Column[] = [];
  for (const p of points) {
    const col = yield* placeColumnSteps(p, timestamps);
    fillColumn(col, o.fillNaMethod);
    cells.push(col);
    yield;
  }
  if (o.orderDesc) {
    // The merge hands back a lone series' own timestamps when it can: reverse a copy, not the caller's points.
    if (points.some((p) => p.ts.buffer === timestamps.buffer)) timestamps = timestamps.slice();
    timestamps.reverse();
    for (const col of cells) {
      col.reverse();
      yield;
    }
  }
  const pointCount = list.reduce((sum, s) => sum + s.points.length, 0);
  return { columns: [o.timestampColumnName, ...names], timestamps, cells, series: list.map((s) => s.info), rowCount: n, pointCount };
}

/** The columnar table of already scanned series (see SeriesPoints), in steps; options are checked first. */
export function columnarTableSteps(list: SeriesPoints[], opts: TableOptions = {}): Steps<ColumnarTable> {
  return joinSteps(list, checkTableOptions(opts));
}

function seriesPoints(series: Series[]): SeriesPoints[] {
  return series.map((s) => {
    const points = pointsFromValues(s.values);
    if (typeof points === 'number') throw new ParseError(`series "${s.column}": values[${points}] is not a [timestamp, value] pair`);
    const { values: _values, ...info } = s;
    return { info, points };
  });
}

/** Series from scanned bytes, named by the same rules as seriesFromQueryResponse. */
function scannedSeriesPoints(queries: ScannedResult[][]): SeriesPoints[] {
  const out: SeriesPoints[] = [];
  const used = new Set<string>();
  for (const query of queries) {
    const results = query.filter((r) => r.points.length > 0);
    if (results.length === 0) continue;
    nameQueryResults(results, used).forEach(({ column, info }, i) => {
      const r = results[i];
      const s: SeriesInfo = { name: r.name, column, tags: r.tags ?? {} };
      if (Object.keys(info.group).length) s.group = info.group;
      out.push({ info: s, points: r.points });
    });
  }
  return out;
}

/** The scanned results of response bytes, or undefined when they are outside the scanned shape (the caller parses). */
function scan(bytes: Buffer): ScannedResult[][] | undefined {
  return drain(scanSteps(bytes));
}

function* scanSteps(bytes: Buffer): Steps<ScannedResult[][] | undefined> {
  try {
    return yield* scanQueryResponseSteps(bytes);
  } catch (err) {
    if (err instanceof NotScannable) return undefined;
    throw err;
  }
}

/**
 * The named series of response bytes with their points in typed arrays, in steps; undefined when the
 * bytes are outside the scanned shape (parse them instead, see seriesPointsOf).
 */
export function* scanSeriesPointsSteps(bytes: Buffer): Steps<SeriesPoints[] | undefined> {
  const scanned = yield* scanSteps(bytes);
  return scanned ? scannedSeriesPoints(scanned) : undefined;
}

/** Already built series as SeriesPoints (a value pair that is not [number, value] is a ParseError). */
export function seriesPointsOf(series: Series[]): SeriesPoints[] {
  return seriesPoints(series);
}

/** seriesPointsOf in steps, one series a step. */
export function* seriesPointsSteps(series: Series[]): Steps<SeriesPoints[]> {
  const out: SeriesPoints[] = [];
  for (const s of series) {
    out.push(seriesPoints([s])[0]);
    yield;
  }
  return out;
}

/**
 * Series straight from response bytes, without the parsed tree or the text copy JSON.parse needs;
 * undefined when the bytes are not a response of the usual shape (parse them the usual way instead,
 * which also gives the usual error messages).
 */
export function scanSeries(bytes: Buffer): Series[] | undefined {
  return drain(scanSeriesSteps(bytes));
}

/** scanSeries in steps. */
export function* scanSeriesSteps(bytes: Buffer): Steps<Series[] | undefined> {
  const list = yield* scanSeriesPointsSteps(bytes);
  if (!list) return undefined;
  const out: Series[] = [];
  for (const { info, points } of list) out.push({ ...info, values: yield* valuesSteps(points) });
  return out;
}

/**
 * The columnar table of response bytes (see columnarTableFromBytes), or undefined when the bytes are
 * outside the scanned shape. Options are checked first, so bad options throw either way.
 */
export function scanColumnarTable(bytes: Buffer, opts: TableOptions = {}): ColumnarTable | undefined {
  return drain(scanColumnarTableSteps(bytes, opts));
}

/** scanColumnarTable in steps. */
export function* scanColumnarTableSteps(bytes: Buffer, opts: TableOptions = {}): Steps<ColumnarTable | undefined> {
  const o = checkTableOptions(opts);
  const scanned = yield* scanSteps(bytes);
  return scanned ? yield* joinSteps(scannedSeriesPoints(scanned), o) : undefined;
}

function toBytes(resp: string | Buffer | Uint8Array): Buffer {
  if (typeof resp === 'string') return Buffer.from(resp, 'utf8');
  return Buffer.isBuffer(resp) ? resp : Buffer.from(resp.buffer, resp.byteOffset, resp.byteLength);
}

/**
 * The table of a query response as typed columns (see ColumnarTable). Response bytes (or text) are
 * scanned without building the parsed tree; a response outside the usual shape is parsed as usual.
 */
export function columnarTableFromQueryResponse(
  resp: KairosQueryResponse | string | Buffer | Uint8Array,
  opts: TableOptions = {},
): ColumnarTable {
  const o = checkTableOptions(opts);
  if (typeof resp === 'string' || resp instanceof Uint8Array) {
    const bytes = toBytes(resp);
    const scanned = scan(bytes);
    if (scanned) return joinSeries(scannedSeriesPoints(scanned), o);
    return joinSeries(seriesPoints(seriesFromQueryResponse(parseResponse(bytes))), o);
  }
  return joinSeries(seriesPoints(seriesFromQueryResponse(resp)), o);
}

/** Response bytes to a columnar table: the fast path for large responses. */
export function columnarTableFromBytes(bytes: Buffer | Uint8Array | string, opts: TableOptions = {}): ColumnarTable {
  return columnarTableFromQueryResponse(bytes, opts);
}

/** The same table from already built series. */
export function columnarTableFromSeries(series: Series[], opts: TableOptions = {}): ColumnarTable {
  return joinSeries(seriesPoints(series), checkTableOptions(opts));
}

/** Row objects of a columnar table; missing cells become null, timestamps formatted as asked. */
export function rowsFromColumnarTable(table: ColumnarTable, convertTimestamp: TimestampFormat = 'ms'): Row[] {
  return drain(rowsFromColumnarTableSteps(table, convertTimestamp));
}

/** rowsFromColumnarTable in steps of about SLICE_UNITS cells; the format is checked before the first step. */
export function rowsFromColumnarTableSteps(table: ColumnarTable, convertTimestamp: TimestampFormat = 'ms'): Steps<Row[]> {
  if (!['ms', 'iso', 'date'].includes(convertTimestamp)) {
    throw new ValidationError('convertTimestamp', convertTimestamp, 'must be "ms", "iso" or "date"');
  }
  const rows: Row[] = new Array<Row>(table.rowCount);
  return mapSteps(rows, chunks(table.rowCount, SLICE_UNITS / table.columns.length, (start, end) => fillRows(table, convertTimestamp, rows, start, end)));
}

function* mapSteps<T>(out: T, steps: Steps<void>): Steps<T> {
  yield* steps;
  return out;
}

/** Row objects [start, end) of a table. */
function fillRows(table: ColumnarTable, convertTimestamp: TimestampFormat, rows: Row[], start: number, end: number): void {
  const [tsName, ...names] = table.columns;
  const k = names.length;
  const { timestamps, cells } = table;
  // A column named "__proto__" must become an own property (setOwn); the usual names take the plain path.
  const special = table.columns.includes('__proto__');
  for (let i = start; i < end; i++) {
    const row: Row = {};
    const t = convertTimestamp === 'ms' ? timestamps[i] : (formatTimestamp(timestamps[i], convertTimestamp) as CellValue);
    if (special) setOwn(row, tsName, t);
    else row[tsName] = t;
    for (let c = 0; c < k; c++) {
      const v = cells[c][i];
      if (special) setOwn(row, names[c], v !== v ? null : v);
      else row[names[c]] = v !== v ? null : v;
    }
    rows[i] = row;
  }
}

/** Table from already built series (also used by the proficloud.io client). */
export function tableFromSeries(series: Series[], opts: TableOptions = {}): { columns: string[]; rows: Row[] } {
  const o = checkTableOptions(opts);
  const t = joinSeries(seriesPoints(series), o);
  return { columns: t.columns, rows: rowsFromColumnarTable(t, o.convertTimestamp) };
}

/** `{columns, rows}`; columns is empty when the response holds no values at all. */
export function tableFromQueryResponse(
  resp: KairosQueryResponse | string | Buffer,
  opts: TableOptions = {},
): { columns: string[]; rows: Row[] } {
  const t = columnarTableFromQueryResponse(resp, opts);
  return { columns: t.columns, rows: rowsFromColumnarTable(t, opts.convertTimestamp) };
}

export function rowsFromQueryResponse(resp: KairosQueryResponse | string | Buffer, opts: TableOptions = {}): Row[] {
  return tableFromQueryResponse(resp, opts).rows;
}

/** Points for Dashboard 2's ui-chart (`msg.payload = [{series, x, y}]`, x in epoch ms), series by series. */
export function seriesToChart(series: Series[]): ChartPoint[] {
  return drain(seriesToChartSteps(series));
}

/** seriesToChart in steps of about SLICE_UNITS points. */
export function seriesToChartSteps(series: Series[]): Steps<ChartPoint[]> {
  if (!Array.isArray(series)) throw new ValidationError('series', series, 'must be an array of series');
  return chartSteps(series);
}

function* chartSteps(series: Series[]): Steps<ChartPoint[]> {
  const out: ChartPoint[] = [];
  for (const s of series) {
    const values = inTimeOrder(s.values as Point[]);
    yield* chunks(values.length, SLICE_UNITS, (start, end) => {
      for (let i = start; i < end; i++) out.push({ series: s.column, x: values[i][0], y: values[i][1] ?? null });
    });
    yield;
  }
  return out;
}
