/**
 * Entry point of src/table: query responses to series, columnar tables, rows and chart data, and CSV
 * text to rows (the batch node's input).
 */
export {
  seriesFromQueryResponse,
  rowsFromQueryResponse,
  tableFromQueryResponse,
  tableFromSeries,
  rowsFromColumnarTable,
  seriesToChart,
  type ColumnarTable,
  type TableColumn,
  type SeriesInfo,
} from './table-builder';
// Internal to the nodes (not re-exported by src/index.ts): the same conversions in steps, see src/util/slices.ts.
export {
  columnarTableSteps,
  rowsFromColumnarTableSteps,
  scanSeriesPointsSteps,
  seriesPointsOf,
  seriesPointsSteps,
  seriesToChartSteps,
  type SeriesPoints,
} from './table-builder';
export { chartFromPointsSteps, pairsSteps, valuesPayloadSteps, valuesSteps, xySteps, type ChartPoint, type PayloadPoint } from './point-payloads';
export { readCsv, csvToRows, type CsvRowsOptions, type CsvRows, type CsvSummary } from './csv-reader';
