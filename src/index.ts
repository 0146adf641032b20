/**
 * Public entry of the connector library (package `exports["."]`): usable from a Node-RED function node
 * (via functionExternalModules) or any Node script. Nothing here imports Node-RED.
 *
 * Every name is listed on purpose: the seed's names, the helpers README's "connector library" sections
 * document, the error classes and the types their signatures use. Everything else in src/ is internal
 * (the nodes reach it through the folder entry points, docs/architecture.md) and may change without
 * notice. test/install/public-api.ts holds the runtime list that the tests check: adding or removing a
 * name here is an API change and must update that list and README.
 */

// KairosDB client (README §1, §2) and the aggregator catalogue the queries are checked against.
export { KairosConnector } from './kairos/connector';
export type { KairosConnectorOptions, AddMetricsOptions, AddMetricsBatchOptions, TagsResult, HealthResult } from './kairos/connector';
export { AGGREGATORS } from './kairos/query-body';
export type { AggregatorSpec } from './kairos/query-body';
export type { TlsOptions, ProxySetting } from './http/dispatcher';
// Types only: KairosConnector exposes them (its `http` property, `booleans` option, queryColumnar's result).
export type { HttpClient } from './http/http-client';
export type { BooleanMode } from './kairos/push-body';

// Tables from responses (§3).
export { rowsFromQueryResponse, tableFromQueryResponse, seriesFromQueryResponse, seriesToChart } from './table/table-builder';
export type { ColumnarTable, TableColumn, SeriesInfo } from './table/table-builder';

// Time (§4) and clock offset (§5).
export { datetimeToTimestampMs, timestampMsToDatetime, DEFAULT_FORMAT } from './time/timestamps';
export type { ParseTimeOptions, FormatTimeOptions } from './time/timestamps';
export { getTimeOffsetToUtc } from './time/sntp';
export type { SntpOptions } from './time/sntp';

// Proficloud services (§6).
export { generateToken, readTokenFile } from './proficloud/token';
export { createTsdConnector, createEwimaConnector, ProficloudMetrics } from './proficloud/metrics';
export type { ProficloudEnvironment, ProficloudConnectorOptions } from './proficloud/metrics';
export { generateMetricsCsv, writeMetricsCsv } from './proficloud/metrics-csv';
export type { MetricsCsvEntry } from './proficloud/metrics-csv';
export { ProficloudIOMetrics } from './proficloud/proficloud-io';
export type { ProficloudIOOptions, ProficloudIOQuery } from './proficloud/proficloud-io';

// Errors (§8): one class per `code`, all extending KairosError.
export {
  KairosError,
  ValidationError,
  HttpStatusError,
  TimeoutError,
  NetworkError,
  AuthenticationError,
  ReadOnlyError,
  ParseError,
  ResponseTooLargeError,
} from './errors';
export type { ErrorCode } from './errors';

// Recovering the outbox of a removed write/batch node (README: the outbox).
export { moveOutbox } from './outbox/move-outbox';
export type { MoveOutboxOptions, MoveOutboxResult } from './outbox/move-outbox';

// Streams (§9): the seed's MetricsStream / MetricsStreamIO and the two parts they are made of.
export { MetricsStream, MetricsStreamIO, IncrementalPoller, PollLoop } from './stream';
export type {
  MetricsStreamBaseOptions,
  MetricsStreamOptions,
  MetricsStreamIOOptions,
  SeriesQuerySource,
  IOSeriesSource,
  IncrementalPollerOptions,
  PollLoopOptions,
  PollResult,
  StreamMode,
  StreamPosition,
  SeriesPosition,
  SeriesFetch,
  TimeRange,
} from './stream';

// Shared data shapes.
export type {
  TimeUnit,
  RelativeTime,
  DateTimeLike,
  TimeInput,
  Tags,
  TagFilter,
  PointValue,
  CellValue,
  KairosDataType,
  Aggregator,
  GroupBy,
  KairosPushMetric,
  KairosGroupByResult,
  KairosResult,
  KairosQueryResponse,
  QueryOptions,
  MetricQuery,
  FillNaMethod,
  TimestampFormat,
  TableOptions,
  Row,
  Series,
  WriteResult,
  HttpMethod,
  HttpRequest,
  HttpResponse,
  DebugEvent,
  Logger,
} from './types';
