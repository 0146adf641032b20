/**
 * HttpClient: the transport under KairosConnector and the proficloud.io client. One undici dispatcher
 * per client, round-robin with fail-over across several base URLs, gzip both ways, a timeout that
 * covers headers and body, and debug events with secrets removed.
 */
import { promisify } from 'node:util';
import { gunzip, gzip, gzipSync, inflate, inflateRaw } from 'node:zlib';
import type { Dispatcher } from 'undici';
import { KairosError, NetworkError, ParseError, ResponseTooLargeError, TimeoutError, ValidationError, redact } from '../errors';
import type { DebugEvent, HttpRequest, HttpResponse, Logger } from '../types';
import { debugBody, redactHeaders } from './debug-events';
import { createDispatcher, proxySecrets, type ProxySetting, type TlsOptions } from './dispatcher';
import { checkTimerMs } from '../time/timer-limits';
import { errorForStatus } from './status-errors';
import { undici } from './undici';
import { hostOf, joinUrl, parseBaseUrl } from './url';
import { isPlainObject } from '../util/validate';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);

export const DEFAULT_TIMEOUT_MS = 30_000;
export const DEFAULT_GZIP_THRESHOLD = 16 * 1024;
/**
 * Largest response body read, counted both on the wire and after decompression: 512 MiB, well above
 * the 100,000-point pages the query node asks for and far below what would take a gateway down.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 512 * 1024 * 1024;
const GZIP_LEVEL = 1;
/**
 * A 4 KB window instead of 32 KB: on push bodies (runs of "[timestamp,value]" whose repeats lie close
 * together) level 1 then spends about 15 % less CPU and compresses slightly better (measured: 0.30 vs
 * 0.33 of the size). Any gzip reader accepts it; the window only limits how far back matches reach.
 */
const GZIP_WINDOW_BITS = 12;
/** Bodies up to this size are compressed on the calling thread (about 1 ms at level 1). */
const SYNC_GZIP_MAX_BYTES = 256 * 1024;
/** Bounds of the output chunk size for request bodies (see prepareBody). */
const GZIP_MIN_CHUNK = 16 * 1024;
const GZIP_MAX_CHUNK = 8 * 1024 * 1024;

export interface HttpClientOptions {
  baseUrls: string[];
  headers?: Record<string, string>;
  proxy?: ProxySetting;
  tls?: TlsOptions;
  timeoutMs?: number;
  /** Request bodies above this size are gzipped when the request allows it; 0 or Infinity = never. */
  gzipThresholdBytes?: number;
  /** Largest response body in bytes, on the wire and decompressed (ResponseTooLargeError above it). Default 512 MiB. */
  maxResponseBytes?: number;
  /** The Authorization header value, asked for on every request (tokens may be refreshed). */
  authorization?: () => string | undefined | Promise<string | undefined>;
  /** Values to remove from debug output and error messages. */
  secrets?: () => Array<string | undefined>;
  onDebug?: (e: DebugEvent) => void;
  logger?: Logger;
}

/** Connection-level failures after which another cluster member may well answer. */
const FAILOVER_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE',
  'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_CLOSED',
]);

/** NetworkErrors after which the next base URL is tried. */
const failoverErrors = new WeakSet<Error>();

export class HttpClient {
  readonly baseUrls: readonly string[];
  private readonly bases: URL[];
  private readonly dispatcher: Dispatcher;
  private readonly opts: HttpClientOptions;
  private readonly timeoutMs: number;
  private readonly gzipThreshold: number;
  private readonly maxResponseBytes: number;
  private next = 0;
  private closed = false;

  constructor(opts: HttpClientOptions) {
    if (!Array.isArray(opts.baseUrls) || opts.baseUrls.length === 0) {
      throw new ValidationError('baseUrls', opts.baseUrls, 'needs at least one http(s) URL');
    }
    this.bases = opts.baseUrls.map((u, i) => parseBaseUrl(u, `baseUrls[${i}]`));
    this.baseUrls = this.bases.map((u) => u.href);
    this.timeoutMs = opts.timeoutMs === undefined ? DEFAULT_TIMEOUT_MS : checkTimerMs(opts.timeoutMs, 'timeoutMs');
    this.gzipThreshold = checkNonNegative(opts.gzipThresholdBytes, 'gzipThresholdBytes', DEFAULT_GZIP_THRESHOLD);
    this.maxResponseBytes = checkByteLimit(opts.maxResponseBytes, 'maxResponseBytes', DEFAULT_MAX_RESPONSE_BYTES);
    if (opts.headers !== undefined) checkHeaders(opts.headers, 'headers');
    this.opts = opts;
    this.dispatcher = createDispatcher(opts.proxy, opts.tls, opts.logger);
  }

