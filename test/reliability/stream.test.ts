/**
 * The stream node while points keep arriving and the server restarts (same data directory) or becomes
 * unreachable or answers garbage: every point is emitted exactly once, in order.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type LocalServer } from '../../src/server/index';
import { callsOf, collect, helper, until } from '../nodes/harness';
import { within } from '../helpers/within';
import { FaultProxy } from './fault-proxy';
import { cfg, sleep, builtNodes, useRuntime } from './support';

const QUERY = /^\/api\/v1\/datapoints\/query/;

/** Pushes one point every few ms at the current time; points it cannot deliver are kept and resent (like an outbox). */
class Producer {
  seq = 0;
  private pending: Array<[number, number]> = [];
  private timer: NodeJS.Timeout | undefined;
  private busy = false;
  constructor(
    private url: () => string,
    private readonly metric: string,
  ) {}
  start(everyMs = 40): void {
    this.timer = setInterval(() => void this.tick(), everyMs);
  }
  stop(): void {
    clearInterval(this.timer);
  }
  get unsent(): number {
    return this.pending.length;
  }
  async drain(): Promise<void> {
    await until(async () => {
      await this.tick(false);
      return this.pending.length === 0;
    }, 20_000, 'producer backlog delivered');
  }
  private async tick(produce = true): Promise<void> {
    if (produce) this.pending.push([Date.now(), this.seq++]);
    if (this.busy || this.pending.length === 0) return;
    this.busy = true;
    const batch = this.pending.slice();
    try {
      const res = await fetch(`${this.url()}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: this.metric, tags: { p: '1' }, datapoints: batch }]) });
      if (res.status === 204) this.pending.splice(0, batch.length);
    } catch {
      // server down: keep the points, resend later
    } finally {
      this.busy = false;
    }
  }
}

describe('reliability: stream node across server restarts and outages', function () {
  // Every wait below is for a fixed target with a generous deadline; the whole can take long on a busy machine.
  this.timeout(180_000);
  let dataDir: string;
  let server: LocalServer;
  let proxy: FaultProxy;
  let producer: Producer | undefined;

  useRuntime({
    setup: async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'rel-stream-'));
      server = await startServer({ port: 0, host: '127.0.0.1', dataDir, selfMetrics: false });
      proxy = await FaultProxy.start(server.url);
    },
    teardown: async () => {
      // Also when the test failed or timed out half-way: nothing may keep pushing while the servers close.
      producer?.stop();
      await helper.unload();
      await proxy.close();
      await server.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  });

  function emitted(msgs: Array<Record<string, unknown>>, metric: string): number[] {
    return msgs.flatMap((m) => (m.payload as Array<Record<string, unknown>>).map((r) => r[metric] as number)).filter((v) => v !== undefined && v !== null);
  }

  it('server restarted (same data dir), then down for a while, then answering garbage: each point once, none skipped', async function () {
    const metric = 'st.flow';
    await helper.load(builtNodes(), [
      cfg(proxy.url, { timeout: 0.5 }),
      { id: 's', type: 'proficloud-stream', server: 'cfg', metrics: metric, interval: 100, window: '1m', mode: 'incremental', output: 'rows', tsFormat: 'ms', autoStart: true, persist: false, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const got = collect(helper.getNode('out'));
    const p = (producer = new Producer(() => server.url, metric));
    p.start();
    /** Waits until the stream has emitted every point produced so far (a fixed target, not one that keeps moving). */
    const caughtUp = async (what: string): Promise<void> => {
      const target = p.seq;
      await until(() => emitted(got, metric).length >= target, 30_000, `${what}: ${target} points emitted`);
    };
    try {
      await until(() => emitted(got, metric).length >= 10, 30_000, 'stream running');

      // 1. Server restart on the same port and data directory.
      const port = server.port;
      await within(server.close(), 30_000, 'closing the server');
      await sleep(300);
      server = await within(startServer({ port, host: '127.0.0.1', dataDir, selfMetrics: false }), 30_000, 'restarting the server');
      await caughtUp('caught up after the restart');

      // 2. Unreachable for a second (the proxy refuses connections).
      await within(proxy.refuse(), 30_000, 'proxy refusing');
      await sleep(1000);
      await within(proxy.accept(), 30_000, 'proxy accepting again');
      await caughtUp('caught up after the outage');

      // 3. Garbage answers: truncated and malformed JSON, a reset mid-body, a 503.
      proxy.next({ kind: 'truncate' }, 1, QUERY);
      proxy.next({ kind: 'malformed' }, 1, QUERY);
      proxy.next({ kind: 'reset-mid' }, 1, QUERY);
      proxy.next({ kind: 'status', status: 503 }, 1, QUERY);
      await until(() => proxy.queue.length === 0, 30_000, 'faults consumed');
    } finally {
      p.stop();
    }
    await within(p.drain(), 60_000, 'producer drain');
    const total = p.seq;
    await until(() => emitted(got, metric).length >= total, 30_000, `all ${total} points emitted`);
    await sleep(300);
    const values = emitted(got, metric);
    assert.deepEqual(values, Array.from({ length: total }, (_, i) => i), 'every point exactly once, in order');
    const codes = callsOf(helper.getNode('s'), 'error').map((c) => (c.args[0] as { code?: string }).code);
    for (const code of ['ENETWORK', 'EPARSE', 'EHTTP']) assert.ok(codes.includes(code), `poll errors reported with ${code} (got ${codes.join(',')})`);
  });
});
