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
import { FaultProxy } from './fault-proxy';
import { cfg, sleep, sourceNodes, useRuntime } from './support';

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
    }, 5000, 'producer backlog delivered');
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
  // The waits below add up to more than 30 s on a loaded machine; each one is bounded on its own.
  this.timeout(60000);
  let dataDir: string;
  let server: LocalServer;
  let proxy: FaultProxy;

  useRuntime({
    setup: async () => {
      dataDir = mkdtempSync(join(tmpdir(), 'rel-stream-'));
      server = await startServer({ port: 0, host: '127.0.0.1', dataDir, selfMetrics: false });
      proxy = await FaultProxy.start(server.url);
    },
    teardown: async () => {
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
    await helper.load(sourceNodes(), [
      cfg(proxy.url, { timeout: 0.5 }),
      { id: 's', type: 'proficloud-stream', server: 'cfg', metrics: metric, interval: 100, window: '1m', mode: 'incremental', output: 'rows', tsFormat: 'ms', autoStart: true, persist: false, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    const got = collect(helper.getNode('out'));
    const producer = new Producer(() => server.url, metric);
    producer.start();
    try {
      await until(() => emitted(got, metric).length >= 10, 5000, 'stream running');

      // 1. Server restart on the same port and data directory.
      const port = server.port;
      await server.close();
      await sleep(300);
      server = await startServer({ port, host: '127.0.0.1', dataDir, selfMetrics: false });
      await until(() => emitted(got, metric).length >= producer.seq - 5, 6000, 'caught up after the restart');

      // 2. Unreachable for a second (the proxy refuses connections).
      await proxy.refuse();
      await sleep(1000);
      await proxy.accept();
      await until(() => emitted(got, metric).length >= producer.seq - 5, 6000, 'caught up after the outage');

      // 3. Garbage answers: truncated and malformed JSON, a reset mid-body, a 503.
      proxy.next({ kind: 'truncate' }, 1, QUERY);
      proxy.next({ kind: 'malformed' }, 1, QUERY);
      proxy.next({ kind: 'reset-mid' }, 1, QUERY);
      proxy.next({ kind: 'status', status: 503 }, 1, QUERY);
      await until(() => proxy.queue.length === 0, 6000, 'faults consumed');
    } finally {
      producer.stop();
    }
    await producer.drain();
    const total = producer.seq;
    await until(() => emitted(got, metric).length >= total, 8000, `all ${total} points emitted`);
    await sleep(300);
    const values = emitted(got, metric);
    assert.deepEqual(values, Array.from({ length: total }, (_, i) => i), 'every point exactly once, in order');
    const codes = callsOf(helper.getNode('s'), 'error').map((c) => (c.args[0] as { code?: string }).code);
    for (const code of ['ENETWORK', 'EPARSE', 'EHTTP']) assert.ok(codes.includes(code), `poll errors reported with ${code} (got ${codes.join(',')})`);
  });
});
