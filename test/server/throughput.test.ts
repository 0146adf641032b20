// A modest ingest/query sanity check: 10k-point JSON batches are all stored and a large raw query
// returns every point. Rates are printed once for orientation; nothing asserts on timing.
import assert from 'node:assert/strict';
import http from 'node:http';
import { startServer, type LocalServer } from '../../src/server';
import { T0 } from './helpers';

function batch(b: number, size: number): string {
  const per = size / 10;
  const metrics = [];
  for (let h = 0; h < 10; h++) {
    const dps: string[] = [];
    for (let i = 0; i < per; i++) dps.push(`[${T0 + (b * per + i) * 1000},${(h * 1.5 + i * 0.25).toFixed(2)}]`);
    metrics.push(`{"name":"load","tags":{"host":"h${h}"},"type":"double","datapoints":[${dps.join(',')}]}`);
  }
  return '[' + metrics.join(',') + ']';
}

function send(agent: http.Agent, url: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: u.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('server: throughput sanity', function () {
  this.timeout(30_000);
  let s: LocalServer;
  before(async () => {
    s = await startServer({ selfMetrics: false });
  });
  after(() => s.close());

  it('ingests 200k points in 10k batches and answers a raw query with all of them', async () => {
    const batches = Array.from({ length: 20 }, (_, b) => batch(b, 10_000));
    const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
    const t0 = process.hrtime.bigint();
    const statuses: number[] = [];
    for (let i = 0; i < batches.length; i += 2) {
      statuses.push(...(await Promise.all(batches.slice(i, i + 2).map((b) => send(agent, `${s.url}/api/v1/datapoints`, b)))));
    }
    const ingestMs = Number(process.hrtime.bigint() - t0) / 1e6;
    agent.destroy();
    assert.ok(statuses.every((c) => c === 204));
    assert.equal(s.store.pointCount(), 200_000);

    const t1 = process.hrtime.bigint();
    const r = await fetch(`${s.url}/api/v1/datapoints/query`, {
      method: 'POST',
      body: JSON.stringify({ start_absolute: 0, metrics: [{ name: 'load' }] }),
    });
    const body = (await r.json()) as { queries: Array<{ sample_size: number; results: Array<{ values: unknown[] }> }> };
    const queryMs = Number(process.hrtime.bigint() - t1) / 1e6;
    assert.equal(body.queries[0].sample_size, 200_000);
    assert.equal(body.queries[0].results[0].values.length, 200_000);
    console.log(`      ingest ~${Math.round(200_000 / (ingestMs / 1000))} points/s; raw query of 200k points in ${queryMs.toFixed(0)} ms`);
  });
});
