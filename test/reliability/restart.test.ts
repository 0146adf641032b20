/**
 * Node-RED in a child process, restarted cleanly or killed with SIGKILL while the outbox holds points
 * and while a write is in flight. Every message whose done() ran before the crash must be stored after
 * the restart, each timestamp once.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LocalServer } from '../../src/server/index';
import { kairos, until } from '../nodes/harness';
import { FaultProxy } from './fault-proxy';
import { RedProcess } from './red-process';
import { cfg, tally } from './support';

const PUSH = /^\/api\/v1\/datapoints(\?|$)/;
const TS = Date.UTC(2024, 6, 1, 0, 0, 0);

function flows(url: string): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'reliability' },
    { ...cfg(url, { timeout: 1 }) },
    { id: 'w', z: 'tab', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 50, maxDelay: 0.02, outbox: true, report: false, wires: [] },
    { id: 'b', z: 'tab', type: 'proficloud-batch', server: 'cfg', batchSize: 100, outbox: true, report: false, wires: [] },
  ];
}

describe('reliability: Node-RED restarted or killed (child process)', function () {
  this.timeout(60000);
  let server: LocalServer;
  let proxy: FaultProxy;
  const dirs: string[] = [];
  const children: RedProcess[] = [];

  before(async function () {
    server = await kairos();
    proxy = await FaultProxy.start(server.url);
  });
  after(async function () {
    for (const c of children) await c.stop().catch(() => undefined);
    await proxy.close();
    await server.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  afterEach(async function () {
    for (const c of children.splice(0)) await c.stop().catch(() => undefined);
    proxy.queue.length = 0;
    proxy.rule = () => undefined;
    await proxy.accept();
  });

  async function startRed(userDir: string): Promise<RedProcess> {
    const p = await RedProcess.start(userDir, flows(proxy.url));
    children.push(p);
    return p;
  }

  /** 300 write messages and 3 batch messages of 100 rows; returns the timestamps per metric. */
  function feed(red: RedProcess, name: string, from = 0): { w: number[]; b: number[] } {
    const w = Array.from({ length: 300 }, (_, i) => TS + (from + i) * 1000);
    red.send('w', w.map((t, i) => ({ topic: `${name}.w`, payload: i, timestamp: t })));
    const b: number[] = [];
    const msgs = [];
    for (let m = 0; m < 3; m++) {
      const rows = Array.from({ length: 100 }, (_, i) => ({ Timestamp: TS + (from + m * 100 + i) * 1000, [`${name}.b`]: m * 100 + i }));
      b.push(...rows.map((r) => r.Timestamp));
      msgs.push({ payload: rows });
    }
    red.send('b', msgs);
    return { w, b };
  }

  async function allAccepted(red: RedProcess): Promise<void> {
    await until(() => (red.counts.w ?? 0) === 300 && (red.counts.b ?? 0) === 3, 10000, 'every message done() (durable in the outbox)');
  }

  async function allStored(name: string, sent: { w: number[]; b: number[] }): Promise<void> {
    await until(
      async () => (await tally(server.url, `${name}.w`, sent.w)).missing.length === 0 && (await tally(server.url, `${name}.b`, sent.b)).missing.length === 0,
      15000,
      `every point of ${name} stored`,
    );
    for (const [metric, ts] of [[`${name}.w`, sent.w], [`${name}.b`, sent.b]] as const) {
      const t = await tally(server.url, metric, ts);
      assert.deepEqual(t.missing, []);
      assert.equal(t.duplicates, 0, `${metric}: duplicates`);
      assert.equal(t.stored, ts.length);
    }
  }

  function userDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'rel-red-'));
    dirs.push(d);
    return d;
  }

  for (const how of ['restart', 'SIGKILL'] as const) {
    it(`${how} while the outbox holds points (server unreachable): all delivered after the restart`, async function () {
      const dir = userDir();
      const red = await startRed(dir);
      await proxy.refuse();
      const sent = feed(red, `r.${how}`);
      await allAccepted(red);
      await until(() => /delivery failed, \d+ points kept for retry: Cannot reach/.test(red.text()), 5000, 'the outage is logged');
      if (how === 'SIGKILL') await red.kill();
      else await red.stop();
      assert.equal((await tally(server.url, `r.${how}.w`, sent.w)).stored, 0, 'nothing reached the server before the restart');
      await proxy.accept();
      const again = await startRed(dir);
      await allStored(`r.${how}`, sent);
      // The restarted flow keeps working.
      const more = feed(again, `r.${how}.more`, 1000);
      await allStored(`r.${how}.more`, more);
    });
  }

  const inFlight = [
    { fault: 'hang-after-forward', how: 'SIGKILL' },
    { fault: 'hang', how: 'SIGKILL' },
    { fault: 'hang-after-forward', how: 'restart' },
  ] as const;
  for (const { fault, how } of inFlight) {
    const what = fault === 'hang' ? 'not yet at the server' : 'already stored by the server';
    it(`${how} while a write is in flight (${what}): delivered after the restart, no duplicates`, async function () {
      const dir = userDir();
      const red = await startRed(dir);
      proxy.rule = (req) => (PUSH.test(req.path) ? { kind: fault } : undefined);
      const sent = feed(red, `r.${fault}.${how}`);
      await allAccepted(red);
      await until(() => proxy.log.some((l) => l.fault === fault), 5000, 'a write in flight');
      if (how === 'SIGKILL') await red.kill();
      else await red.stop();
      proxy.rule = () => undefined;
      await startRed(dir);
      await allStored(`r.${fault}.${how}`, sent);
    });
  }
});
