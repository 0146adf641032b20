/**
 * The local KairosDB server for the node benchmarks, in its own process so its CPU and memory are not
 * counted as the Node-RED process's. A counting HTTP proxy sits in front of it (both on 127.0.0.1), so
 * the benchmarks can report requests and bytes as a network capture would.
 *
 * Prints one JSON line when ready: {"url", "proxyUrl"}. Commands on stdin, one per line, each answered
 * with one JSON line: "stats" (proxy counters and own CPU), "reset", "seed <prefix> <metrics> <points>"
 * (one-second points from gen.mjs, written through the HTTP API), "count <start> <end> <name>..." (points
 * and value sum stored for those metrics, queried here so the Node-RED process pays nothing for it),
 * "exit".
 *
 * For the peer comparison it also runs an InfluxDB 1.x write sink ({"influxUrl"}): POST /write is answered
 * 204 at once, after counting the line-protocol lines (points) and requests; "influx" reports and
 * "influx-reset" zeroes those counters.
 */
import { request, createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { serializePushToBuffer, splitPush } from '../src/kairos/push-body';
import { startServer } from '../src/server/index';
import type { KairosPushMetric } from '../src/types';
import { START_MS, valueAt } from './gen.mjs';

/** Writes `points` one-second points for each of `metrics` metrics named prefix0.. through the HTTP API. */
async function seed(url: string, prefix: string, metrics: number, points: number): Promise<void> {
  const chunk = 200_000;
  for (let m = 0; m < metrics; m++) {
    for (let from = 0; from < points; from += chunk) {
      const n = Math.min(chunk, points - from);
      const datapoints: Array<[number, number]> = new Array(n);
      for (let j = 0; j < n; j++) datapoints[j] = [START_MS + (from + j) * 1000, valueAt(m, from + j)];
      const push: KairosPushMetric[] = [{ name: `${prefix}${m}`, tags: { host: 'bench' }, type: 'double', datapoints }];
      for (const part of splitPush(push, 50_000)) {
        const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: serializePushToBuffer(part) });
        await res.arrayBuffer();
        if (res.status !== 204) throw new Error(`seed: HTTP ${res.status}`);
      }
    }
  }
}

interface Counters {
  requests: number;
  requestBytes: number;
  responseBytes: number;
  byPath: Record<string, number>;
}

function zero(): Counters {
  return { requests: 0, requestBytes: 0, responseBytes: 0, byPath: {} };
}

/** Points and value sum the server holds for `names` in [start, end]. */
async function count(url: string, start: number, end: number, names: string[]): Promise<{ points: number; sum: number }> {
  const body = JSON.stringify({ start_absolute: start, end_absolute: end, metrics: names.map((name) => ({ name })) });
  const res = await fetch(`${url}/api/v1/datapoints/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const parsed = (await res.json()) as { queries: Array<{ results: Array<{ values: Array<[number, number]> }> }> };
  let points = 0;
  let sum = 0;
  for (const q of parsed.queries) for (const r of q.results) for (const v of r.values) {
    points++;
    sum += v[1];
  }
  return { points, sum };
}

/** InfluxDB 1.x write endpoint that stores nothing: counts lines (one point each), answers 204 at once. */
function startInfluxSink(): Promise<{ url: string; counters: { requests: number; points: number; bytes: number }; close(): void }> {
  const counters = { requests: 0, points: 0, bytes: 0 };
  const sink = createServer((req: IncomingMessage, res: ServerResponse) => {
    let lines = 0;
    let last = 10;
    req.on('data', (chunk: Buffer) => {
      counters.bytes += chunk.length;
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++;
      last = chunk[chunk.length - 1];
    });
    req.on('end', () => {
      if ((req.url ?? '').startsWith('/write')) {
        counters.requests++;
        counters.points += lines + (last !== 10 ? 1 : 0);
        res.writeHead(204);
      } else {
        res.writeHead(req.url?.startsWith('/ping') ? 204 : 404);
      }
      res.end();
    });
  });
  sink.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    sink.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(sink.address() as AddressInfo).port}`,
        counters,
        close: () => {
          sink.closeAllConnections();
          sink.close();
        },
      }),
    ),
  );
}

async function main(): Promise<void> {
  const server = await startServer({ port: 0, host: '127.0.0.1', selfMetrics: false });
  const influx = await startInfluxSink();
  const upstream = new URL(server.url);
  let counters = zero();

  const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    counters.requests++;
    const path = (req.url ?? '').split('?')[0];
    counters.byPath[path] = (counters.byPath[path] ?? 0) + 1;
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on('data', (chunk: Buffer) => {
          counters.responseBytes += chunk.length;
          res.write(chunk);
        });
        up.on('end', () => res.end());
      },
    );
    out.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.on('data', (chunk: Buffer) => {
      counters.requestBytes += chunk.length;
      out.write(chunk);
    });
    req.on('end', () => out.end());
  });
  proxy.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  process.stdout.write(JSON.stringify({ url: server.url, proxyUrl, influxUrl: influx.url }) + '\n');

  const lines = createInterface({ input: process.stdin });
  const stop = async (): Promise<void> => {
    proxy.closeAllConnections();
    proxy.close();
    influx.close();
    await server.close();
    process.exit(0);
  };
  lines.on('line', (line) => {
    const cmd = line.trim();
    if (cmd === 'stats') {
      const cpu = process.cpuUsage();
      process.stdout.write(JSON.stringify({ ...counters, cpuMs: (cpu.user + cpu.system) / 1000, rss: process.memoryUsage().rss }) + '\n');
    } else if (cmd === 'reset') {
      counters = zero();
      process.stdout.write('{}\n');
    } else if (cmd.startsWith('seed ')) {
      const [, prefix, metrics, points] = cmd.split(' ');
      seed(server.url, prefix, Number(metrics), Number(points)).then(
        () => process.stdout.write('{"seeded":true}\n'),
        (err: unknown) => process.stdout.write(JSON.stringify({ error: String(err) }) + '\n'),
      );
    } else if (cmd.startsWith('count ')) {
      const [, start, end, ...names] = cmd.split(' ');
      count(server.url, Number(start), Number(end), names).then(
        (c) => process.stdout.write(JSON.stringify(c) + '\n'),
        (err: unknown) => process.stdout.write(JSON.stringify({ error: String(err) }) + '\n'),
      );
    } else if (cmd === 'influx') {
      process.stdout.write(JSON.stringify(influx.counters) + '\n');
    } else if (cmd === 'influx-reset') {
      Object.assign(influx.counters, { requests: 0, points: 0, bytes: 0 });
      process.stdout.write('{}\n');
    } else if (cmd === 'exit') {
      void stop();
    }
  });
  // The parent going away closes stdin: do not outlive it.
  lines.on('close', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
