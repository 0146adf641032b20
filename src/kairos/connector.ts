/**
 * KairosConnector: every KairosDB operation over one HttpClient (names follow the Python seed).
 * Writes are validated and typed before any request; read-only services refuse writes up front.
 */
import { KairosError, ParseError, ReadOnlyError, ValidationError } from '../errors';
import { HttpClient } from '../http/http-client';
import type { ProxySetting, TlsOptions } from '../http/dispatcher';
import { errorForStatus, parseServerErrors } from '../http/status-errors';
import { joinUrl } from '../http/url';
import { windowedWithHalving } from './range-pager';
import {
  countPoints,
  metricsFromRows,
  metricsFromValues,
  normalizePushArray,
  pushReady,
  serializeColumnsToBuffer,
  serializePushToBuffer,
  splitPush,
  type ColumnPiece,
  type BooleanMode,
  type PushBuildResult,
} from './push-body';
import { buildQuery, validateTimeZone, type KairosQueryBody } from './query-body';
import {
  columnarTableFromQueryResponse,
  columnarTableSteps,
  rowsFromColumnarTable,
  scanColumnarTable,
  scanColumnarTableSteps,
  scanSeries,
  scanSeriesPointsSteps,
  seriesFromQueryResponse,
  seriesPointsOf,
  type ColumnarTable,
  type SeriesPoints,
} from '../table/table-builder';
import { checkTableOptions } from '../table/table-options';
import { runSliced } from '../util/slices';
import { datetimeToTimestampMs, subtractRelative } from '../time/timestamps';
import { isPlainObject, positiveInt } from '../util/validate';
import type {
  DebugEvent,
  KairosDataType,
  KairosPushMetric,
  KairosQueryResponse,
  KairosResult,
  HttpResponse,
  Logger,
  QueryOptions,
  Row,
  Series,
  TableOptions,
  Tags,
  TimeInput,
  WriteResult,
} from '../types';

export const DEFAULT_WRITE_PATH = '/api/v1/datapoints';
export const DEFAULT_QUERY_PATH = '/api/v1/datapoints/query';
export const DEFAULT_MAX_POINTS_PER_REQUEST = 10_000;

export interface KairosConnectorOptions {
  /** One URL, or several members of a cluster (round-robin with fail-over). May carry a path prefix. */
  baseUrl: string | string[];
  headers?: Record<string, string>;
  /** Tags for values written without their own. */
  defaultTags?: Tags;
  proxy?: ProxySetting;
  tls?: TlsOptions;
  timeoutMs?: number;
  gzipThresholdBytes?: number;
  /** Largest response body in bytes, on the wire and decompressed; above it a ResponseTooLargeError (ETOOLARGE). Default 512 MiB. */
  maxResponseBytes?: number;
  /** Basic token: base64 of "id:password" (Proficloud's login token). */
  token?: string;
  /** Bearer token source, asked before every request (it may refresh). */
  bearer?: () => Promise<string>;
  basicAuth?: { username: string; password: string };
  /** Default /api/v1/datapoints; EWIMA uses /api/v1/datapoints/write. */
  writePath?: string;
  /** Default /api/v1/datapoints/query. */
  queryPath?: string;
  /** When set, the service is read-only and every write throws ReadOnlyError with this message. */
  readOnly?: string;
  /** Zone for date strings without an offset, and the query time_zone unless a query sets one. Default UTC. */
  timeZone?: string;
  /** Points per push request. Default 10000. */
  maxPointsPerRequest?: number;
  /** Split queries into windows of this length; a 504 halves the window (hosted services' quota). */
  queryWindowMs?: number;
  /** Smallest window a 504 may shrink to. Default min(60000, queryWindowMs). */
  minQueryWindowMs?: number;
  /** Tags put on every pushed metric, overriding the metric's own (EWIMA's uuid). */
  pushTags?: Tags;
  /** How booleans are written. Default 'long' (1/0). */
  booleans?: BooleanMode;
  onDebug?: (e: DebugEvent) => void;
  logger?: Logger;
}

export interface AddMetricsOptions {
  /** Default: now. */
  timestamp?: TimeInput;
  tags?: Tags;
  types?: Record<string, KairosDataType>;
}

