/**
 * A scriptable KairosDB push endpoint on 127.0.0.1 for the write queue tests (answering a 400 like
 * KairosDB 1.3.0: the metrics it does not name as metric[i] are stored anyway), and the send function
 * the write nodes use, KairosConnector.push.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { KairosConnector } from '../../src/kairos/connector';
import type { KairosPushMetric, WriteResult } from '../../src/types';

/** What the server does with one request. */
export type Reply = 'ok' | { status: number; retryAfterS?: number; errors?: string[] } | 'hang';

export interface Received {
  metrics: KairosPushMetric[];
  /** What the server kept: all on 2xx; on a 400 naming metric[i], every metric it did not name; else none. */
  stored: KairosPushMetric[];
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
      for (const m of r.stored) {
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
      // Bodies over the connector's gzip threshold arrive compressed, as KairosDB 1.3 accepts them.
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const metrics = JSON.parse(body.toString('utf8')) as KairosPushMetric[];
      const reply = this.replyFor?.(metrics) ?? this.script.shift() ?? 'ok';
      this.requests.push({ metrics, stored: storedBy(reply, metrics), at: Date.now() });
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

/** KairosDB 1.3.0 stores the valid metrics of a refused push (FINDINGS: partial pushes are not atomic). */
function storedBy(reply: Reply, metrics: KairosPushMetric[]): KairosPushMetric[] {
  if (reply === 'ok') return metrics;
  if (reply === 'hang' || reply.status !== 400) return [];
  const named = new Set<number>();
  for (const e of reply.errors ?? []) for (const m of e.matchAll(/metric\[(\d+)\]/g)) named.add(Number(m[1]));
  return named.size ? metrics.filter((_m, i) => !named.has(i)) : [];
}

const senders = new Map<string, KairosConnector>();

/**
 * The write queue's send function as the nodes build it: KairosConnector.push against `url`'s origin
 * (so a 400 comes back as a WriteResult with rejected points, not as a thrown error). One connector
 * per origin and timeout; closeSenders() closes them.
 */
export function connectorSender(url: () => string, timeoutMs = 2000): (metrics: KairosPushMetric[], signal: AbortSignal) => Promise<WriteResult> {
  return (metrics, signal) => {
    const key = `${new URL(url()).origin} ${timeoutMs}`;
    let connector = senders.get(key);
    if (!connector) {
      connector = new KairosConnector({ baseUrl: new URL(url()).origin, timeoutMs });
      senders.set(key, connector);
    }
    return connector.push(metrics, signal);
  };
}

export async function closeSenders(): Promise<void> {
  const all = [...senders.values()];
  senders.clear();
  await Promise.all(all.map((c) => c.close()));
}
