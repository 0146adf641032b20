/** Shaping series into the messages query and stream send: rows, one message per series, or chart points. */
import { formatTimestamp } from '../../src/time';
import { rowsFromColumnarTable, seriesToChart, tableFromSeries, type ColumnarTable } from '../../src/table';
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
        const msg = base();
        msg.topic = s.column;
        msg.metric = s.name;
        msg.tags = s.tags;
        if (s.group) msg.group = s.group;
        msg.payload =
          opts.pointFormat === 'xy'
            ? s.values.map(([ts, v]) => ({ x: formatTimestamp(ts, opts.tsFormat), y: v }))
            : s.values.map(([ts, v]) => [formatTimestamp(ts, opts.tsFormat), v]);
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

/** The rows message of a columnar table (already joined, filled and ordered with tableOptions(opts)). */
export function shapeTable(table: ColumnarTable, opts: ShapeOptions, base: () => NodeMessage): NodeMessage[] {
  const msg = base();
  msg.payload = rowsFromColumnarTable(table, opts.tsFormat);
  msg.columns = table.columns;
  return [msg];
}

/** Counts for the status badge. */
export function pointCount(series: Series[]): number {
  return series.reduce((n, s) => n + s.values.length, 0);
}
