/**
 * A fault-injecting HTTP proxy for the reliability suites: it sits on 127.0.0.1 between the nodes and
 * the local KairosDB server and, per request, forwards faithfully or misbehaves in one chosen way.
 * It can also stop listening (connection refused) and come back on the same port.
 */
import http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { AddressInfo, Socket } from 'node:net';

export type Fault =
  | { kind: 'pass' }
  /** Socket destroyed as soon as the request arrives; nothing reaches the server. */
  | { kind: 'reset-before' }
  /** Forwarded (the server acts on it), then the socket dies part-way through the answer. */
  | { kind: 'reset-mid' }
  | { kind: 'status'; status: number; retryAfter?: string; body?: string }
  /** Never answered and never forwarded. */
  | { kind: 'hang' }
  /** Forwarded (the server stores it), but the answer is held back forever. */
  | { kind: 'hang-after-forward' }
  /** Forwarded; the answer's body is cut in half but framed as complete (valid HTTP, broken JSON). */
  | { kind: 'truncate' }
  /** A 200 whose body is not JSON at all. */
  | { kind: 'malformed' };

export interface ProxyRequestLog {
  method: string;
  path: string;
  at: number;
  fault: Fault['kind'];
  /** Bytes of the request body (after any content-encoding the client applied). */
  bytes: number;
}

/** Chooses a fault for a request; undefined means pass. `text()` is the request body, decompressed. */
export type FaultRule = (req: { method: string; path: string; text(): string }, index: number) => Fault | undefined;

export class FaultProxy {
  readonly log: ProxyRequestLog[] = [];
  /** One-shot faults for the next matching requests (matched before `rule`). */
  readonly queue: Array<{ path?: RegExp; fault: Fault }> = [];
  rule: FaultRule = () => undefined;
  upstream: URL;
  private server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly held = new Set<http.ServerResponse>();
  private listening = false;
  private port = 0;

  private constructor(upstream: string) {
    this.upstream = new URL(upstream);
    this.server = this.makeServer();
  }

  static async start(upstream: string): Promise<FaultProxy> {
    const p = new FaultProxy(upstream);
    await p.accept();
    return p;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Requests seen so far whose path matches. */
  count(path?: RegExp): number {
    return this.log.filter((l) => !path || path.test(l.path)).length;
  }

  /** Queues one-shot faults for the next requests (optionally only those whose path matches). */
  next(fault: Fault, times = 1, path?: RegExp): void {
    for (let i = 0; i < times; i++) this.queue.push({ fault, path });
  }

  /** Stops listening and drops every open connection: clients now get ECONNREFUSED. */
  async refuse(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    for (const r of this.held) r.destroy();
    this.held.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server = this.makeServer();
  }

  /** Listens again (on the same port once one was assigned). */
  async accept(): Promise<void> {
    if (this.listening) return;
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    this.port = (this.server.address() as AddressInfo).port;
    this.listening = true;
  }

  async close(): Promise<void> {
    await this.refuse();
  }

  private makeServer(): http.Server {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 2000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return server;
  }

  private pick(method: string, path: string, text: () => string): Fault {
    const i = this.queue.findIndex((q) => !q.path || q.path.test(path));
    if (i >= 0) return this.queue.splice(i, 1)[0].fault;
    return this.rule({ method, path, text }, this.log.length) ?? { kind: 'pass' };
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('error', () => undefined);
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const path = req.url ?? '/';
      const text = (): string => (req.headers['content-encoding'] === 'gzip' ? gunzipSync(body) : body).toString('utf8');
      const fault = this.pick(req.method ?? 'GET', path, text);
      this.log.push({ method: req.method ?? 'GET', path, at: Date.now(), fault: fault.kind, bytes: body.length });
      this.apply(fault, req, res, body).catch(() => res.destroy());
    });
  }

  private async apply(fault: Fault, req: http.IncomingMessage, res: http.ServerResponse, body: Buffer): Promise<void> {
    switch (fault.kind) {
      case 'reset-before':
        req.socket.destroy();
        return;
      case 'hang':
        this.held.add(res);
        return;
      case 'status': {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
        res.writeHead(fault.status, headers);
        res.end(fault.body ?? JSON.stringify({ errors: [`injected ${fault.status}`] }));
        return;
      }
      case 'malformed':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('<html>upstream gateway says hello</html>');
        return;
      default:
        break;
    }
    const answer = await this.forward(req, body);
    if (fault.kind === 'hang-after-forward') {
      this.held.add(res);
      return;
    }
    if (fault.kind === 'reset-mid') {
      if (answer.body.length > 1) {
        res.writeHead(answer.status, { ...answer.headers, 'content-length': String(answer.body.length) });
        res.write(answer.body.subarray(0, Math.floor(answer.body.length / 2)));
      } else {
        // No body to cut: die inside the status line instead.
        req.socket.write('HTTP/1.1 20');
      }
      setTimeout(() => req.socket.destroy(), 5);
      return;
    }
    const out = fault.kind === 'truncate' ? answer.body.subarray(0, Math.floor(answer.body.length / 2)) : answer.body;
    res.writeHead(answer.status, { ...answer.headers, 'content-length': String(out.length) });
    res.end(out);
  }

  private forward(req: http.IncomingMessage, body: Buffer): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && k !== 'host' && k !== 'connection' && k !== 'content-length' && k !== 'accept-encoding') headers[k] = v;
      }
      headers['content-length'] = String(body.length);
      const up = http.request(
        { host: this.upstream.hostname, port: this.upstream.port, method: req.method, path: req.url, headers, agent: false },
        (r) => {
          const parts: Buffer[] = [];
          r.on('data', (c: Buffer) => parts.push(c));
          r.on('error', reject);
          r.on('end', () => {
            const h: Record<string, string> = {};
            for (const [k, v] of Object.entries(r.headers)) {
              if (typeof v === 'string' && k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection' && k !== 'keep-alive') h[k] = v;
            }
            resolve({ status: r.statusCode ?? 502, headers: h, body: Buffer.concat(parts) });
          });
        },
      );
      up.on('error', reject);
      up.end(body);
    });
  }
}
