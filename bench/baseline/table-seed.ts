/**
 * The table conversion as it was before the typed-array rewrite (commit 86f4875, src/table.ts): its join
 * and fill are kept unchanged (the trailing drop follows the seed's cut like the library) (response reading and column naming are shared with src/table) as the benchmark's "before" figure and as an independent reference in
 * test/table/table-fast.test.ts.
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
 */
import { groupInfo, uniqueName, type GroupInfo } from '../../src/table/column-names';
import { checkTableOptions } from '../../src/table/table-options';
import { inTimeOrder } from '../../src/util/time-order';
import { checkResponse, parseResponse } from '../../src/table/response-parse';
import { formatTimestamp } from '../../src/time/timestamps';
import type {
  CellValue,
  FillNaMethod,
  KairosQueryResponse,
  KairosResult,
  PointValue,
  Row,
  Series,
  TableOptions,
} from '../../src/types';

type Point = [number, PointValue | null];

/** Every non-empty result of a response as a Series with a unique column name (see the module comment). */
export function seriesFromQueryResponse(resp: KairosQueryResponse | string | Buffer): Series[] {
  const parsed = parseResponse(resp);
  checkResponse(parsed);
  const out: Series[] = [];
  const used = new Set<string>();
  for (const query of parsed.queries) {
    const results = query.results.filter((r) => Array.isArray(r.values) && r.values.length > 0);
    if (results.length === 0) continue;
    if (results.length === 1) {
      const r = results[0];
      const info = groupInfo(r);
      // A grouped query keeps its group suffix even when only one group came back, so columns do not rename with the data.
      out.push(makeSeries(r, uniqueName(r.name + info.tagPart + info.otherPart, used), info));
      continue;
    }
    const infos = results.map(groupInfo);
    const namesWithNumber = new Set<string>();
    results.forEach((r, i) => {
      if (infos[i].type !== 'text') namesWithNumber.add(r.name);
    });
    results.forEach((r, i) => {
      const info = infos[i];
      const textSuffix = info.type === 'text' && namesWithNumber.has(r.name) ? ':text' : '';
      out.push(makeSeries(r, uniqueName(r.name + info.tagPart + info.otherPart + textSuffix, used), info));
    });
  }
  return out;
}

function makeSeries(r: KairosResult, column: string, info: GroupInfo): Series {
  const s: Series = { name: r.name, column, tags: r.tags ?? {}, values: r.values };
  if (Object.keys(info.group).length) s.group = info.group;
  return s;
}

interface Columnar {
  timestamps: number[];
  /** cells[c][row], ascending time. */
  cells: Array<Array<PointValue | null>>;
}

/** k-way merge of the already sorted series into columns; a duplicate timestamp within a series keeps the last value. */
function mergeColumns(series: Series[]): Columnar {
  const k = series.length;
  const vals = series.map((s) => inTimeOrder(s.values as Point[]));
  const pos = new Array<number>(k).fill(0);
  const cells: Array<Array<PointValue | null>> = [];
  for (let c = 0; c < k; c++) cells.push([]);
  const timestamps: number[] = [];
  for (;;) {
    let min = Infinity;
    for (let c = 0; c < k; c++) {
      const p = pos[c];
      if (p < vals[c].length && vals[c][p][0] < min) min = vals[c][p][0];
    }
    if (min === Infinity) break;
    for (let c = 0; c < k; c++) {
      const v = vals[c];
      let p = pos[c];
      let cell: PointValue | null = null;
      while (p < v.length && v[p][0] === min) {
        cell = v[p][1] ?? null;
        p++;
      }
      pos[c] = p;
      cells[c].push(cell);
    }
    timestamps.push(min);
  }
  return { timestamps, cells };
}

function fillColumn(col: Array<PointValue | null>, method: FillNaMethod): void {
  if (method === 'ffill' || method === 'pad') {
    let last: PointValue | null = null;
    for (let i = 0; i < col.length; i++) {
      if (col[i] === null) col[i] = last;
      else last = col[i];
    }
  } else if (method === 'bfill' || method === 'backfill') {
    let next: PointValue | null = null;
    for (let i = col.length - 1; i >= 0; i--) {
      if (col[i] === null) col[i] = next;
      else next = col[i];
    }
  }
}

/**
 * Rows to keep under dropTrailingNa: those at or before the earliest of the series' last timestamps with a
 * value (the seed's cut, applied before filling; updated with the library when it adopted the seed's order).
 */
function keptRowCount(series: Series[], timestamps: number[]): number {
  let cut = Infinity;
  for (const s of series) {
    let last = -Infinity;
    for (const [t, v] of s.values) if (v !== null && t > last) last = t;
    if (last > -Infinity) cut = Math.min(cut, last);
  }
  let n = 0;
  while (n < timestamps.length && timestamps[n] <= cut) n++;
  return n;
}

/** Column names as used in rows: the series' columns, renamed with #n if one equals the timestamp column. */
function rowColumnNames(series: Series[], tsName: string): string[] {
  const used = new Set<string>([tsName]);
  const taken = new Set(series.map((s) => s.column));
  return series.map((s) => {
    if (s.column !== tsName) return s.column;
    let n = 2;
    while (taken.has(`${s.column}#${n}`) || used.has(`${s.column}#${n}`)) n++;
    const name = `${s.column}#${n}`;
    used.add(name);
    return name;
  });
}

/** Table from already built series (also used by the proficloud.io client). */
export function tableFromSeries(series: Series[], opts: TableOptions = {}): { columns: string[]; rows: Row[] } {
  const o = checkTableOptions(opts);
  if (series.length === 0) return { columns: [], rows: [] };
  const names = rowColumnNames(series, o.timestampColumnName);
  const { timestamps, cells } = mergeColumns(series);
  const n = o.dropTrailingNa ? keptRowCount(series, timestamps) : timestamps.length;
  for (const col of cells) col.length = n;
  if (o.fillNaMethod !== null) for (const col of cells) fillColumn(col, o.fillNaMethod);
  const rows: Row[] = new Array<Row>(n);
  const k = names.length;
  for (let i = 0; i < n; i++) {
    const src = o.orderDesc ? n - 1 - i : i;
    const row: Row = {};
    row[o.timestampColumnName] = formatTimestamp(timestamps[src], o.convertTimestamp) as CellValue;
    for (let c = 0; c < k; c++) row[names[c]] = cells[c][src];
    rows[i] = row;
  }
  return { columns: [o.timestampColumnName, ...names], rows };
}

/** `{columns, rows}`; columns is empty when the response holds no values at all. */
export function tableFromQueryResponse(
  resp: KairosQueryResponse | string | Buffer,
  opts: TableOptions = {},
): { columns: string[]; rows: Row[] } {
  return tableFromSeries(seriesFromQueryResponse(resp), opts);
}

export function rowsFromQueryResponse(resp: KairosQueryResponse | string | Buffer, opts: TableOptions = {}): Row[] {
  return tableFromQueryResponse(resp, opts).rows;
}
