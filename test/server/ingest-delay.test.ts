import assert from 'node:assert/strict';
import { parseArgs } from '../../src/server/cli';
import { startServer } from '../../src/server/index';
import { parseIngestDelay } from '../../src/server/ingest-delay';

async function visible(url: string, metric: string): Promise<number> {
  const res = await fetch(`${url}/api/v1/datapoints/query`, { method: 'POST', body: JSON.stringify({ start_absolute: 1, metrics: [{ name: metric }] }) });
  const json = (await res.json()) as { queries: Array<{ results: Array<{ values: unknown[] }> }> };
  return json.queries[0].results.reduce((n, r) => n + r.values.length, 0);
}

describe('kairosdb-local ingest delay (asynchronous, non-atomic ingest)', () => {
  it('a push is answered at once and becomes visible piece by piece, metric by metric and part by part', async () => {
    const server = await startServer({ port: 0, selfMetrics: false, ingestDelay: { minMs: 50, maxMs: 600, seed: 7, partPoints: 10 } });
    try {
      const datapoints = Array.from({ length: 100 }, (_, i) => [1_000_000 + i, i]);
      const res = await fetch(`${server.url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: 'd.a', tags: { h: 'x' }, datapoints }, { name: 'd.b', tags: { h: 'x' }, datapoints }]) });
      assert.equal(res.status, 204);
      assert.equal(await visible(server.url, 'd.a'), 0, 'nothing visible right after the 204');
      const seenCounts = new Set<string>();
      const end = Date.now() + 5000;
      for (;;) {
        const a = await visible(server.url, 'd.a');
        const b = await visible(server.url, 'd.b');
        seenCounts.add(`${a}/${b}`);
        if ((a === 100 && b === 100) || Date.now() > end) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.ok(seenCounts.has('100/100'), 'everything visible in the end');
      const partial = [...seenCounts].filter((c) => c !== '0/0' && c !== '100/100');
      assert.ok(partial.length >= 2, `seen in between: ${[...seenCounts].join(' ')}`);
      assert.ok(partial.some((c) => c.split('/')[0] !== c.split('/')[1]), 'two metrics of one push at different stages');
    } finally {
      await server.close();
    }
  });

  it('close makes pending points visible (a data directory keeps them); bad options name the field', async () => {
    const server = await startServer({ port: 0, selfMetrics: false, ingestDelay: { minMs: 10_000, maxMs: 10_000 } });
    await fetch(`${server.url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: 'd.c', tags: { h: 'x' }, datapoints: [[1, 1]] }]) });
    await server.close();
    assert.equal(server.store.metricNames().includes('d.c'), true);
    await assert.rejects(startServer({ port: 0, ingestDelay: { minMs: 5, maxMs: 1 } }), /ingestDelay\.maxMs/);
    await assert.rejects(startServer({ port: 0, ingestDelay: { minMs: -1, maxMs: 1 } }), /ingestDelay\.minMs/);
  });

  it('command line: --ingest-delay MIN..MAX and --ingest-seed N', () => {
    assert.deepEqual(parseIngestDelay('100..2000'), { minMs: 100, maxMs: 2000 });
    assert.deepEqual(parseIngestDelay('300'), { minMs: 300, maxMs: 300 });
    assert.throws(() => parseIngestDelay('2..1'), /MAX/);
    assert.deepEqual(parseArgs(['--ingest-delay', '0..500', '--ingest-seed', '3'], {}).ingestDelay, { minMs: 0, maxMs: 500, seed: 3 });
    assert.throws(() => parseArgs(['--ingest-delay', 'soon'], {}), /--ingest-delay.*"soon"/);
  });
});
