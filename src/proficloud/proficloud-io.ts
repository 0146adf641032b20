/**
 * proficloud.io TSD (v3, read only): OAuth login on /epts/token and GET /epts/data, normalised into
 * KairosDB's query response shape so the table/series functions work unchanged.
 *
 * Tokens: the access token is reused until 30 s before it expires, then refreshed with the refresh
 * token; a failed refresh, or a 401 on a data call, logs in again once before AuthenticationError
 * surfaces. Token and password never reach errors, logs or debug events.
 *
 * Data: one request per endpoint id and window of at most `windowMs` (default one day), sent one after
 * another. Windows share their boundary instants (whether toDate is inclusive is undocumented), so a
 * point repeated at a boundary is kept once.
 *
 * Retries: a data request that meets 429, 502, 503, 504 or a network error is sent again up to
 * `retries` times after an exponential, jittered pause (at least the server's Retry-After, capped), as
 * the service documents no limits but throttles. Timeouts are not retried: each already waited
 * `timeoutMs`, and a poll that waits minutes is worse than one that fails. Other 4xx and auth errors
 * fail at once (a 401 still gets its single fresh login).
 */
import { AuthenticationError, HttpStatusError, NetworkError, ParseError, ValidationError, redact } from '../errors';
import { HttpClient } from '../http/http-client';
import type { ProxySetting, TlsOptions } from '../http/dispatcher';
import { parseRetryAfter } from '../http/status-errors';
import { rowsFromQueryResponse, seriesFromQueryResponse } from '../table/table-builder';
import { datetimeToTimestampMs } from '../time/timestamps';
import { inTimeOrder } from '../util/time-order';
import type { DebugEvent, KairosQueryResponse, KairosResult, Logger, PointValue, Row, Series, TableOptions, TimeInput } from '../types';

export const PROFICLOUD_IO_URLS = {
  production: 'https://tsd.proficloud.io',
  staging: 'https://tsd.proficloud-staging.io',
} as const;

export const TOKEN_PATH = '/epts/token';
export const DATA_PATH = '/epts/data';
/** Refresh this long before the access token's stated expiry. */
export const TOKEN_MARGIN_MS = 30_000;
export const DEFAULT_WINDOW_MS = 86_400_000;
/** Assumed access token life (s) when the token response has no expires_in. */
export const DEFAULT_EXPIRES_IN_S = 60;
/** Upper bound on requests for one query, so a typo in a date cannot start years of calls. */
export const MAX_REQUESTS_PER_QUERY = 20_000;
export const DEFAULT_RETRIES = 3;
export const DEFAULT_RETRY_BASE_MS = 500;
/** Longest pause before a retry, whatever the backoff or the server's Retry-After asks for. */
export const MAX_RETRY_DELAY_MS = 30_000;
const MAX_RETRIES = 10;
/** Statuses after which the same request may well succeed shortly. */
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

export interface ProficloudIOOptions {
  environment?: 'production' | 'staging';
  /** Overrides the environment's URL. */
  baseUrl?: string;
  username: string;
  password: string;
  timeoutMs?: number;
  /** Largest response body in bytes (see KairosConnectorOptions.maxResponseBytes). Default 512 MiB. */
  maxResponseBytes?: number;
  proxy?: ProxySetting;
  tls?: TlsOptions;
  onDebug?: (e: DebugEvent) => void;
  logger?: Logger;
  /** Clock for token expiry and the default end of a query (tests). */
  now?: () => number;
  /** Longest time range per data request. Default one day. */
  windowMs?: number;
  /** Further attempts for a data request after 429/502/503/504 or a network error. Default 3; 0 = none. */
  retries?: number;
  /** First backoff pause; doubles per retry, jittered to 50..100 %, capped at 30 s. Default 500 ms. */
  retryBaseMs?: number;
  /** Jitter source in [0, 1) (tests). */
  random?: () => number;
}

