/** Shaping series into the messages query and stream send: rows, one message per series, or chart points. */
import {
  chartFromPointsSteps,
  columnarTableSteps,
  pairsSteps,
  rowsFromColumnarTableSteps,
  seriesPointsSteps,
  seriesToChart,
  seriesToChartSteps,
  tableFromSeries,
  valuesPayloadSteps,
  xySteps,
  type ColumnarTable,
  type SeriesInfo,
  type SeriesPoints,
} from '../../src/table';
import { drain, runSliced } from '../../src/util';
import type { FillNaMethod, Series, TableOptions, TimestampFormat } from '../../src/types';
import type { NodeMessage } from './red';

export type OutputMode = 'rows' | 'series' | 'chart' | 'raw';

export interface ShapeOptions {
  mode: OutputMode;
  tsFormat: TimestampFormat;
  pointFormat?: 'pairs' | 'xy';
  fill?: FillNaMethod;
  dropTrailing?: boolean;
  orderDesc?: boolean;
  /** 'replace' for a query (the chart shows exactly the result), 'append' for a stream. */
  chartAction: 'replace' | 'append';
}

/** Messages for one result; each starts from `base` (the input msg or a synthetic one). `raw` is used for mode 'raw'. */
export function shapeSeries(series: Series[], raw: unknown, opts: ShapeOptions, base: () => NodeMessage): NodeMessage[] {
  switch (opts.mode) {
    case 'raw': {
      const msg = base();
      msg.payload = raw;
      return [msg];
    }
    case 'chart': {
      const msg = base();
      msg.payload = seriesToChart(series);
      msg.action = opts.chartAction;
      return [msg];
    }
    case 'series':
      return series.map((s) => {
        const msg = seriesMessage(s, base);
        msg.payload = drain(valuesPayloadSteps(s.values, opts.tsFormat, opts.pointFormat ?? 'pairs'));
        return msg;
      });
    default: {
      const table = tableFromSeries(series, tableOptions(opts));
      const msg = base();
      msg.payload = table.rows;
      msg.columns = table.columns;
      return [msg];
    }
  }
}

/** The table options of the rows output. */
export function tableOptions(opts: ShapeOptions): TableOptions {
  return {
    fillNaMethod: opts.fill ?? null,
    dropTrailingNa: opts.dropTrailing ?? true,
    orderDesc: opts.orderDesc ?? false,
    convertTimestamp: opts.tsFormat,
  };
}

/** Counts for the status badge. */
export function pointCount(series: Series[]): number {
  return series.reduce((n, s) => n + s.values.length, 0);
}

/*
 * The same shapes for the query node, built in slices with event-loop turns in between (src/util
 * runSliced): a large answer does not hold up the flow while it becomes msg.payload. An aborted
 * signal (the node closing) rejects with its reason at the next slice.
 */

/** shapeSeries in slices; the same messages. */
export async function shapeSeriesSliced(series: Series[], raw: unknown, opts: ShapeOptions, base: () => NodeMessage, signal?: AbortSignal): Promise<NodeMessage[]> {
  const slice = { signal };
  switch (opts.mode) {
    case 'raw':
      return shapeSeries(series, raw, opts, base);
    case 'chart': {
      const msg = base();
      msg.payload = await runSliced(seriesToChartSteps(series), slice);
      msg.action = opts.chartAction;
      return [msg];
    }
    case 'series': {
      const out: NodeMessage[] = [];
      for (const s of series) {
        const msg = seriesMessage(s, base);
        msg.payload = await runSliced(valuesPayloadSteps(s.values, opts.tsFormat, opts.pointFormat ?? 'pairs'), slice);
        out.push(msg);
      }
      return out;
    }
    default: {
      const points = await runSliced(seriesPointsSteps(series), slice);
      const table = await runSliced(columnarTableSteps(points, tableOptions(opts)), slice);
      return shapeTableSliced(table, opts, base, signal);
    }
  }
}

/** shapeSeries for series whose points are still in the scan's typed arrays (KairosDB answers); the same messages. */
export async function shapePointsSliced(list: SeriesPoints[], opts: ShapeOptions, base: () => NodeMessage, signal?: AbortSignal): Promise<NodeMessage[]> {
  const slice = { signal };
  if (opts.mode === 'chart') {
    const msg = base();
    msg.payload = await runSliced(chartFromPointsSteps(list), slice);
    msg.action = opts.chartAction;
    return [msg];
  }
  if (opts.mode === 'series') {
    const out: NodeMessage[] = [];
    for (const { info, points } of list) {
      const msg = seriesMessage(info, base);
      msg.payload = opts.pointFormat === 'xy' ? await runSliced(xySteps(points, opts.tsFormat), slice) : await runSliced(pairsSteps(points, opts.tsFormat), slice);
      out.push(msg);
    }
    return out;
  }
  // Raw output sends the response itself: it is never scanned into points.
  if (opts.mode === 'raw') throw new Error('raw output is the response, not its points');
  return shapeTableSliced(await runSliced(columnarTableSteps(list, tableOptions(opts)), slice), opts, base, signal);
}

/** The rows message of a columnar table (already joined, filled and ordered with tableOptions(opts)), built in slices. */
export async function shapeTableSliced(table: ColumnarTable, opts: ShapeOptions, base: () => NodeMessage, signal?: AbortSignal): Promise<NodeMessage[]> {
  const msg = base();
  msg.payload = await runSliced(rowsFromColumnarTableSteps(table, opts.tsFormat), { signal });
  msg.columns = table.columns;
  return [msg];
}

/** A series message without its payload. */
function seriesMessage(s: SeriesInfo, base: () => NodeMessage): NodeMessage {
  const msg = base();
  msg.topic = s.column;
  msg.metric = s.name;
  msg.tags = s.tags;
  if (s.group) msg.group = s.group;
  return msg;
}