  /** Sends a request and returns whatever status came back; throws only TimeoutError/NetworkError (or the caller's abort reason). */
  async request(req: HttpRequest): Promise<HttpResponse> {
    if (this.closed) throw new NetworkError('HTTP client is closed');
    if (req.headers !== undefined) checkHeaders(req.headers, 'request.headers');
    if (req.timeoutMs !== undefined) checkTimerMs(req.timeoutMs, 'request.timeoutMs');
    const prepared = await this.prepareBody(req);
    const headers = await this.buildHeaders(req, prepared.contentType, prepared.gzipped);
    const start = this.next++ % this.bases.length;
    let lastError: unknown;
    for (let attempt = 0; attempt < this.bases.length; attempt++) {
      const base = this.bases[(start + attempt) % this.bases.length];
      const url = joinUrl(base, req.path, req.query);
      try {
        return await this.attempt(req, base.href, url, headers, prepared);
      } catch (err) {
        lastError = err;
        if (!(err instanceof Error) || !failoverErrors.has(err)) throw err;
      }
    }
    throw lastError;
  }

  /** Sends a request and parses JSON; statuses outside okStatuses become typed errors. Empty bodies give undefined. */
  async requestJson<T>(req: HttpRequest, okStatuses: number[] = [200]): Promise<T> {
    return this.parseJson<T>(await this.requestOk(req, okStatuses), req.path);
  }

  /**
   * Sends a request and returns the response when its status is one of okStatuses (else the typed
   * error requestJson would throw). For callers that read the body bytes themselves.
   */
  async requestOk(req: HttpRequest, okStatuses: number[] = [200]): Promise<HttpResponse> {
    const resp = await this.request(req);
    if (!okStatuses.includes(resp.status)) throw errorForStatus(resp, joinUrl(resp.baseUrl, req.path), this.secretList([]));
    return resp;
  }

