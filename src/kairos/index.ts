/**
 * Entry point of src/kairos for the nodes: building push bodies and queries from messages, the write
 * limits, range paging and the point budget of a query's pages. Light on purpose: the client itself
 * (KairosConnector, undici) is only named as a type here; the nodes load it on first use through
 * src/clients.
 */
export {
  metricsFromValues,
  metricsFromRows,
  metricsFromRowsSliced,
  columnsFromRowsSliced,
  columnsFromRows,
  appendColumns,
  type DoubleColumns,
  columnPoints,
  normalizePushArray,
  countPoints,
  emptyTagName,
  type PushBuildResult,
  type BooleanMode,
} from './push-body';
export { coalesceMetrics, splitByPoints, countBatchPoints } from './push-batches';
export { enforceLimits, MAX_NAME_LENGTH, MAX_STRING_VALUE_LENGTH } from './write-limits';
export { parseAggregators, parseGroupBy, parseMetricList, parseOptionalInt, parseTagFilter, parseTags, type AggregatorRow } from './parse-input';
export { RangePager, type TimeRange } from './range-pager';
export { budgetedPages, PAGE_POINT_BUDGET } from './page-budget';
export type { KairosConnector } from './connector';