export interface ProficloudIOQuery {
  endpointIds: string | string[];
  metrics: string | string[];
  from: TimeInput;
  /** Default now. */
  to?: TimeInput;
  sort?: 'ASC' | 'DESC';
}

interface TokenResponse {
  access_token?: unknown;
  expires_in?: unknown;
  refresh_token?: unknown;
  refresh_expires_in?: unknown;
}

interface TokenState {
  access: string;
  accessExpiresAt: number;
  refresh?: string;
  refreshExpiresAt?: number;
}

type Sample = { timestamp?: unknown; values?: unknown };

function nonEmptyList(value: unknown, field: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw new ValidationError(field, value, 'must be a non-empty string or array of strings');
  list.forEach((v, i) => {
    if (typeof v !== 'string' || v.trim() === '') throw new ValidationError(`${field}[${i}]`, v, 'must be a non-empty string');
    if (v.includes(',')) throw new ValidationError(`${field}[${i}]`, v, 'must not contain "," (names are sent comma-separated)');
  });
  if (new Set(list).size !== list.length) throw new ValidationError(field, value, 'contains duplicates');
  return list as string[];
}

const ISO_UTC_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?Z$/;

/** Sample timestamps: ISO-8601 with or without fraction (fast path for the usual UTC form), or epoch ms. */
export function parseSampleTimestamp(ts: unknown): number {
  if (typeof ts === 'number' && Number.isFinite(ts)) return Math.round(ts);
  if (typeof ts === 'string') {
    const m = ISO_UTC_RE.exec(ts);
    if (m) {
      const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
      const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6], ms);
      if (Number.isFinite(t)) return t;
    }
    try {
      return datetimeToTimestampMs(ts, { zone: 'UTC', field: 'timestamp' });
    } catch {
      // fall through to the ParseError below: this is the server's data, not the caller's input
    }
  }
  throw new ParseError(`proficloud.io sent an unreadable sample timestamp ${JSON.stringify(ts)}`);
}

/** `values.value` as a point value: numbers and strings as they are, booleans as 1/0, other shapes as JSON text. */
function sampleValue(values: unknown): PointValue | null {
  if (values === null || typeof values !== 'object') return values === undefined ? null : toPoint(values);
  const obj = values as Record<string, unknown>;
  if ('value' in obj) return toPoint(obj.value);
  const keys = Object.keys(obj);
  return keys.length === 1 ? toPoint(obj[keys[0]]) : keys.length === 0 ? null : JSON.stringify(obj);
}
function toPoint(v: unknown): PointValue | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'number' || typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return JSON.stringify(v);
}

export class ProficloudIOMetrics {
  readonly baseUrl: string;
  private readonly client: HttpClient;
  private readonly username: string;
  private readonly password: string;
  private readonly now: () => number;
  private readonly windowMs: number;
  private readonly logger?: Logger;
  private readonly retries: number;
  private readonly retryBaseMs: number;
  private readonly random: () => number;
  private token?: TokenState;
  private pendingToken?: Promise<string>;

