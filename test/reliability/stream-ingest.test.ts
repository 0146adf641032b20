/**
 * The stream node against kairosdb-local with real-server ingest (asynchronous and not atomic: each
 * series' part of a push becomes visible after its own delay), while a producer writes several metrics
 * at shared moments, some late by seconds to minutes, and the flow is redeployed midway: every stored
 * point is emitted exactly once for rows and series, and a ui-chart model fed by the chart output holds
 * each point once with no line stepping backwards. Seeds fix the delays and the producer's choices.
 */
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { seededRandom } from '../../src/server/random';
import { startServer, type LocalServer } from '../../src/server/index';
import { collect, helper, until } from '../nodes/harness';
import { UiChartModel } from '../helpers/ui-chart-model';
import { cfg, sleep, builtNodes, useRuntime } from './support';

const METRICS = ['ing.a', 'ing.b', 'ing.c'];

type Msg = Record<string, unknown>;

/** (column, ts) pairs a rows or series message carries. */
function pointsOf(output: string, m: Msg): Array<[string, number]> {
  if (output === 'rows') {
    const cols = (m.columns as string[]).slice(1);
    return (m.payload as Array<Record<string, unknown>>).flatMap((r) => cols.filter((c) => r[c] !== null && r[c] !== undefined).map((c): [string, number] => [c, r.Timestamp as number]));
  }
  return (m.payload as Array<[number, unknown]>).map(([t]): [string, number] => [m.topic as string, t]);
}

describe('reliability: stream node on a server with asynchronous, non-atomic ingest', function () {
  this.timeout(90000);
  let server: LocalServer;
  let seedNow = 0;

  const runtime = useRuntime({
    teardown: async () => {
      await helper.unload();
    },
  });

  afterEach(async function () {
    await helper.unload();
    await server?.close();
    // The next test's server holds other data: its stream must not resume from this position.
    rmSync(join(runtime.userDir, 'proficloud-stream'), { recursive: true, force: true });
  });

  for (const seed of [1, 2]) {
    for (const output of ['rows', 'series', 'chart']) {
      it(`seed ${seed}, ${output}: every point once across delays, late points and a redeploy`, async function () {
        seedNow = seed * 10 + output.length;
        const rnd = seededRandom(seedNow);
        server = await startServer({ port: 0, host: '127.0.0.1', selfMetrics: false, ingestDelay: { minMs: 0, maxMs: 1200, seed: seedNow, partPoints: 3 } });
        const node = { id: 's', type: 'proficloud-stream', server: 'cfg', metrics: METRICS.join(','), interval: 150, window: '10m', horizon: '1h', lateCheck: 0.4, mode: 'incremental', output, tsFormat: 'ms', autoStart: true, persist: true, wires: [['out']] };
        const flow = [cfg(server.url), node, { id: 'out', type: 'helper' }];
        const msgs: Msg[] = [];
        const deploy = async (): Promise<void> => {
          await helper.load(builtNodes(), flow);
          const got = collect(helper.getNode('out'));
          // Keep one list across deploys: the helper node is new each time.
          const push = got.push.bind(got);
          got.push = (...items: Msg[]): number => {
            msgs.push(...items);
            return push(...items);
          };
        };
        const stored: Array<[string, number]> = [];
        const write = async (metric: string, ts: number, v: number): Promise<void> => {
          const res = await fetch(`${server.url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: metric, tags: { p: '1' }, datapoints: [[ts, v]] }]) });
          assert.equal(res.status, 204);
          stored.push([metric, ts]);
        };
        await deploy();
        let v = 0;
        const started = Date.now();
        let redeployed = false;
        while (Date.now() - started < 4000) {
          const ts = Date.now() - Math.floor(rnd() * 200);
          // One push per moment, all metrics together: the server shows its parts at different times.
          const body = METRICS.filter(() => rnd() > 0.15).map((name) => ({ name, tags: { p: '1' }, datapoints: [[ts, v++]] }));
          if (body.length) {
            const res = await fetch(`${server.url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify(body) });
            assert.equal(res.status, 204);
            for (const b of body) stored.push([b.name, ts]);
          }
          if (rnd() < 0.08) await write(METRICS[Math.floor(rnd() * 3)], Date.now() - [5000, 30_000, 240_000][Math.floor(rnd() * 3)] - Math.floor(rnd() * 1000), v++);
          if (!redeployed && Date.now() - started > 2000) {
            redeployed = true;
            await helper.unload();
            await deploy();
          }
          await sleep(60 + Math.floor(rnd() * 80));
        }
        // Everything visible after at most 1.2 s; then held rows come due and the late checks run.
        if (output === 'chart') {
          const chart = new UiChartModel();
          await until(
            () => {
              const c = new UiChartModel();
              msgs.forEach((m) => c.feed(m));
              return stored.every(([m, t]) => c.has(m, t));
            },
            15000,
            'the chart shows every point',
          );
          await sleep(600);
          msgs.forEach((m) => chart.feed(m));
          assert.deepEqual(chart.duplicates, [], 'no point drawn twice');
          assert.deepEqual(chart.backwards, [], 'no line steps backwards');
          assert.equal(msgs[0].action, 'replace');
          return;
        }
        const count = (): Map<string, number> => {
          const seen = new Map<string, number>();
          for (const m of msgs) for (const [c, t] of pointsOf(output, m)) seen.set(`${c}@${t}`, (seen.get(`${c}@${t}`) ?? 0) + 1);
          return seen;
        };
        await until(() => stored.every(([m, t]) => count().has(`${m}@${t}`)), 15000, `all ${stored.length} points`).catch((e: Error) => {
          const c = count();
          const missing = stored.filter(([m, t]) => !c.has(`${m}@${t}`)).map(([m, t]) => `${m}@${t - started}`);
          throw new Error(`${e.message}; missing (ms after start): ${missing.join(', ')}`);
        });
        await sleep(600);
        const seen = count();
        assert.deepEqual([...seen].filter(([, n]) => n > 1).map(([k]) => k), [], 'no point twice');
        assert.equal(seen.size, new Set(stored.map(([m, t]) => `${m}@${t}`)).size, 'nothing that was not stored');
        assert.ok(msgs.some((m) => m.late === true), 'late points came, marked msg.late');
      });
    }
  }
});
