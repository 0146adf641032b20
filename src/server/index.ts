/**
 * kairosdb-local: a KairosDB 1.3.0-compatible REST server on node:http, for tests, demos and
 * offline use. It answers like the real server (status codes, headers, error bodies and messages as
 * recorded in the conformance corpus), keeps data in memory with an optional durable data directory,
 * and can also play proficloud.io's token and TSD read endpoints.
 *
 * Behaviour worth knowing:
 * - Rollups (/api/v1/rollups...) answer 404 with an empty body, like a 1.3 server whose rollup
 *   service is not enabled; /tagnames and /tagvalues are 404 as in 1.3.
 * - Pushes are visible at once (KairosDB queues them for ~1 s) and durable once answered when a
 *   data directory is set; `ttl` is accepted and ignored, as on KairosDB's H2 datastore. With
 *   `ingestDelay` they become visible piece by piece later, as on a real server (asynchronous,
 *   non-atomic ingest).
 * - Like the real server, each query records kairosdb.datastore.* and kairosdb.http.* metrics
 *   (tag host), so they show up in metricnames; `selfMetrics: false` turns that off.
 * - A query without an end has no upper bound (KairosDB uses Long.MAX_VALUE).
 * - `limit` applies per stored series (what sample_size counts) and again per result, as KairosDB's
 *   H2 datastore and LimitAggregator do; aggregators still see points in ascending order when
 *   `order` is desc (KairosDB feeds them the descending stream).
 * - 400 validation errors carry `Content-Type: application/json` (no charset), as recorded from
 *   KairosDB 1.3.0; every other JSON answer has `application/json;charset=utf-8`.
 * - Longs beyond 2^53 are returned exactly in raw output (aggregators compute with doubles, as
 *   KairosDB's do).
 */
import http from 'node:http';
import os from 'node:os';
import zlib from 'node:zlib';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../types';
import { ValidationError } from '../errors';
import { ServerError } from './server-errors';
import { credentialOf, staticTokenOk, TokenIssuer, type OAuthOptions } from './auth';
import { eptsData, EptsError } from './epts';
import { MetadataStore } from './metadata';
import { DataDir, pointsRecord, type LogRecord } from './persist';
import { FEATURES, featureComponents, unknownFeatureMessage } from './features';
import { parsePush } from './push';
import { runDelete, runQuery, runTagsQuery, type QueryStats } from './query-exec';
import { parseQuery, readQueryBody } from './query-parse';
import { checkIngestDelay, DelayedIngest, type IngestDelayOptions } from './ingest-delay';
import { Store, type SeriesWrite } from './store';
import type { Points, StoredType } from './point-types';
import { isPlainObject } from '../util/validate';

export interface ServerOptions {
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Makes data durable: write-ahead log plus snapshot in this directory. Without it, memory only. */
  dataDir?: string;
  /** Requires `Authorization: Bearer <token>` (or `Basic <token>`) on /api/v1 (health exempt). */
  token?: string;
  /** Enables /epts/token and /epts/data (proficloud.io emulation) for this user. */
  oauth?: OAuthOptions;
  /** Clock, epoch ms (relative query times, token expiry). */
  now?: () => number;
  logger?: Logger;
  /** Write KairosDB's own kairosdb.* query metrics, as the real server does. Default true. */
  selfMetrics?: boolean;
  /** Log size that triggers a snapshot. Default 64 MiB. */
  compactBytes?: number;
  /**
   * Asynchronous, non-atomic ingest like the real server's: pushed points become queryable only after
   * a delay between minMs and maxMs, drawn per series and per part (partPoints) of a push (seeded for
   * repeatable tests). They are durable (data directory) at once. Default: visible at once.
   */
  ingestDelay?: IngestDelayOptions;
}

export interface LocalServer {
  url: string;
  port: number;
  /** Read access for tests; writes should go through the HTTP API. */
  store: Store;
  metadata: MetadataStore;
  close(): Promise<void>;
}

export const VERSION = 'KairosDB 1.3.0-1.kairosdb-local';
const JSON_TYPE = 'application/json;charset=utf-8';
const HEALTH_STATUS = '["JVM-Thread-Deadlock: OK","Datastore-Query: OK"]';

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

