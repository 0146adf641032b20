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
export { readCsv, csvToRows, type CsvRowsOptions, type CsvRows, type CsvSummary } from './csv-reader';
