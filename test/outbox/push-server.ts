/**
 * A scriptable KairosDB push endpoint on 127.0.0.1 for the write queue tests, and a tiny fetch-based
 * send function that maps failures to the shared typed errors the way the connector does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { HttpStatusError, NetworkError, TimeoutError } from '../../src/errors';
import type { KairosPushMetric, WriteResult } from '../../src/types';

/** What the server does with one request. */
export type Reply = 'ok' | { status: number; retryAfterS?: number; errors?: string[] } | 'hang';

export interface Received {
  metrics: KairosPushMetric[];
  stored: boolean;
  at: number;
}

export class PushServer {
  readonly requests: Received[] = [];
  /** Replies for the next requests, in order; 'ok' once it runs out. */
  script: Reply[] = [];
  /** Consulted first: a reply decided by the request's content. */
  replyFor?: (metrics: KairosPushMetric[]) => Reply | undefined;
  /** Set when a hung request's connection was closed by the client (abort). */
  abortedHung = 0;
  private server: Server | null = null;
  private port = 0;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}/api/v1/datapoints`;
  }

  async start(port = 0): Promise<void> {
    const server = createServer((req, res) => this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Closes listening and every open connection: clients then see "connection refused". */
  async stop(): Promise<void> {
    const s = this.server;
    this.server = null;
    if (!s) return;
    for (const sock of this.sockets) sock.destroy();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** Every stored (metric, timestamp) with the values it was stored with, to check "exactly once or identical resend". */
  storedPoints(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const r of this.requests) {
      if (!r.stored) continue;
      for (const m of r.metrics) {
        for (const [ts, v] of m.datapoints ?? []) {
          const key = `${m.name}|${JSON.stringify(m.tags)}|${ts}`;
          const vals = out.get(key) ?? new Set<string>();
          vals.add(JSON.stringify(v));
          out.set(key, vals);
        }
      }
    }
    return out;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const metrics = JSON.parse(Buffer.concat(chunks).toString('utf8')) as KairosPushMetric[];
      const reply = this.replyFor?.(metrics) ?? this.script.shift() ?? 'ok';
      this.requests.push({ metrics, stored: reply === 'ok', at: Date.now() });
      if (reply === 'hang') {
        req.socket.once('close', () => this.abortedHung++);
        return;
      }
      if (reply === 'ok') {
        res.writeHead(204).end();
        return;
      }
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (reply.retryAfterS !== undefined) headers['retry-after'] = String(reply.retryAfterS);
      res.writeHead(reply.status, headers).end(JSON.stringify({ errors: reply.errors ?? [`status ${reply.status}`] }));
    });
  }
}

/** POSTs with fetch, maps failures like the connector: retryable network/timeout/5xx/429, HttpStatusError 400. */
export function fetchSender(url: () => string, timeoutMs = 2000): (metrics: KairosPushMetric[], signal: AbortSignal) => Promise<WriteResult> {
  return async (metrics, signal) => {
    const points = metrics.reduce((n, m) => n + (m.datapoints?.length ?? 0), 0);
    const timeout = AbortSignal.timeout(timeoutMs);
    let res: Response;
    let text: string;
    try {
      res = await fetch(url(), {
        method: 'POST',
        body: JSON.stringify(metrics),
        headers: { 'content-type': 'application/json' },
        signal: AbortSignal.any([signal, timeout]),
      });
      text = await res.text();
    } catch (err) {
      if (signal.aborted) throw err;
      if (timeout.aborted) throw new TimeoutError(`no answer from ${url()} within ${timeoutMs} ms`);
      throw new NetworkError(`cannot reach ${url()}: ${(err as Error).message}`, { cause: err });
    }
    if (res.status === 204) return { written: points, rejected: 0, errors: [], requests: 1 };
    let body: { errors?: string[] } = {};
    try {
      body = JSON.parse(text) as { errors?: string[] };
    } catch {
      // not JSON: the status alone has to do
    }
    const err = new HttpStatusError(res.status, url(), body.errors ?? []);
    const ra = res.headers.get('retry-after');
    if (ra !== null) err.retryAfterMs = Number(ra) * 1000;
    throw err;
  };
}
