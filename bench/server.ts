/**
 * Target 6: the local server's own ingest and query rates, so readers can tell what the node figures
 * measure. Server in its own process (bench/kairos-child.ts); payloads serialised before the clock starts.
 * `node --import tsx bench/server.ts <metrics> <pointsPerMetric> <reps>` prints one JSON line.
 */
import { serializePushToBuffer, splitPush } from '../src/kairos/push-body';
import type { KairosPushMetric } from '../src/types';
import { START_MS, valueAt } from './gen.mjs';
import { startKairosChild } from './kairos-process';

const REQUEST_POINTS = 10_000;
const CONCURRENCY = 4;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export async function benchServer(metrics: number, points: number, reps: number): Promise<Record<string, number>> {
  const k = await startKairosChild();
  try {
    const ingest: number[] = [];
    const ingestCpu: number[] = [];
    const query: number[] = [];
    let responseBytes = 0;
    for (let r = 0; r < reps; r++) {
      // A fresh metric set per rep, so every rep writes into an empty series.
      const push: KairosPushMetric[] = [];
      for (let m = 0; m < metrics; m++) {
        const datapoints: Array<[number, number]> = new Array(points);
        for (let j = 0; j < points; j++) datapoints[j] = [START_MS + j * 1000, valueAt(m, j)];
        push.push({ name: `srv${r}_${m}`, tags: { host: 'bench' }, type: 'double', datapoints });
      }
      const bodies = splitPush(push, REQUEST_POINTS).map(serializePushToBuffer);
      const cpu0 = (await k.stats()).cpuMs;
      let t0 = process.hrtime.bigint();
      let nextBody = 0;
      const worker = async (): Promise<void> => {
        while (nextBody < bodies.length) {
          const body = bodies[nextBody++];
          const res = await fetch(`${k.url}/api/v1/datapoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          await res.arrayBuffer();
          if (res.status !== 204) throw new Error(`push: HTTP ${res.status}`);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      ingest.push(Number(process.hrtime.bigint() - t0) / 1e6);
      ingestCpu.push((await k.stats()).cpuMs - cpu0);

      const body = JSON.stringify({ start_absolute: START_MS, end_absolute: START_MS + points * 1000, metrics: push.map((m) => ({ name: m.name })) });
      t0 = process.hrtime.bigint();
      const res = await fetch(`${k.url}/api/v1/datapoints/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      const bytes = Buffer.from(await res.arrayBuffer());
      query.push(Number(process.hrtime.bigint() - t0) / 1e6);
      responseBytes = bytes.length;
      const parsed = JSON.parse(bytes.toString()) as { queries: Array<{ results: Array<{ values: unknown[] }> }> };
      const got = parsed.queries.reduce((n, q) => n + q.results.reduce((s, x) => s + x.values.length, 0), 0);
      if (got !== metrics * points) throw new Error(`wrong answer: query returned ${got} points, expected ${metrics * points}`);
    }
    const total = metrics * points;
    return {
      points: total,
      ingestMs: median(ingest),
      ingestPointsPerSec: total / (median(ingest) / 1000),
      ingestServerCpuMs: median(ingestCpu),
      queryMs: median(query),
      queryPointsPerSec: total / (median(query) / 1000),
      queryResponseBytes: responseBytes,
    };
  } finally {
    await k.close();
  }
}

if (require.main === module) {
  const [m, p, reps] = process.argv.slice(2).map(Number);
  benchServer(m, p, reps).then(
    (out) => process.stdout.write(JSON.stringify(out) + '\n'),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