  constructor(opts: ProficloudIOOptions) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    const env = opts.environment ?? 'production';
    if (env !== 'production' && env !== 'staging') throw new ValidationError('environment', env, 'must be "production" or "staging"');
    if (typeof opts.username !== 'string' || opts.username.trim() === '') {
      throw new ValidationError('username', opts.username, 'must be the proficloud.io login (e-mail)');
    }
    if (typeof opts.password !== 'string' || opts.password === '') {
      throw new ValidationError('password', typeof opts.password === 'string' ? '' : typeof opts.password, 'must be a non-empty string');
    }
    const windowMs = opts.windowMs ?? DEFAULT_WINDOW_MS;
    if (typeof windowMs !== 'number' || !Number.isInteger(windowMs) || windowMs < 1000) {
      throw new ValidationError('windowMs', windowMs, 'must be an integer number of milliseconds >= 1000');
    }
    if (opts.now !== undefined && typeof opts.now !== 'function') throw new ValidationError('now', opts.now, 'must be a function');
    const retries = opts.retries ?? DEFAULT_RETRIES;
    if (typeof retries !== 'number' || !Number.isInteger(retries) || retries < 0 || retries > MAX_RETRIES) {
      throw new ValidationError('retries', retries, `must be an integer from 0 to ${MAX_RETRIES}`);
    }
    const retryBaseMs = opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS;
    if (typeof retryBaseMs !== 'number' || !Number.isFinite(retryBaseMs) || retryBaseMs < 0 || retryBaseMs > MAX_RETRY_DELAY_MS) {
      throw new ValidationError('retryBaseMs', retryBaseMs, `must be a number of milliseconds from 0 to ${MAX_RETRY_DELAY_MS}`);
    }
    if (opts.random !== undefined && typeof opts.random !== 'function') throw new ValidationError('random', opts.random, 'must be a function');
    this.retries = retries;
    this.retryBaseMs = retryBaseMs;
    this.random = opts.random ?? Math.random;
    this.username = opts.username.trim();
    this.password = opts.password;
    this.now = opts.now ?? Date.now;
    this.windowMs = windowMs;
    this.logger = opts.logger;
    this.baseUrl = opts.baseUrl ?? PROFICLOUD_IO_URLS[env];
    const onDebug = opts.onDebug;
    this.client = new HttpClient({
      baseUrls: [this.baseUrl],
      timeoutMs: opts.timeoutMs,
      maxResponseBytes: opts.maxResponseBytes,
      proxy: opts.proxy,
      tls: opts.tls,
      logger: opts.logger,
      secrets: () => this.secrets(),
      // Token responses carry fresh tokens the client cannot know as secrets yet: scrub them by field name.
      onDebug: onDebug ? (e) => onDebug(this.scrubDebug(e)) : undefined,
    });
  }

  /**
   * Data for every endpoint id and metric over [from, to], as a KairosDB query response (one query per
   * metric). Aborting `signal` cancels the request in flight or the backoff pause and rejects with its reason.
   */
  async query(q: ProficloudIOQuery, signal?: AbortSignal): Promise<KairosQueryResponse> {
    if (q === null || typeof q !== 'object') throw new ValidationError('query', q, 'must be an object');
    const ids = nonEmptyList(q.endpointIds, 'endpointIds');
    const metrics = nonEmptyList(q.metrics, 'metrics');
    const from = datetimeToTimestampMs(q.from, { field: 'from' });
    const to = q.to === undefined ? this.now() : datetimeToTimestampMs(q.to, { field: 'to' });
    if (to < from) throw new ValidationError('to', q.to, `must not be before "from" (${new Date(from).toISOString()})`);
    const sortRaw = q.sort ?? 'ASC';
    const sort = typeof sortRaw === 'string' ? sortRaw.toUpperCase() : sortRaw;
    if (sort !== 'ASC' && sort !== 'DESC') throw new ValidationError('sort', q.sort, 'must be "ASC" or "DESC"');
    const windows = this.windows(from, to);
    if (windows.length * ids.length > MAX_REQUESTS_PER_QUERY) {
      throw new ValidationError('to', q.to, `range needs ${windows.length * ids.length} requests (limit ${MAX_REQUESTS_PER_QUERY}); shorten it`);
    }
    if (sort === 'DESC') windows.reverse();

    // collected[metric][id] -> values in the requested order
    const collected = new Map<string, Map<string, Array<[number, PointValue | null]>>>();
    for (const m of metrics) collected.set(m, new Map(ids.map((id) => [id, []])));
    for (const id of ids) {
      for (const [wFrom, wTo] of windows) {
        const body = await this.fetchWindowWithRetry(id, metrics, wFrom, wTo, sort, signal);
        this.collect(body, collected);
      }
    }
    return this.toQueryResponse(metrics, ids, collected, sort === 'DESC');
  }

  async querySeries(q: ProficloudIOQuery, signal?: AbortSignal): Promise<Series[]> {
    return seriesFromQueryResponse(await this.query(q, signal));
  }

  async queryRows(q: ProficloudIOQuery & TableOptions, signal?: AbortSignal): Promise<Row[]> {
    const { endpointIds, metrics, from, to, sort, ...table } = q;
    return rowsFromQueryResponse(await this.query({ endpointIds, metrics, from, to, sort }, signal), table);
  }

  /** A valid access token: cached, refreshed or from a new login. */
  async getAccessToken(): Promise<string> {
    const t = this.token;
    if (t && this.now() < t.accessExpiresAt - TOKEN_MARGIN_MS) return t.access;
    // One login/refresh at a time; concurrent callers share it.
    if (!this.pendingToken) {
      this.pendingToken = this.obtainToken().finally(() => {
        this.pendingToken = undefined;
      });
    }
    return this.pendingToken;
  }

  async close(): Promise<void> {
    this.token = undefined;
    await this.client.close();
  }

  private async obtainToken(): Promise<string> {
    const t = this.token;
    if (t?.refresh && (t.refreshExpiresAt === undefined || this.now() < t.refreshExpiresAt - TOKEN_MARGIN_MS)) {
      try {
        return this.store(await this.tokenRequest({ refresh_token: t.refresh }, 'refresh'));
      } catch (err) {
        // Only a refused refresh falls back to a login; network trouble would fail the login too.
        if (!(err instanceof AuthenticationError || err instanceof ParseError || (err instanceof HttpStatusError && err.status < 500))) throw err;
        this.logger?.debug?.(`proficloud.io token refresh failed (${err.message}); logging in again`);
      }
    }
    this.token = undefined;
    return this.store(await this.tokenRequest({ username: this.username, password: this.password }, 'login'));
  }

  private async tokenRequest(body: Record<string, string>, what: 'login' | 'refresh'): Promise<TokenResponse> {
    let resp: TokenResponse | undefined;
    try {
      resp = await this.client.requestJson<TokenResponse>({ method: 'POST', path: TOKEN_PATH, body });
    } catch (err) {
      if (err instanceof HttpStatusError && err.status >= 400 && err.status < 500 && err.status !== 429) {
        throw new AuthenticationError(this.clean(`proficloud.io ${what} ${this.who(what)}was refused: ${err.message}`), err.status);
      }
      if (err instanceof AuthenticationError) {
        throw new AuthenticationError(this.clean(`proficloud.io ${what} ${this.who(what)}failed: ${err.message}`), err.status);
      }
      throw err;
    }
    if (!resp || typeof resp !== 'object' || typeof resp.access_token !== 'string' || resp.access_token === '') {
      throw new ParseError(`proficloud.io ${what} answered without an access_token`);
    }
    return resp;
  }

  private who(what: 'login' | 'refresh'): string {
    return what === 'login' ? `as ${this.username} ` : '';
  }

  private store(resp: TokenResponse): string {
    const now = this.now();
    const seconds = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : undefined);
    // Without expires_in, assume a short life rather than refreshing before every request.
    const expiresIn = seconds(resp.expires_in) ?? DEFAULT_EXPIRES_IN_S;
    const refreshIn = seconds(resp.refresh_expires_in);
    this.token = {
      access: resp.access_token as string,
      accessExpiresAt: now + expiresIn * 1000,
      refresh: typeof resp.refresh_token === 'string' && resp.refresh_token ? resp.refresh_token : undefined,
      refreshExpiresAt: refreshIn === undefined ? undefined : now + refreshIn * 1000,
    };
    return this.token.access;
  }

  private async fetchWindowWithRetry(
    id: string,
    metrics: string[],
    from: number,
    to: number,
    sort: 'ASC' | 'DESC',
    signal: AbortSignal | undefined,
  ): Promise<unknown> {
    for (let retry = 0; ; retry++) {
      if (signal?.aborted) throw signal.reason;
      try {
        return await this.fetchWindow(id, metrics, from, to, sort, signal);
      } catch (err) {
        if (signal?.aborted || retry >= this.retries || !isRetryable(err)) throw err;
        const delay = this.retryDelay(retry + 1, (err as HttpStatusError | NetworkError).retryAfterMs);
        this.logger?.debug?.(`proficloud.io data request for uuid ${id} failed (${this.clean((err as Error).message)}); retry ${retry + 1} of ${this.retries} in ${delay} ms`);
        await abortableSleep(delay, signal);
      }
    }
  }

  /** Pause before retry number `n` (1-based): exponential, jittered to 50..100 %, at least Retry-After, never above the cap. */
  private retryDelay(n: number, retryAfterMs: number | undefined): number {
    const exp = Math.min(MAX_RETRY_DELAY_MS, this.retryBaseMs * 2 ** (n - 1));
    const jittered = Math.round(exp * (0.5 + 0.5 * this.random()));
    const floor = retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? retryAfterMs : 0;
    return Math.min(MAX_RETRY_DELAY_MS, Math.max(jittered, floor));
  }

  private async fetchWindow(id: string, metrics: string[], from: number, to: number, sort: 'ASC' | 'DESC', signal?: AbortSignal): Promise<unknown> {
    const req = {
      method: 'GET' as const,
      path: DATA_PATH,
      query: {
        uuid: id,
        timeSeriesName: metrics.join(','),
        fromDate: new Date(from).toISOString(),
        toDate: new Date(to).toISOString(),
        sort,
      },
    };
    for (let attempt = 0; ; attempt++) {
      // The token promise is shared with other callers: abort only this caller's wait for it.
      const token = await untilAborted(this.getAccessToken(), signal);
      const resp = await this.client.request({ ...req, headers: { authorization: `Bearer ${token}` }, signal });
      if (resp.status === 401 && attempt === 0) {
        // The server no longer accepts this token (revoked, clock skew): log in afresh, once.
        this.token = undefined;
        continue;
      }
      if (resp.status !== 200) {
        const detail = resp.body.toString('utf8').replace(/\s+/g, ' ').trim().slice(0, 200);
        const url = `${this.baseUrl.replace(/\/+$/, '')}${DATA_PATH}`;
        if (resp.status === 401 || resp.status === 403) {
          throw new AuthenticationError(this.clean(`HTTP ${resp.status} from ${url} for uuid ${id}${detail ? `: ${detail}` : ''}`), resp.status);
        }
        const err = new HttpStatusError(resp.status, url, detail ? [this.clean(detail)] : []);
        const retryAfter = parseRetryAfter(resp.headers['retry-after']);
        if (retryAfter !== undefined) err.retryAfterMs = retryAfter;
        throw err;
      }
      if (resp.body.length === 0) return [];
      try {
        return JSON.parse(resp.body.toString('utf8')) as unknown;
      } catch (cause) {
        throw new ParseError(`proficloud.io ${DATA_PATH} for uuid ${id} answered with unreadable JSON`, { cause });
      }
    }
  }

  private collect(body: unknown, into: Map<string, Map<string, Array<[number, PointValue | null]>>>): void {
    const elements = Array.isArray(body) ? body : body && typeof body === 'object' ? [body] : null;
    if (elements === null) throw new ParseError(`proficloud.io ${DATA_PATH} answered with ${typeof body} (expected a JSON array)`);
    for (const el of elements) {
      if (el === null || typeof el !== 'object') continue;
      for (const [uuid, byMetric] of Object.entries(el as Record<string, unknown>)) {
        if (byMetric === null || typeof byMetric !== 'object') continue;
        for (const [metric, samples] of Object.entries(byMetric as Record<string, unknown>)) {
          if (!Array.isArray(samples)) continue;
          const perId = into.get(metric);
          if (!perId) continue; // a metric we did not ask for
          let values = perId.get(uuid);
          if (!values) {
            values = [];
            perId.set(uuid, values);
          }
          for (const s of samples as Sample[]) {
            if (s === null || typeof s !== 'object') continue;
            const ts = parseSampleTimestamp(s.timestamp);
            // windows share boundaries: a boundary point may come twice in a row
            if (values.length && values[values.length - 1][0] === ts) values[values.length - 1] = [ts, sampleValue(s.values)];
            else values.push([ts, sampleValue(s.values)]);
          }
        }
      }
    }
  }

  private toQueryResponse(
    metrics: string[],
    ids: string[],
    collected: Map<string, Map<string, Array<[number, PointValue | null]>>>,
    desc: boolean,
  ): KairosQueryResponse {
    const queries: KairosQueryResponse['queries'] = [];
    for (const metric of metrics) {
      const perId = collected.get(metric) as Map<string, Array<[number, PointValue | null]>>;
      const results: KairosResult[] = [];
      let sampleSize = 0;
      const several = perId.size > 1;
      for (const [id, collectedValues] of perId) {
        if (collectedValues.length === 0) continue;
        const values = inTimeOrder(collectedValues, desc);
        sampleSize += values.length;
        const r: KairosResult = { name: metric, tags: { uuid: [id] }, values };
        if (several) r.group_by = [{ name: 'tag', tags: ['uuid'], group: { uuid: id } }];
        results.push(r);
      }
      // Order results like the endpoint ids were given (unrequested ids last).
      results.sort((a, b) => rank(ids, a) - rank(ids, b));
      queries.push({ sample_size: sampleSize, results: results.length ? results : [{ name: metric, tags: {}, values: [] }] });
    }
    return { queries };
  }

  private windows(from: number, to: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    let start = from;
    do {
      const end = Math.min(start + this.windowMs, to);
      out.push([start, end]);
      start = end;
      if (out.length > MAX_REQUESTS_PER_QUERY) break;
    } while (start < to);
    return out;
  }

  private secrets(): string[] {
    const out = [this.password];
    if (this.token) {
      out.push(this.token.access);
      if (this.token.refresh) out.push(this.token.refresh);
    }
    return out;
  }

  private clean(text: string): string {
    return redact(scrubTokenFields(text), this.secrets());
  }

  private scrubDebug(e: DebugEvent): DebugEvent {
    const out: DebugEvent = { ...e, requestHeaders: { ...e.requestHeaders } };
    if (out.requestBody !== undefined) out.requestBody = this.clean(out.requestBody);
    if (out.responseBody !== undefined) out.responseBody = this.clean(out.responseBody);
    if (out.error !== undefined) out.error = this.clean(out.error);
    for (const k of Object.keys(out.requestHeaders)) {
      if (k.toLowerCase() === 'authorization') out.requestHeaders[k] = out.requestHeaders[k].replace(/^(\S+\s+).*/, '$1***');
    }
    return out;
  }
}

/** JSON fields that hold credentials, whatever their value. */
function scrubTokenFields(text: string): string {
  return text.replace(/("(?:access_token|refresh_token|id_token|password)"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"***"');
}

function isRetryable(err: unknown): boolean {
  if (err instanceof NetworkError) return true;
  return err instanceof HttpStatusError && RETRY_STATUSES.has(err.status);
}

/** Waits `ms`; an abort ends the wait at once with the signal's reason. */
function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** `p`, or the signal's reason as soon as it aborts (p itself runs on). */
function untilAborted<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason as unknown);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}

function rank(ids: string[], r: KairosResult): number {
  const i = ids.indexOf(r.tags?.uuid?.[0] ?? '');
  return i < 0 ? ids.length : i;
}
