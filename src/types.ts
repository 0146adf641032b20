/**
 * Shared types of the connector library. Every module in src/ (and the nodes) builds on these,
 * so changes here are API changes: keep them additive.
 */
import type { TimeUnit } from './time/unit-table';
/** KairosDB's time units, lowercase as KairosDB documents them (it accepts any case); defined beside the unit table. */
export type { TimeUnit };

/** A relative time or a duration, KairosDB's `{value, unit}`. */
export interface RelativeTime {
  value: number;
  unit: TimeUnit;
}

/**
 * The part of a luxon DateTime that the library reads and that callers use most. Structural on purpose: the
 * public declarations do not import luxon's types (luxon ships none, so a TypeScript user of this package
 * would need @types/luxon just to compile). A luxon DateTime is assignable to it; cast the result of
 * `timestampMsToDatetime(ms, { format: 'datetime' })` to luxon's DateTime for the rest of its API.
 */
export interface DateTimeLike {
  readonly isValid: boolean;
  readonly invalidReason: string | null;
  readonly zoneName: string | null;
  toMillis(): number;
  toISO(): string | null;
  toFormat(format: string): string;
}

/** Anything the library turns into epoch milliseconds (see time.ts); DateTimeLike means a luxon DateTime. */
export type TimeInput = number | Date | DateTimeLike | string;

/** Tags on a written point: exactly one value per tag name. */
export type Tags = Record<string, string>;

/** Tag filter in a query: one value or several (OR within a tag, AND across tags). */
export type TagFilter = Record<string, string | string[]>;

/** A value KairosDB stores: numbers (long or double), strings; null only appears in query output (gaps). */
export type PointValue = number | string;
export type CellValue = number | string | boolean | Date | null;

/** KairosDB's stored types; we always send one explicitly (see spec surprise #3). */
export type KairosDataType = 'double' | 'long' | 'string';

/** One aggregator as KairosDB takes it; `name` plus its parameters in KairosDB's snake_case. */
export interface Aggregator {
  name: string;
  sampling?: RelativeTime;
  align_sampling?: boolean;
  align_start_time?: boolean;
  align_end_time?: boolean;
  time_zone?: string;
  [param: string]: unknown;
}

/** One group_by entry as KairosDB takes it. */
export interface GroupBy {
  name: 'tag' | 'time' | 'value' | 'bin' | string;
  [param: string]: unknown;
}

// ---------------------------------------------------------------------------------------------
// Wire shapes (what KairosDB sends and receives)

export interface KairosPushMetric {
  name: string;
  tags: Tags;
  type?: KairosDataType | string;
  ttl?: number;
  datapoints?: Array<[number, PointValue] | [number, PointValue, string]>;
  timestamp?: number;
  value?: PointValue;
}

export interface KairosGroupByResult {
  name: string;
  type?: string;
  group?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface KairosResult {
  name: string;
  group_by?: KairosGroupByResult[];
  /** Absent when the query set exclude_tags. */
  tags?: Record<string, string[]>;
  values: Array<[number, PointValue | null]>;
}

export interface KairosQueryResponse {
  queries: Array<{ sample_size?: number; results: KairosResult[] }>;
}

// ---------------------------------------------------------------------------------------------
// Library options (the seed's words in camelCase)

/** A query for one or more metrics: exactly one start form, at most one end form. */
export interface QueryOptions {
  /** Metric names; or per-metric objects for per-metric tags/limits. */
  metrics: string | Array<string | MetricQuery>;
  startAbsolute?: TimeInput;
  startRelative?: RelativeTime;
  endAbsolute?: TimeInput;
  endRelative?: RelativeTime;
  /** Raw points per group, before aggregation (KairosDB semantics). */
  limit?: number;
  tags?: TagFilter;
  groupBy?: GroupBy[];
  /** Applied, in order, to every metric. */
  aggregators?: Aggregator[];
  order?: 'asc' | 'desc';
  excludeTags?: boolean;
  /** IANA zone sent as time_zone (always sent; default 'UTC'). */
  timeZone?: string;
}

export interface MetricQuery {
  name: string;
  tags?: TagFilter;
  limit?: number;
  groupBy?: GroupBy[];
  aggregators?: Aggregator[];
  order?: 'asc' | 'desc';
  excludeTags?: boolean;
}

export type FillNaMethod = 'ffill' | 'pad' | 'bfill' | 'backfill' | null;
/** How timestamps appear in rows: epoch ms, ISO-8601 string (UTC) or Date. */
export type TimestampFormat = 'ms' | 'iso' | 'date';

export interface TableOptions {
  fillNaMethod?: FillNaMethod;
  /** Drop trailing rows that still have a missing cell. Default true (the seed's default). */
  dropTrailingNa?: boolean;
  orderDesc?: boolean;
  /** Default 'ms'. */
  convertTimestamp?: TimestampFormat;
  /** Default 'Timestamp'. */
  timestampColumnName?: string;
}

/** A table row: the timestamp column plus one column per series. */
export type Row = Record<string, CellValue>;

/** One series of a response: a metric, or one group of it when grouped. */
export interface Series {
  name: string;
  /** Column name in tables; equals name unless the metric returned several series. */
  column: string;
  tags: Record<string, string[]>;
  group?: Record<string, unknown>;
  values: Array<[number, PointValue | null]>;
}

/** Write outcome, also what the write nodes report on their second output. */
export interface WriteResult {
  /** Points the server accepted (all sent minus those named in its error list). */
  written: number;
  rejected: number;
  /** The server's own messages, and client-side validation messages, one per problem. */
  errors: string[];
  requests: number;
}

// ---------------------------------------------------------------------------------------------
// Transport (src/http/) — also used by the proficloud.io client

export type HttpMethod = 'GET' | 'POST' | 'DELETE' | 'PUT';

export interface HttpRequest {
  method: HttpMethod;
  /** Path below the base URL, e.g. '/api/v1/datapoints/query'. Encoded by the caller. */
  path: string;
  query?: Record<string, string>;
  /** A JS value is sent as JSON; a string or Buffer as is. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Gzip this body when it is larger than the client's threshold (only the push path takes gzip). */
  allowGzip?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** Decompressed body bytes. */
  body: Buffer;
  /** The base URL that answered (cluster fail-over). */
  baseUrl: string;
  durationMs: number;
}

/** Given to debug hooks (the seed's DEBUGPAYLOAD/DEBUGRESPONSE/DEBUGTIME), secrets already redacted. */
export interface DebugEvent {
  method: HttpMethod;
  url: string;
  requestHeaders: Record<string, string>;
  requestBody?: string;
  status?: number;
  responseBody?: string;
  durationMs: number;
  error?: string;
}

export interface Logger {
  warn(message: string): void;
  debug?(message: string): void;
}
