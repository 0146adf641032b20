/**
 * A small KairosDB stand-in on 127.0.0.1 for the connector tests: records every request (bodies
 * decompressed) and answers from a handler the test sets. Also a CONNECT-less forward proxy.
 */
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { gunzipSync, gzipSync } from 'node:zlib';

export interface RecordedRequest {
  method: string;
  /** Path and query as received. */
  url: string;
  path: string;
  headers: IncomingMessage['headers'];
  /** Body as sent on the wire. */
  rawBody: Buffer;
  /** Body after undoing Content-Encoding: gzip. */
  body: Buffer;
  text(): string;
  json(): unknown;
}

export interface Reply {
  status?: number;
  /** Objects are sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Gzip the response body (sets Content-Encoding). */
  gzip?: boolean;
  /** Wait before answering (timeouts). */
  delayMs?: number;
}

export type Handler = (req: RecordedRequest) => Reply | Promise<Reply>;

export interface Stub {
  url: string;
  port: number;
  requests: RecordedRequest[];
  setHandler(h: Handler): void;
  close(): Promise<void>;
}

/** Default answers: 204 for writes and deletes, an empty 1.3-shape result for queries. */
export const defaultHandler: Handler = (req) => {
  if (req.path.endsWith('/version')) return { body: { version: 'KairosDB 1.3.0-1.stub' } };
  if (req.path.endsWith('/health/status')) return { body: ['JVM-Thread-Deadlock: OK', 'Datastore-Query: OK'] };
  if (req.path.endsWith('/metricnames')) return { body: { results: [] } };
  if (/\/datapoints\/query\/?$/.test(req.path)) {
    const q = req.json() as { metrics?: Array<{ name: string }> };
    return { body: { queries: (q.metrics ?? []).map((m) => ({ sample_size: 0, results: [{ name: m.name, tags: {}, values: [] }] })) } };
  }
  return { status: 204 };
};

export async function startStub(handler: Handler = defaultHandler, tls?: { key: string; cert: string }): Promise<Stub> {
  let current = handler;
  const requests: RecordedRequest[] = [];
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      let body = rawBody;
      if (/gzip/i.test(String(req.headers['content-encoding'] ?? ''))) {
        try {
          body = gunzipSync(rawBody);
        } catch {
          body = rawBody;
        }
      }
      const url = req.url ?? '/';
      const rec: RecordedRequest = {
        method: req.method ?? 'GET',
        url,
        path: url.split('?')[0],
        headers: req.headers,
        rawBody,
        body,
        text: () => body.toString('utf8'),
        json: () => JSON.parse(body.toString('utf8')),
      };
      requests.push(rec);
      Promise.resolve()
        .then(() => current(rec))
        .then(async (reply) => {
          if (reply.delayMs) await new Promise((r) => setTimeout(r, reply.delayMs));
          if (res.destroyed) return;
          send(res, reply);
        })
        .catch((err: unknown) => send(res, { status: 500, body: { errors: [String(err)] } }));
    });
  };
  const server: Server = tls ? createHttpsServer(tls, onRequest) : createServer(onRequest);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `${tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    port,
    requests,
    setHandler: (h) => {
      current = h;
    },
    close: () => closeServer(server),
  };
}

function send(res: ServerResponse, reply: Reply): void {
  const status = reply.status ?? 200;
  const headers: Record<string, string> = { ...(reply.headers ?? {}) };
  let payload: Buffer | undefined;
  if (reply.body !== undefined && reply.body !== null) {
    if (Buffer.isBuffer(reply.body)) payload = reply.body;
    else if (typeof reply.body === 'string') payload = Buffer.from(reply.body);
    else {
      payload = Buffer.from(JSON.stringify(reply.body));
      headers['content-type'] ??= 'application/json;charset=utf-8';
    }
  }
  if (payload && reply.gzip) {
    payload = gzipSync(payload);
    headers['content-encoding'] = 'gzip';
  }
  res.writeHead(status, headers);
  res.end(payload);
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** A CONNECT-less forward proxy for http:// targets; counts the requests it forwarded. */
export async function startForwardProxy(): Promise<{ url: string; forwarded: string[]; close(): Promise<void> }> {
  const forwarded: string[] = [];
  const server = createServer((req, res) => {
    const target = new URL(req.url ?? '/');
    forwarded.push(target.href);
    const headers = { ...req.headers };
    delete headers['proxy-connection'];
    const up = httpRequest(
      { host: target.hostname, port: target.port, path: target.pathname + target.search, method: req.method, headers },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    forwarded,
    close: () => closeServer(server),
  };
}

/** A port that refuses connections: bound, then closed again. */
export async function refusedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}