  /** The body of a response from requestOk as JSON, with requestJson's error for unreadable bodies. */
  parseJson<T>(resp: HttpResponse, path: string): T {
    if (resp.body.length === 0) return undefined as T;
    try {
      return JSON.parse(resp.body.toString('utf8')) as T;
    } catch (cause) {
      const url = joinUrl(resp.baseUrl, path);
      const excerpt = redact(resp.body.subarray(0, 60).toString('utf8'), this.secretList([])).replace(/\s+/g, ' ');
      throw new ParseError(`Unreadable JSON in the HTTP ${resp.status} response from ${url} (starts with ${JSON.stringify(excerpt)})`, { cause });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.dispatcher.close();
  }

  private async attempt(
    req: HttpRequest,
    baseUrl: string,
    url: string,
    headers: Record<string, string>,
    prepared: PreparedBody,
  ): Promise<HttpResponse> {
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new Error('timeout'));
    }, timeoutMs);
    const onCallerAbort = (): void => controller.abort(req.signal?.reason);
    if (req.signal?.aborted) onCallerAbort();
    else req.signal?.addEventListener('abort', onCallerAbort, { once: true });
    const started = Date.now();
    const secrets = this.secretList([headers.authorization]);
    try {
      const res = await undici().request(url, {
        method: req.method,
        headers,
        body: prepared.wire,
        dispatcher: this.dispatcher,
        signal: controller.signal,
      });
      // The timer keeps running until the whole body has arrived: a server that stalls mid-body times out too.
      const raw = await readLimited(res, this.maxResponseBytes, url);
      const body = await decompress(raw, res.headers['content-encoding'], url, this.maxResponseBytes);
      const resp: HttpResponse = { status: res.statusCode, headers: res.headers, body, baseUrl, durationMs: Date.now() - started };
      this.emitDebug({
        method: req.method,
        url,
        requestHeaders: redactHeaders(headers, secrets),
        requestBody: debugBody(prepared.plain, secrets),
        status: res.statusCode,
        responseBody: debugBody(body, secrets),
        durationMs: resp.durationMs,
      });
      return resp;
    } catch (err) {
      const mapped = timedOut
        ? new TimeoutError(`No complete answer from ${hostOf(url)} within ${timeoutMs} ms (${req.method} ${pathOf(url)})`, { cause: err })
        : req.signal?.aborted
          ? req.signal.reason ?? err
          : mapNetworkError(err, url, secrets);
      this.emitDebug({
        method: req.method,
        url,
        requestHeaders: redactHeaders(headers, secrets),
        requestBody: debugBody(prepared.plain, secrets),
        durationMs: Date.now() - started,
        error: redact(mapped instanceof Error ? mapped.message : String(mapped), secrets),
      });
      throw mapped;
    } finally {
      clearTimeout(timer);
      req.signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  private async prepareBody(req: HttpRequest): Promise<PreparedBody> {
    if (req.body === undefined || req.body === null) return {};
    let plain: Buffer | string;
    let contentType: string | undefined;
    if (Buffer.isBuffer(req.body) || typeof req.body === 'string') {
      plain = req.body;
    } else {
      plain = JSON.stringify(req.body);
      contentType = 'application/json';
    }
    const size = typeof plain === 'string' ? Buffer.byteLength(plain) : plain.length;
    if (req.allowGzip && this.gzipThreshold > 0 && size > this.gzipThreshold) {
      // Level 1: several times faster than the default 6 on push payloads, which stay well compressible.
      // Small bodies inline (a fraction of a millisecond): a trip through the thread pool, which the
      // outbox's fsyncs also occupy, costs more latency than compressing them.
      // One output chunk for the whole result (push JSON compresses to about a third at level 1): zlib's
      // default 16 KB chunks cost a round of JS per chunk and a concatenation at the end.
      const opts = { level: GZIP_LEVEL, windowBits: GZIP_WINDOW_BITS, chunkSize: Math.min(GZIP_MAX_CHUNK, Math.max(GZIP_MIN_CHUNK, Math.ceil(size / 2))) };
      const wire = size <= SYNC_GZIP_MAX_BYTES ? gzipSync(plain, opts) : await gzipAsync(plain, opts);
      return { plain, wire, contentType, gzipped: true };
    }
    return { plain, wire: plain, contentType };
  }

  private async buildHeaders(req: HttpRequest, contentType: string | undefined, gzipped: boolean | undefined): Promise<Record<string, string>> {
    const headers: Record<string, string> = { 'accept-encoding': 'gzip, deflate', accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    for (const [k, v] of Object.entries(this.opts.headers ?? {})) headers[k.toLowerCase()] = v;
    for (const [k, v] of Object.entries(req.headers ?? {})) headers[k.toLowerCase()] = v;
    if (req.body !== undefined && req.body !== null && !headers['content-type']) headers['content-type'] = 'application/json';
    if (gzipped) headers['content-encoding'] = 'gzip';
    if (!headers.authorization && this.opts.authorization) {
      const auth = await this.opts.authorization();
      if (auth) headers.authorization = auth;
    }
    return headers;
  }

  private secretList(extra: Array<string | undefined>): Array<string | undefined> {
    const out: Array<string | undefined> = [...extra, ...proxySecrets(this.opts.proxy)];
    for (const h of extra) {
      // "Basic abc" / "Bearer xyz": the credential alone may also appear in bodies.
      const m = h ? /^\S+\s+(.+)$/.exec(h) : null;
      if (m) out.push(m[1]);
    }
    if (this.opts.secrets) out.push(...this.opts.secrets());
    return out;
  }

  private emitDebug(e: DebugEvent): void {
    if (!this.opts.onDebug) return;
    try {
      this.opts.onDebug(e);
    } catch {
      // A failing debug hook must not fail the request.
    }
  }
}

interface PreparedBody {
  /** The body before compression, for debug output. */
  plain?: Buffer | string;
  wire?: Buffer | string;
  contentType?: string;
  gzipped?: boolean;
}

/** The response from `url`, as the size error names it. */
function responseFrom(url: string): string {
  return `The response from ${hostOf(url)} (${pathOf(url)})`;
}

/** The whole body, but no more than `limit` bytes: a larger declared or streamed body stops the read. */
async function readLimited(res: Dispatcher.ResponseData, limit: number, url: string): Promise<Buffer> {
  const declared = Number(res.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    res.body.destroy();
    throw new ResponseTooLargeError(limit, `${responseFrom(url)}, ${declared} bytes by its Content-Length,`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.body.destroy();
      throw new ResponseTooLargeError(limit, responseFrom(url));
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size);
}

function isOutputLimit(err: unknown): boolean {
  return err instanceof RangeError && (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE';
}

async function decompress(raw: Buffer, encoding: string | string[] | undefined, url: string, limit: number): Promise<Buffer> {
  const enc = (Array.isArray(encoding) ? encoding.join(',') : encoding ?? '').trim().toLowerCase();
  if (!enc || enc === 'identity' || raw.length === 0) return raw;
  // zlib stops at maxOutputLength, so a gzip bomb costs at most the limit, not its expanded size.
  const opts = { maxOutputLength: limit };
  try {
    if (enc === 'gzip' || enc === 'x-gzip') return await gunzipAsync(raw, { ...opts, chunkSize: gunzipChunkSize(raw, limit) });
    if (enc === 'deflate') {
      // Servers disagree whether "deflate" means zlib-wrapped or raw deflate.
      try {
        return await inflateAsync(raw, opts);
      } catch (err) {
        if (isOutputLimit(err)) throw err;
        return await inflateRawAsync(raw, opts);
      }
    }
  } catch (cause) {
    if (isOutputLimit(cause)) throw new ResponseTooLargeError(limit, `${responseFrom(url)} decompressed`);
    throw new ParseError(`Cannot decompress the ${enc} response from ${hostOf(url)}`, { cause });
  }
  return raw;
}

/** zlib's default output chunk; also the floor for the sized chunk below. */
const ZLIB_CHUNK = 16 * 1024;
/** Above this a response is decompressed in default chunks (the size field is only a hint). */
const MAX_SIZED_CHUNK = 256 * 1024 * 1024;

/**
 * One output chunk the size the gzip trailer announces (ISIZE, the uncompressed length mod 2^32), so
 * a large response is inflated into a single buffer instead of thousands of chunks concatenated at
 * the end (which briefly needs twice its size). Bounded: a lying trailer costs at most 64 × the
 * compressed size, and anything larger or odd falls back to zlib's default chunking.
 */
function gunzipChunkSize(raw: Buffer, limit: number): number {
  if (raw.length < 18) return ZLIB_CHUNK;
  const isize = raw.readUInt32LE(raw.length - 4);
  const size = isize + 1;
  if (size <= ZLIB_CHUNK || size > MAX_SIZED_CHUNK || size > raw.length * 64 || size > limit + 1) return ZLIB_CHUNK;
  return size;
}

function mapNetworkError(err: unknown, url: string, secrets: Array<string | undefined>): KairosError {
  if (err instanceof KairosError) return err;
  const code = errorCode(err);
  const detail = redact(describeCause(err), secrets);
  const tls = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code ?? '') || /certificate/i.test(detail);
  const what = tls ? 'TLS failure talking to' : 'Cannot reach';
  const out = new NetworkError(`${what} ${hostOf(url)}: ${detail}`, { cause: err });
  // Only connection-level failures move on to the next cluster member; TLS errors would repeat.
  if (!tls && code !== undefined && FAILOVER_CODES.has(code)) failoverErrors.add(out);
  return out;
}

/** The most specific error code in the cause chain (undici wraps the socket error). */
function errorCode(err: unknown): string | undefined {
  const codes: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && typeof e === 'object' && depth < 4; depth++) {
    const c = (e as { code?: unknown }).code;
    if (typeof c === 'string') codes.push(c);
    e = (e as { cause?: unknown }).cause;
  }
  return codes.find((c) => FAILOVER_CODES.has(c) && c !== 'UND_ERR_SOCKET') ?? codes[codes.length - 1];
}

function describeCause(err: unknown): string {
  const parts: string[] = [];
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    if (e instanceof Error) {
      const code = (e as { code?: unknown }).code;
      const text = typeof code === 'string' && !e.message.includes(code) ? `${code} ${e.message}` : e.message;
      if (text && !parts.includes(text)) parts.push(text);
      e = e.cause;
    } else {
      parts.push(String(e));
      break;
    }
  }
  return parts.join(' <- ') || 'unknown error';
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

/** A size threshold: a number >= 0; Infinity means "never". */
function checkNonNegative(v: number | undefined, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || Number.isNaN(v) || v < 0) throw new ValidationError(field, v, 'must be a number >= 0');
  return v;
}

function checkByteLimit(v: unknown, field: string, dflt: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) throw new ValidationError(field, v, 'must be a whole number of bytes greater than 0');
  return v;
}

function checkHeaders(h: unknown, field: string): void {
  if (!isPlainObject(h)) throw new ValidationError(field, h, 'must be an object of header names to strings');
  for (const [k, v] of Object.entries(h)) {
    if (typeof v !== 'string') throw new ValidationError(`${field}.${k}`, v, 'must be a string');
    if (/[\r\n]/.test(v)) throw new ValidationError(`${field}.${k}`, '***', 'must not contain line breaks');
  }
}