export interface AddMetricsBatchOptions {
  timestampColumnName?: string;
  tags?: Tags;
  /** Points per request; default maxPointsPerRequest. */
  batchSize?: number;
  types?: Record<string, KairosDataType>;
}

export interface TagsResult {
  name: string;
  tags: Record<string, string[]>;
}

export interface HealthResult {
  ok: boolean;
  status: string[];
}

export class KairosConnector {
  readonly http: HttpClient;
  readonly timeZone: string;
  private readonly opts: KairosConnectorOptions;
  private readonly writePath: string;
  private readonly queryPath: string;
  private readonly maxPoints: number;
  private readonly defaultTags?: Tags;
  private lastBearer?: string;

  constructor(opts: KairosConnectorOptions) {
    if (!opts || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    const baseUrls = Array.isArray(opts.baseUrl) ? opts.baseUrl : [opts.baseUrl];
    const authCount = [opts.token, opts.bearer, opts.basicAuth].filter((x) => x !== undefined).length;
    if (authCount > 1) throw new ValidationError('token/bearer/basicAuth', 'several', 'give at most one way to authenticate');
    this.timeZone = validateTimeZone(opts.timeZone ?? 'UTC', 'timeZone');
    this.writePath = checkPath(opts.writePath ?? DEFAULT_WRITE_PATH, 'writePath');
    this.queryPath = checkPath(opts.queryPath ?? DEFAULT_QUERY_PATH, 'queryPath');
    this.maxPoints = opts.maxPointsPerRequest ?? DEFAULT_MAX_POINTS_PER_REQUEST;
    positiveInt(this.maxPoints, 'maxPointsPerRequest');
    if (opts.queryWindowMs !== undefined) positiveInt(opts.queryWindowMs, 'queryWindowMs');
    if (opts.minQueryWindowMs !== undefined) positiveInt(opts.minQueryWindowMs, 'minQueryWindowMs');
    if (opts.readOnly !== undefined && (typeof opts.readOnly !== 'string' || opts.readOnly === '')) {
      throw new ValidationError('readOnly', opts.readOnly, 'must be the message to give for refused writes');
    }
    if (opts.defaultTags !== undefined && Object.keys(opts.defaultTags).length) {
      // Validates the tag set once, up front (throws naming defaultTags).
      normalizePushArray([], { defaultTags: opts.defaultTags });
      this.defaultTags = opts.defaultTags;
    }
    this.opts = opts;
    const authorization = this.authHeader();
    this.http = new HttpClient({
      baseUrls,
      headers: opts.headers,
      proxy: opts.proxy,
      tls: opts.tls,
      timeoutMs: opts.timeoutMs,
      gzipThresholdBytes: opts.gzipThresholdBytes,
      maxResponseBytes: opts.maxResponseBytes,
      authorization,
      secrets: () => this.secrets(),
      onDebug: opts.onDebug,
      logger: opts.logger,
    });
  }

  // ------------------------------------------------------------------------------------------
  // Writes

  /** Writes one value per metric at one timestamp (default now). */
  async addMetrics(values: Record<string, unknown>, options: AddMetricsOptions = {}): Promise<WriteResult> {
    this.guardWrite();
    const timestamp = datetimeToTimestampMs(options.timestamp ?? Date.now(), { zone: this.timeZone, field: 'timestamp' });
    const built = metricsFromValues(values, { timestamp, tags: this.mergeTags(options.tags), types: options.types, booleans: this.opts.booleans });
    return this.send(built, this.maxPoints);
  }

  /** Writes table rows: one metric per column besides the timestamp column. */
  async addMetricsBatch(rows: Row[], options: AddMetricsBatchOptions = {}): Promise<WriteResult> {
    this.guardWrite();
    const batch = options.batchSize ?? this.maxPoints;
    positiveInt(batch, 'batchSize');
    const built = metricsFromRows(rows, {
      timestampColumnName: options.timestampColumnName,
      tags: this.mergeTags(options.tags),
      zone: this.timeZone,
      types: options.types,
      booleans: this.opts.booleans,
    });
    return this.send(built, batch);
  }

  /**
   * Pushes KairosDB metrics (validated again, typed, default tags added where missing). A 400 is a
   * partial failure: the metrics named as metric[i] in the server's messages count as rejected and the
   * rest as written (KairosDB stores the valid ones). 5xx, timeouts and network errors throw their
   * retryable typed error, so an outbox can send the same points again (same-type re-sends overwrite).
   */
  async push(metrics: KairosPushMetric[], signal?: AbortSignal): Promise<WriteResult> {
    this.guardWrite();
    return this.send(normalizePushArray(metrics, { defaultTags: this.defaultTags, booleans: this.opts.booleans }), this.maxPoints, signal);
  }

  /** Points per push request (maxPointsPerRequest). */
  get maxPointsPerRequest(): number {
    return this.maxPoints;
  }

  /**
   * The body push() would post for `metrics` in one request, or undefined when push() would do more
   * than post it (split it, or leave out points it rejects): an outbox stores this body and sends it
   * with pushEncoded, without checking and serialising it again per request.
   */
  encodePush(metrics: KairosPushMetric[]): Buffer | undefined {
    this.guardWrite();
    let points = 0;
    for (const m of metrics) points += countPoints(m);
    if (points > this.maxPoints) return undefined;
    // Metrics as the write nodes build them are already what the checks would make of them: no copy.
    const built = pushReady(metrics) ? { metrics, errors: [], rejected: 0 } : normalizePushArray(metrics, { defaultTags: this.defaultTags, booleans: this.opts.booleans });
    if (built.rejected > 0 || built.errors.length > 0) return undefined;
    return serializePushToBuffer(this.withPushTags(built.metrics));
  }

  /** encodePush for stretches of column series (see serializeColumnsToBuffer), with the forced tags. */
  encodeColumns(pieces: ColumnPiece[]): Buffer {
    this.guardWrite();
    const forced = this.opts.pushTags;
    return serializeColumnsToBuffer(pieces, forced ? (t) => ({ ...t, ...forced }) : undefined);
  }

  /** Posts a body from encodePush (or several joined) of `points` points; a 400 is answered as push() does. */
  async pushEncoded(body: Buffer, points: number, signal?: AbortSignal): Promise<WriteResult> {
    this.guardWrite();
    const result: WriteResult = { written: 0, rejected: 0, errors: [], requests: 0 };
    const resp = await this.http.request({ method: 'POST', path: this.writePath, body, allowGzip: true, headers: { 'content-type': 'application/json' }, signal });
    // Only a 400 needs the entries (to count the points of the metrics it names): parsed then, not before.
    this.account(result, resp, points, () => {
      try {
        const list: unknown = JSON.parse(body.toString('utf8'));
        return Array.isArray(list) ? (list as KairosPushMetric[]) : [];
      } catch {
        return [];
      }
    });
    return result;
  }

  private withPushTags(metrics: KairosPushMetric[]): KairosPushMetric[] {
    const forced = this.opts.pushTags;
    return forced ? metrics.map((m) => ({ ...m, tags: { ...m.tags, ...forced } })) : metrics;
  }

  private async send(built: PushBuildResult, maxPoints: number, signal?: AbortSignal): Promise<WriteResult> {
    const result: WriteResult = { written: 0, rejected: built.rejected, errors: [...built.errors], requests: 0 };
    for (const batch of splitPush(this.withPushTags(built.metrics), maxPoints)) {
      const resp = await this.http.request({ method: 'POST', path: this.writePath, body: serializePushToBuffer(batch), allowGzip: true, headers: { 'content-type': 'application/json' }, signal });
      this.account(result, resp, batch.reduce((n, m) => n + countPoints(m), 0), () => batch);
    }
    return result;
  }

  /** Adds one push request's outcome to `result`: written, or a 400's rejected metrics; other statuses throw. */
  private account(result: WriteResult, resp: HttpResponse, points: number, entries: () => KairosPushMetric[]): void {
    result.requests++;
    if (resp.status === 204 || resp.status === 200) {
      result.written += points;
      return;
    }
    if (resp.status !== 400) throw errorForStatus(resp, joinUrl(resp.baseUrl, this.writePath), this.secrets());
    const messages = parseServerErrors(resp.body);
    const named = new Set<number>();
    for (const msg of messages) {
      for (const m of msg.matchAll(/metric\[(\d+)\]/g)) named.add(Number(m[1]));
    }
    // Without metric[i] in any message (malformed JSON and the like) nothing of this request was stored.
    let rejected = points;
    if (named.size) {
      const batch = entries();
      rejected = Math.min(points, [...named].filter((i) => i < batch.length).reduce((n, i) => n + countPoints(batch[i]), 0));
    }
    result.rejected += rejected;
    result.written += points - rejected;
    result.errors.push(...(messages.length ? messages : [`HTTP 400 from ${joinUrl(resp.baseUrl, this.writePath)}`]));
  }

  /** Deletes the raw points a query selects (aggregators and group_by are ignored by KairosDB). */
  async deleteDataPoints(opts: QueryOptions): Promise<void> {
    this.guardWrite();
    const body = this.queryBody(opts);
    await this.http.requestJson({ method: 'POST', path: '/api/v1/datapoints/delete', body }, [204, 200]);
  }

  /** Deletes a whole metric (KairosDB answers 204 for unknown names too). */
  async deleteMetric(name: string): Promise<void> {
    this.guardWrite();
    if (typeof name !== 'string' || name.trim() === '') throw new ValidationError('name', name, 'must be a non-empty metric name');
    await this.http.requestJson({ method: 'DELETE', path: `/api/v1/metric/${encodeURIComponent(name)}` }, [204, 200]);
  }

  // ------------------------------------------------------------------------------------------
  // Reads

  /**
   * The raw KairosDB response. With queryWindowMs the range is fetched window by window (a 504 halves
   * the window) and the windows' values are concatenated per result; limit then applies to the whole.
   */
  async query(opts: QueryOptions, signal?: AbortSignal): Promise<KairosQueryResponse> {
    const body = this.queryBody(opts);
    if (this.opts.queryWindowMs === undefined) return this.postQuery(body, signal);
    return this.windowedQuery(body, this.opts.queryWindowMs, signal);
  }

  /** Query results as table rows (see TableOptions). */
  async queryMetrics(opts: QueryOptions & TableOptions, signal?: AbortSignal): Promise<Row[]> {
    return rowsFromColumnarTable(await this.queryColumnar(opts, signal), opts.convertTimestamp);
  }

  /**
   * Query results as a columnar table (typed arrays, no object per row). The response bytes are
   * scanned without building the parsed JSON tree, so a large response needs little more memory
   * than its own size.
   */
  async queryColumnar(opts: QueryOptions & TableOptions, signal?: AbortSignal): Promise<ColumnarTable> {
    const r = await this.scannedQuery(opts, signal, (bytes) => scanColumnarTable(bytes, opts));
    return 'scanned' in r ? r.scanned : columnarTableFromQueryResponse(r.parsed, opts);
  }

  /** Query results as one Series per result group (read from the response bytes, see queryColumnar). */
  async querySeries(opts: QueryOptions, signal?: AbortSignal): Promise<Series[]> {
    const r = await this.scannedQuery(opts, signal, scanSeries);
    return 'scanned' in r ? r.scanned : seriesFromQueryResponse(r.parsed);
  }

  /**
   * queryColumnar with the scan and join done in slices between event-loop turns (src/util/slices.ts),
   * so a large answer never holds up the rest of the process for long; same table, same errors.
   * An aborted signal also stops the conversion (rejecting with its reason).
   */
  async queryColumnarSliced(opts: QueryOptions & TableOptions, signal?: AbortSignal): Promise<ColumnarTable> {
    const slice = { signal };
    const r = await this.scannedQuery(opts, signal, (bytes) => runSliced(scanColumnarTableSteps(bytes, opts), slice));
    if ('scanned' in r) return r.scanned;
    // As columnarTableFromQueryResponse: options are checked before the series are read.
    checkTableOptions(opts);
    return runSliced(columnarTableSteps(seriesPointsOf(seriesFromQueryResponse(r.parsed)), opts), slice);
  }

  /**
   * Query results as series, scanned in slices like queryColumnarSliced: as points in typed arrays
   * when the response was scanned (the usual case), as parsed Series when it was not (windowed
   * queries, shapes the scanner leaves to JSON.parse) — exactly what querySeries gives then.
   */
  async queryScannedSeries(opts: QueryOptions, signal?: AbortSignal): Promise<{ points: SeriesPoints[] } | { series: Series[] }> {
    const r = await this.scannedQuery(opts, signal, (bytes) => runSliced(scanSeriesPointsSteps(bytes), { signal }));
    return 'scanned' in r ? { points: r.scanned } : { series: seriesFromQueryResponse(r.parsed) };
  }

  /** Sends a user-built KairosDB query body as is; it can only reach this connector's query path. */
  async rawQuery(body: unknown, signal?: AbortSignal): Promise<KairosQueryResponse> {
    checkRawBody(body);
    return this.postQuery(body, signal);
  }

  /**
   * rawQuery's answer as series, scanned in slices (see queryScannedSeries): points when the response
   * was scanned, the parsed series otherwise; the same errors as rawQuery.
   */
  async rawQueryScannedSeries(body: unknown, signal?: AbortSignal): Promise<{ points: SeriesPoints[] } | { series: Series[] }> {
    checkRawBody(body);
    const r = await this.scannedBody(body, signal, (bytes) => runSliced(scanSeriesPointsSteps(bytes), { signal }));
    return 'scanned' in r ? { points: r.scanned } : { series: seriesFromQueryResponse(r.parsed) };
  }

  /** Metric names, optionally only those starting with prefix. */
  async metricNames(prefix?: string): Promise<string[]> {
    if (prefix !== undefined && typeof prefix !== 'string') throw new ValidationError('prefix', prefix, 'must be a string');
    const resp = await this.http.requestJson<{ results?: unknown }>({
      method: 'GET',
      path: '/api/v1/metricnames',
      query: prefix ? { prefix } : undefined,
    });
    if (!resp || !Array.isArray(resp.results)) throw new ParseError('metricnames: response has no results array');
    return resp.results.filter((r): r is string => typeof r === 'string');
  }

  /** Tag names and values per metric (POST /api/v1/datapoints/query/tags). */
  async tags(opts: QueryOptions): Promise<TagsResult[]> {
    const body = this.queryBody({ ...opts, aggregators: undefined, groupBy: undefined, limit: undefined, order: undefined });
    const resp = await this.http.requestJson<KairosQueryResponse>({ method: 'POST', path: '/api/v1/datapoints/query/tags', body });
    checkQueryResponse(resp);
    return resp.queries.map((q, i) => {
      const tags: Record<string, Set<string>> = {};
      for (const r of q.results) {
        for (const [k, vs] of Object.entries(r.tags ?? {})) for (const v of vs) (tags[k] ??= new Set()).add(v);
      }
      const name = q.results[0]?.name ?? (body.metrics[i]?.name as string);
      return { name, tags: Object.fromEntries(Object.entries(tags).map(([k, s]) => [k, [...s].sort()])) };
    });
  }

  /** The server's version string, e.g. "KairosDB 1.3.0-1.20261125031223". */
  async version(): Promise<string> {
    const resp = await this.http.requestJson<{ version?: unknown }>({ method: 'GET', path: '/api/v1/version' });
    if (!resp || typeof resp.version !== 'string') throw new ParseError('version: response has no version string');
    return resp.version;
  }

  /** The health checks; ok when every check reports OK. Connection problems give ok:false with the reason. */
  async health(): Promise<HealthResult> {
    try {
      const status = await this.http.requestJson<unknown>({ method: 'GET', path: '/api/v1/health/status' });
      if (!Array.isArray(status)) throw new ParseError('health/status: response is not a list of checks');
      const checks = status.map(String);
      return { ok: checks.length > 0 && checks.every((s) => /:\s*OK$/i.test(s)), status: checks };
    } catch (err) {
      if (err instanceof KairosError) return { ok: false, status: [err.message] };
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.http.close();
  }

  // ------------------------------------------------------------------------------------------

  private queryBody(opts: QueryOptions): KairosQueryBody {
    return buildQuery({ ...opts, timeZone: opts?.timeZone ?? this.timeZone }, { zone: opts?.timeZone ?? this.timeZone });
  }

  private async postQuery(body: unknown, signal?: AbortSignal): Promise<KairosQueryResponse> {
    const resp = await this.http.requestJson<KairosQueryResponse>({ method: 'POST', path: this.queryPath, body, signal });
    checkQueryResponse(resp);
    return resp;
  }

  /**
   * Runs a query and hands the response bytes to `scanBytes`. Windowed queries (their windows are
   * merged as parsed objects) and responses the scanner does not take come back parsed and checked,
   * with the same errors query() gives.
   */
  private async scannedQuery<T>(
    opts: QueryOptions,
    signal: AbortSignal | undefined,
    scanBytes: (bytes: Buffer) => T | undefined | Promise<T | undefined>,
  ): Promise<{ scanned: T } | { parsed: KairosQueryResponse }> {
    const body = this.queryBody(opts);
    if (this.opts.queryWindowMs !== undefined) return { parsed: await this.windowedQuery(body, this.opts.queryWindowMs, signal) };
    return this.scannedBody(body, signal, scanBytes);
  }

  /** scannedQuery for a body as it is sent (no windows). */
  private async scannedBody<T>(
    body: unknown,
    signal: AbortSignal | undefined,
    scanBytes: (bytes: Buffer) => T | undefined | Promise<T | undefined>,
  ): Promise<{ scanned: T } | { parsed: KairosQueryResponse }> {
    const resp = await this.http.requestOk({ method: 'POST', path: this.queryPath, body, signal });
    const scanned = resp.body.length ? await scanBytes(resp.body) : undefined;
    if (scanned !== undefined) return { scanned };
    const parsed = this.http.parseJson<unknown>(resp, this.queryPath);
    checkQueryResponse(parsed);
    return { parsed };
  }

  private async windowedQuery(body: KairosQueryBody, windowMs: number, signal?: AbortSignal): Promise<KairosQueryResponse> {
    const now = Date.now();
    const start = body.start_absolute ?? subtractRelative(now, body.start_relative as NonNullable<KairosQueryBody['start_relative']>, body.time_zone);
    const end = body.end_absolute ?? (body.end_relative ? subtractRelative(now, body.end_relative, body.time_zone) : now);
    if (end < start) throw new ValidationError('end', end, `must not be before the start (${start})`);
    // Windows go without limits; the limit is applied to the concatenated values.
    const limits = body.metrics.map((m) => m.limit as number | undefined);
    const windowMetrics = body.metrics.map(({ limit: _l, ...m }) => m);
    const base = { time_zone: body.time_zone, metrics: windowMetrics };
    const parts = await windowedWithHalving(
      (range, sig) => this.postQuery({ ...base, start_absolute: range.start, end_absolute: range.end }, sig),
      start,
      end,
      windowMs,
      { minWindowMs: this.opts.minQueryWindowMs ?? Math.min(60_000, windowMs), signal },
    );
    return mergeWindows(
      parts.map((p) => p.value),
      body.metrics.map((m) => m.order === 'desc'),
      limits,
    );
  }

  private authHeader(): (() => string | undefined | Promise<string | undefined>) | undefined {
    const { token, bearer, basicAuth } = this.opts;
    if (token !== undefined) {
      if (typeof token !== 'string' || token.trim() === '') throw new ValidationError('token', '(hidden)', 'must be a non-empty Basic token');
      const value = `Basic ${token.trim().replace(/^Basic\s+/i, '')}`;
      return () => value;
    }
    if (basicAuth !== undefined) {
      if (!basicAuth || typeof basicAuth.username !== 'string' || basicAuth.username === '' || basicAuth.username.includes(':')) {
        throw new ValidationError('basicAuth.username', basicAuth?.username, 'must be a non-empty string without ":"');
      }
      if (typeof basicAuth.password !== 'string') throw new ValidationError('basicAuth.password', '(hidden)', 'must be a string');
      const value = `Basic ${Buffer.from(`${basicAuth.username}:${basicAuth.password}`).toString('base64')}`;
      return () => value;
    }
    if (bearer !== undefined) {
      if (typeof bearer !== 'function') throw new ValidationError('bearer', bearer, 'must be a function returning the access token');
      return async () => {
        this.lastBearer = await bearer();
        return `Bearer ${this.lastBearer}`;
      };
    }
    return undefined;
  }

  /** Every form of the credentials a server could echo back: a Basic token also as "id:password" and the password alone. */
  private secrets(): Array<string | undefined> {
    const token = typeof this.opts.token === 'string' ? this.opts.token.trim().replace(/^Basic\s+/i, '') : undefined;
    return [token, this.opts.token, ...decodedBasic(token), this.opts.basicAuth?.password, this.lastBearer];
  }

  private guardWrite(): void {
    if (this.opts.readOnly !== undefined) throw new ReadOnlyError(this.opts.readOnly);
  }

  private mergeTags(tags: Tags | undefined): Tags {
    return { ...(this.defaultTags ?? {}), ...(tags ?? {}) };
  }
}

/** Concatenates windowed responses per (query, result group); keeps the server's empty-result shape. */
function mergeWindows(parts: KairosQueryResponse[], desc: boolean[], limits: Array<number | undefined>): KairosQueryResponse {
  const ordered = (i: number): KairosQueryResponse[] => (desc[i] ? [...parts].reverse() : parts);
  const queries = desc.map((_, i) => {
    const groups = new Map<string, { result: KairosResult; tagSets?: Record<string, Set<string>> }>();
    let sampleSize = 0;
    for (const part of ordered(i)) {
      const q = part.queries[i];
      if (!q) continue;
      sampleSize += q.sample_size ?? 0;
      for (const r of q.results) {
        const key = `${r.name}\u0000${JSON.stringify(r.group_by ?? null)}`;
        let g = groups.get(key);
        if (!g) {
          g = { result: { ...r, values: [] }, tagSets: r.tags ? {} : undefined };
          groups.set(key, g);
        }
        g.result.values.push(...r.values);
        if (g.tagSets && r.tags) for (const [k, vs] of Object.entries(r.tags)) for (const v of vs) (g.tagSets[k] ??= new Set()).add(v);
      }
    }
    const hasData = [...groups.values()].some((g) => g.result.values.length > 0);
    const results = [...groups.values()]
      // An empty 1.3-shape placeholder only survives when no window had data for the metric.
      .filter((g) => g.result.values.length > 0 || !hasData)
      .map((g) => {
        const r = g.result;
        if (g.tagSets) r.tags = Object.fromEntries(Object.entries(g.tagSets).map(([k, s]) => [k, [...s].sort()]));
        const limit = limits[i];
        if (limit !== undefined && r.values.length > limit) r.values = r.values.slice(0, limit);
        return r;
      });
    if (!hasData && results.length > 1) results.length = 1;
    return { sample_size: sampleSize, results };
  });
  return { queries };
}

/** "id:password" and "password" inside a Basic token; nothing when it does not decode to that shape. */
function decodedBasic(token: string | undefined): string[] {
  if (!token || !/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return [];
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon > 0 ? [decoded, decoded.slice(colon + 1)] : [];
}

/** A user-built query body: an object with a non-empty metrics array (the server checks the rest). */
function checkRawBody(body: unknown): asserts body is Record<string, unknown> {
  if (!isPlainObject(body)) throw new ValidationError('query', body, 'must be a KairosDB query object');
  if (!Array.isArray(body.metrics) || body.metrics.length === 0) {
    throw new ValidationError('query.metrics', body.metrics, 'must be a non-empty array of metric queries');
  }
}

function checkQueryResponse(resp: unknown): asserts resp is KairosQueryResponse {
  if (!isPlainObject(resp) || !Array.isArray(resp.queries)) throw new ParseError('query response has no queries array');
  for (const q of resp.queries as unknown[]) {
    if (!isPlainObject(q) || !Array.isArray(q.results)) throw new ParseError('query response: a queries entry has no results array');
  }
}

function checkPath(p: unknown, field: string): string {
  if (typeof p !== 'string' || !p.startsWith('/') || /[?#]|\/\.\.?(\/|$)/.test(p)) {
    throw new ValidationError(field, p, 'must be a path starting with "/" (no query, fragment or dot segments)');
  }
  return p;
}

