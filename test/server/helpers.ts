// Small HTTP helpers for the local-server tests (real requests on 127.0.0.1).
import http from 'node:http';

export interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  raw: Buffer;
}

export function request(url: string, method: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { host: u.hostname, port: u.port, path: u.pathname + u.search, method, headers: { connection: 'close', ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const raw = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: raw.toString('utf8'), raw });
        });
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.end(body);
    else req.end();
  });
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Res> =>
  request(url, 'POST', typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body), { 'content-type': 'application/json', ...headers });

export const get = (url: string, headers: Record<string, string> = {}): Promise<Res> => request(url, 'GET', undefined, headers);

export const T0 = 1767225600000;

/** A query body over a fixed window around T0. */
export function query(metrics: unknown[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { start_absolute: T0 - 60_000, end_absolute: T0 + 3_600_000, metrics, ...extra };
}