interface Reply {
  status: number;
  body?: string | Buffer;
  /** Content-Type; null for Jetty's bare 404/405. */
  type?: string | null;
  headers?: Record<string, string>;
}

class HttpError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

const empty = (status: number): Reply => ({ status, type: null });

/** KairosDB's error body; 400s carry Jersey's plain application/json type, as recorded. */
function errorReply(e: ServerError): Reply {
  return { status: e.status, body: JSON.stringify({ errors: e.errors }), type: e.status === 400 ? 'application/json' : JSON_TYPE };
}

function json(status: number, body: string): Reply {
  return { status, body, type: JSON_TYPE };
}

/** Rejects options that would make a server that cannot work as configured. */
function checkOptions(opts: ServerOptions): void {
  const { port, token, oauth } = opts;
  if (opts.ingestDelay !== undefined) checkIngestDelay(opts.ingestDelay);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) {
    throw new ValidationError('port', port, 'must be an integer 0..65535');
  }
  if (opts.host !== undefined && (typeof opts.host !== 'string' || opts.host === '')) throw new ValidationError('host', opts.host, 'must be a non-empty string');
  if (opts.dataDir !== undefined && (typeof opts.dataDir !== 'string' || opts.dataDir === '')) {
    throw new ValidationError('dataDir', opts.dataDir, 'must be a non-empty path');
  }
  // The value itself is a secret: describe only its type.
  if (token !== undefined && (typeof token !== 'string' || token === '')) throw new ValidationError('token', typeof token === 'string' ? '(empty)' : typeof token, 'must be a non-empty string');
  if (oauth !== undefined) {
    if (typeof oauth.username !== 'string' || oauth.username === '') throw new ValidationError('oauth.username', oauth.username, 'must be a non-empty string');
    if (typeof oauth.password !== 'string' || oauth.password === '') throw new ValidationError('oauth.password', '(hidden)', 'must be a non-empty string');
    for (const k of ['accessTtlS', 'refreshTtlS'] as const) {
      const v = oauth[k];
      if (v !== undefined && !(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new ValidationError(`oauth.${k}`, v, 'must be a positive number of seconds');
    }
  }
}

export async function startServer(opts: ServerOptions = {}): Promise<LocalServer> {
  checkOptions(opts);
  const now = opts.now ?? (() => Date.now());
  const store = new Store();
  const metadata = new MetadataStore();
  const dataDir = opts.dataDir ? new DataDir(opts.dataDir, store, metadata, opts.compactBytes) : null;
  if (dataDir) dataDir.open();
  const issuer = opts.oauth ? new TokenIssuer(opts.oauth, now) : null;
  const selfMetrics = opts.selfMetrics !== false;
  const hostTag = os.hostname() || 'localhost';

  const log = (rec: LogRecord): Promise<void> => (dataDir ? dataDir.append(rec) : Promise.resolve());
  const commit = (writes: SeriesWrite[]): Promise<void> => {
    if (writes.length === 0) return Promise.resolve();
    for (const w of writes) store.write(w);
    return log(pointsRecord(writes));
  };
  const delayed = opts.ingestDelay ? new DelayedIngest(opts.ingestDelay, (w) => store.write(w)) : null;
  /** A push: durable now, visible now or (ingestDelay) part by part later. */
  const ingest = (writes: SeriesWrite[]): Promise<void> => {
    if (!delayed || writes.length === 0) return commit(writes);
    delayed.add(writes);
    return log(pointsRecord(writes));
  };

  async function handleQuery(text: string, started: number): Promise<Reply> {
    const body = readQueryBody(text);
    const q = parseQuery(body, { now: now() });
    const saved: SeriesWrite[] = [];
    const stats: QueryStats = { sampleSize: 0, series: 0 };
    const out = runQuery(
      q,
      {
        store,
        now: now(),
        saveAs: (metric: string, tags: Record<string, string>, points: Points) => {
          const byType = new Map<StoredType, SeriesWrite>();
          for (let i = 0; i < points.ts.length; i++) {
            const v = points.vs[i];
            if (v === null) continue;
            const type: StoredType = typeof v === 'string' ? 'string' : Number.isInteger(v) ? 'long' : 'double';
            let w = byType.get(type);
            if (!w) byType.set(type, (w = { metric, tags, type, ts: [], vs: [] }));
            w.ts.push(points.ts[i]);
            w.vs.push(v);
          }
          saved.push(...byType.values());
        },
      },
      stats,
    );
    const writes = saved;
    if (selfMetrics && q.metrics.length > 0) {
      const t = now();
      const ms = Math.max(0, Date.now() - started);
      const point = (metric: string, v: number): SeriesWrite => ({ metric, tags: { host: hostTag }, type: 'long', ts: [t], vs: [v] });
      writes.push(
        point('kairosdb.datastore.query_sample_size', stats.sampleSize),
        point('kairosdb.datastore.query_row_count', stats.series),
        point('kairosdb.datastore.query_time', ms),
        point('kairosdb.http.query_time', ms),
        point('kairosdb.http.request_time', ms),
      );
    }
    await commit(writes);
    return json(200, out);
  }

  async function route(method: string, path: string, params: URLSearchParams, body: () => Promise<Buffer>, req: http.IncomingMessage): Promise<Reply> {
    if (path.startsWith('/epts/')) return routeEpts(method, path, params, body, req);
    if (!path.startsWith('/api/v1/')) return empty(404);
    // JAX-RS resource paths match with or without one trailing slash (the Proficloud presets send one).
    const raw = path.slice('/api/v1'.length);
    const sub = raw.length > 1 && raw.endsWith('/') ? raw.slice(0, -1) : raw;
    const allow = (...methods: Method[]): void => {
      if (!methods.includes(method as Method)) throw new HttpError(empty(405));
    };

    if (sub.startsWith('/health/')) {
      if (sub === '/health/status') {
        allow('GET');
        return json(200, HEALTH_STATUS);
      }
      if (sub === '/health/check') {
        allow('GET');
        return { status: 204, type: JSON_TYPE };
      }
      return empty(404);
    }
    if (opts.token !== undefined && !staticTokenOk(req.headers.authorization, opts.token)) {
      return {
        status: 401,
        body: JSON.stringify({ errors: [credentialOf(req.headers.authorization) ? 'Unauthorized: invalid credentials' : 'Unauthorized'] }),
        type: JSON_TYPE,
        headers: { 'WWW-Authenticate': 'Bearer realm="kairosdb"' },
      };
    }

    switch (sub) {
      case '/datapoints': {
        allow('POST');
        const text = await pushText(req, await body());
        const writes: SeriesWrite[] = [];
        let errors: string[];
        try {
          errors = parsePush(text, writes);
        } finally {
          await ingest(writes);
        }
        if (errors.length) return { status: 400, body: JSON.stringify({ errors }), type: 'application/json' };
        return { status: 204, type: JSON_TYPE };
      }
      case '/datapoints/query': {
        allow('GET', 'POST');
        const started = Date.now();
        if (method === 'GET') {
          const q = params.get('query');
          // Jersey hands an empty ?query= on as "", which then fails like an empty body.
          if (q === null) throw new ServerError(400, 'query json must not be null or empty');
          return handleQuery(q, started);
        }
        return handleQuery((await body()).toString('utf8'), started);
      }
      case '/datapoints/query/tags': {
        allow('POST');
        const q = parseQuery(readQueryBody((await body()).toString('utf8')), { now: now(), forTags: true });
        return json(200, runTagsQuery(q, store));
      }
      case '/datapoints/delete': {
        allow('POST');
        const q = parseQuery(readQueryBody((await body()).toString('utf8')), { now: now(), forTags: true });
        const removed = runDelete(q, store);
        if (removed.length) await log({ dr: removed.map((r) => [r.series.metric, r.series.tags, r.series.type, r.start, r.end]) });
        return { status: 204, type: JSON_TYPE };
      }
      case '/metricnames': {
        allow('GET');
        const prefix = params.get('prefix');
        const names = store.metricNames().filter((n) => !prefix || n.startsWith(prefix));
        return json(200, JSON.stringify({ results: names }));
      }
      case '/version':
        allow('GET');
        return json(200, `{"version": "${VERSION}"}\n`);
      case '/features':
        allow('GET');
        return featuresReply(null);
    }
    if (sub.startsWith('/features/')) {
      allow('GET');
      return featuresReply(decodeURIComponent(sub.slice('/features/'.length)));
    }
    if (sub.startsWith('/metric/')) {
      allow('DELETE');
      const name = decodeURIComponent(sub.slice('/metric/'.length));
      if (store.deleteMetric(name)) await log({ dm: name });
      return { status: 204, type: JSON_TYPE };
    }
    if (sub.startsWith('/metadata/')) return routeMetadata(method, sub.slice('/metadata/'.length), params, body);
    return empty(404);
  }

  function featuresReply(name: string | null): Reply {
    if (name === null) return json(200, gsonJson(FEATURES));
    const found = featureComponents(name);
    if (!found) return { status: 404, body: JSON.stringify({ errors: [unknownFeatureMessage(name)] }), type: JSON_TYPE };
    return json(200, gsonJson(found));
  }

  async function routeMetadata(method: string, rest: string, params: URLSearchParams, body: () => Promise<Buffer>): Promise<Reply> {
    const parts = rest.split('/').map((p) => decodeURIComponent(p));
    if (parts.some((p) => p === '') || parts.length > 3) return empty(404);
    const [service, serviceKey, key] = parts;
    if (parts.length === 1) {
      if (method !== 'GET') return empty(405);
      return json(200, JSON.stringify({ results: metadata.serviceKeys(service) }));
    }
    if (parts.length === 2) {
      if (method !== 'GET') return empty(405);
      return json(200, JSON.stringify({ results: metadata.keys(service, serviceKey, params.get('startsWith') ?? undefined) }));
    }
    switch (method) {
      case 'GET':
        return json(200, metadata.get(service, serviceKey, key) ?? '');
      case 'POST': {
        const value = (await body()).toString('utf8');
        metadata.set(service, serviceKey, key, value);
        await log({ md: [service, serviceKey, key, value] });
        return { status: 204, type: JSON_TYPE };
      }
      case 'DELETE':
        metadata.delete(service, serviceKey, key);
        await log({ md: [service, serviceKey, key, null] });
        return { status: 204, type: JSON_TYPE };
      default:
        return empty(405);
    }
  }

  async function routeEpts(method: string, path: string, params: URLSearchParams, body: () => Promise<Buffer>, req: http.IncomingMessage): Promise<Reply> {
    if (!issuer) return empty(404);
    const oauthError = (status: number, error: string, description: string): Reply => ({
      status,
      body: JSON.stringify({ error, error_description: description }),
      type: JSON_TYPE,
    });
    if (path === '/epts/token') {
      if (method !== 'POST') return empty(405);
      let creds: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse((await body()).toString('utf8'));
        if (!isPlainObject(parsed)) throw new Error('not an object');
        creds = parsed as Record<string, unknown>;
      } catch {
        return oauthError(400, 'invalid_request', 'body must be a JSON object with username and password, or refresh_token');
      }
      if (typeof creds.refresh_token === 'string') {
        const t = issuer.refreshWith(creds.refresh_token);
        return t ? json(200, JSON.stringify(t)) : oauthError(401, 'invalid_grant', 'Invalid or expired refresh token');
      }
      if (typeof creds.username !== 'string' || typeof creds.password !== 'string') {
        return oauthError(400, 'invalid_request', 'username and password (strings) are required');
      }
      const t = issuer.login(creds.username, creds.password);
      return t ? json(200, JSON.stringify(t)) : oauthError(401, 'invalid_grant', 'Invalid user credentials');
    }
    if (path === '/epts/data') {
      if (method !== 'GET') return empty(405);
      if (!issuer.accessOk(req.headers.authorization)) {
        return { ...oauthError(401, 'unauthorized', 'A valid Bearer access token is required'), headers: { 'WWW-Authenticate': 'Bearer' } };
      }
      try {
        return json(200, eptsData(store, params));
      } catch (e) {
        if (e instanceof EptsError) return { status: e.status, body: JSON.stringify({ status: e.status, error: 'Bad Request', message: e.message }), type: JSON_TYPE };
        throw e;
      }
    }
    return empty(404);
  }

  const server = http.createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      opts.logger?.warn(`kairosdb-local: could not answer ${req.method} ${(req.url ?? '').split('?')[0]}: ${e.message}`);
      res.destroy();
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    const rawUrl = req.url ?? '/';
    const q = rawUrl.indexOf('?');
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
    const read: { body: Promise<Buffer> | null } = { body: null };
    const body = (): Promise<Buffer> => (read.body ??= readBody(req));
    let reply: Reply;
    try {
      if (method === 'OPTIONS') {
        reply = {
          status: 200,
          type: null,
          headers: {
            'Access-Control-Allow-Methods': 'GET, POST, PUT, DELETE, OPTIONS',
            'Access-Control-Allow-Headers': String(req.headers['access-control-request-headers'] ?? 'Content-Type, Content-Encoding, Authorization'),
            'Access-Control-Max-Age': '86400',
          },
        };
      } else {
        // HEAD is GET without the body (Node drops it), as Jersey answers it.
        reply = await route(method === 'HEAD' ? 'GET' : method, path, params, body, req);
      }
    } catch (e) {
      if (e instanceof HttpError) reply = e.reply;
      else if (e instanceof ServerError) reply = errorReply(e);
      else {
        opts.logger?.warn(`kairosdb-local: ${method} ${path} failed: ${(e as Error).message}`);
        reply = errorReply(new ServerError(500, (e as Error).message || String(e)));
      }
    }
    // Drain an unread body so the connection can be reused.
    if (!read.body) req.resume();
    else await read.body.catch(() => undefined);
    await send(req, res, reply);
  }

  async function send(req: http.IncomingMessage, res: http.ServerResponse, reply: Reply): Promise<void> {
    const headers: Record<string, string> = { 'Access-Control-Allow-Origin': '*', ...reply.headers };
    if (reply.type) headers['Content-Type'] = reply.type;
    let payload: Buffer | string | undefined = reply.body;
    if (payload !== undefined && reply.status !== 204) {
      const buf = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
      const accepts = /\bgzip\b/i.test(String(req.headers['accept-encoding'] ?? ''));
      if (accepts && reply.type && buf.length >= 32 && req.method !== 'HEAD' && (req.method === 'GET' || req.method === 'POST')) {
        // Level 1: on loopback compression time, not bytes, is what a client waits for.
        payload = await new Promise<Buffer>((resolve, reject) => zlib.gzip(buf, { level: 1 }, (err, out) => (err ? reject(err) : resolve(out))));
        headers['Content-Encoding'] = 'gzip';
        headers['Vary'] = 'Accept-Encoding, User-Agent';
      } else payload = buf;
      headers['Content-Length'] = String(payload.length);
    } else {
      payload = undefined;
      if (reply.status !== 204) headers['Content-Length'] = '0';
    }
    // Closing: end the connection with this answer. Node's close() only ends idle keep-alive connections, so a client
    // that keeps sending on one would otherwise hold the server open for ever.
    if (closing) headers.Connection = 'close';
    res.writeHead(reply.status, headers);
    res.end(payload);
  }

  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    store,
    metadata,
    close() {
      closing ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
        });
        delayed?.flush();
        if (dataDir) await dataDir.close();
      })();
      return closing;
    },
  };
}

/** JSON as a default `new Gson()` writes it (FeaturesResource): <, >, &, = and ' escaped as \uXXXX. */
function gsonJson(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&=']/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The push body as text: gunzipped for Content-Encoding gzip or the deprecated Content-Type application/gzip. */
async function pushText(req: http.IncomingMessage, raw: Buffer): Promise<string> {
  const enc = String(req.headers['content-encoding'] ?? '');
  const type = String(req.headers['content-type'] ?? '');
  if (!/gzip/i.test(enc) && !/application\/gzip/i.test(type)) return raw.toString('utf8');
  if (raw.length < 2 || raw[0] !== 0x1f || raw[1] !== 0x8b) throw new ServerError(500, 'Not in GZIP format');
  try {
    const out = await new Promise<Buffer>((resolve, reject) => zlib.gunzip(raw, (err, b) => (err ? reject(err) : resolve(b))));
    return out.toString('utf8');
  } catch {
    throw new ServerError(500, 'Unexpected end of ZLIB input stream');
  }
}
