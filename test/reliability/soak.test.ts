/**
 * Bounded soak: several thousand messages per second into two write nodes and a batch node for
 * SOAK_SECONDS (default 20), while the fault proxy flaps the server (refused, 503, resets, a long
 * outage). Checks: totals match exactly, no duplicates, heap stays bounded (the backlog is on disk),
 * and the event loop stays responsive (perf_hooks.monitorEventLoopDelay).
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { LocalServer } from '../../src/server/index';
import { helper, kairos, until, type TestNode } from '../nodes/harness';
import { FaultProxy } from './fault-proxy';
import { cfg, sleep, builtNodes, tally, useRuntime } from './support';

const SECONDS = Math.min(60, Math.max(5, Number(process.env.SOAK_SECONDS) || 20));
const RATE = 4000; // messages per second into the write nodes, together
const TICK_MS = 10;
const TS = Date.UTC(2024, 8, 1, 0, 0, 0);
const PUSH = /^\/api\/v1\/datapoints(\?|$)/;

/** A full GC, so heap numbers show what is retained rather than garbage not yet collected. */
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function retainedHeap(): number {
  clearHarnessHistory();
  gc();
  return process.memoryUsage().heapUsed;
}

/**
 * node-red-node-test-helper records every log call (including a metrics event per message received
 * and done, holding the msg) and every node method call; over 100,000 messages that history alone is
 * hundreds of MiB. Clearing it lets the heap numbers measure the nodes, not the test harness.
 */
function clearHarnessHistory(): void {
  const h = helper as unknown as { _logSpy?: { resetHistory(): void }; _NodePrototype?: Record<string, { resetHistory?: () => void }> };
  h._logSpy?.resetHistory();
  for (const m of ['log', 'status', 'warn', 'error', 'debug', 'trace', 'send']) h._NodePrototype?.[m]?.resetHistory?.();
}

function dirBytes(dir: string): number {
  let n = 0;
  try {
    for (const f of readdirSync(dir)) n += statSync(join(dir, f)).size;
  } catch {
    // not created yet
  }
  return n;
}

describe('reliability: bounded soak with a flapping server', function () {
  this.timeout((SECONDS + 60) * 1000);
  let server: LocalServer;
  let proxy: FaultProxy;

  const runtime = useRuntime({
    setup: async () => {
      server = await kairos();
      proxy = await FaultProxy.start(server.url);
    },
    teardown: async () => {
      await helper.unload();
      await proxy.close();
      await server.close();
    },
  });

  it(`${RATE} msg/s for ${SECONDS} s: totals match, heap bounded, event loop responsive`, async function () {
    await helper.load(builtNodes(), [
      cfg(proxy.url, { timeout: 1 }),
      { id: 'w1', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 2000, maxDelay: 0.2, outbox: true, report: false, wires: [] },
      { id: 'w2', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 2000, maxDelay: 0.2, outbox: true, report: false, wires: [] },
      { id: 'b', type: 'proficloud-batch', server: 'cfg', batchSize: 1000, outbox: true, report: false, wires: [] },
    ]);
    const w1 = helper.getNode('w1');
    const w2 = helper.getNode('w2');
    const b = helper.getNode('b');
    const outboxDir = join(runtime.userDir, 'proficloud-outbox', 'w1');

    // Flapping: each phase lasts ~SECONDS/10; one long outage in the middle tests the disk backlog.
    const phaseMs = (SECONDS * 1000) / 10;
    const phases: Array<'pass' | 'refuse' | '503' | 'reset' | 'hang'> = ['pass', 'refuse', 'pass', '503', 'pass', 'refuse', 'refuse', 'reset', 'pass', 'hang'];
    let phase = 'pass';
    let peakOutboxBytes = 0;
    proxy.rule = (req) => {
      if (!PUSH.test(req.path)) return undefined;
      if (phase === '503') return { kind: 'status', status: 503 };
      if (phase === 'reset') return { kind: 'reset-mid' };
      if (phase === 'hang') return { kind: 'hang-after-forward' };
      return undefined;
    };

    const lag = monitorEventLoopDelay({ resolution: 10 });
    const heap: number[] = [];
    let sent = 0;
    let rows = 0;
    const start = Date.now();
    const baseHeap = retainedHeap();
    let outageHeap = 0;
    let outageBacklog = 0;
    lag.enable();
    const perTick = (RATE * TICK_MS) / 1000 / 2;
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const elapsed = Date.now() - start;
        if (elapsed >= SECONDS * 1000) {
          clearInterval(timer);
          resolve();
          return;
        }
        // Catch up to the target rate rather than trusting timer precision.
        const due = Math.floor((elapsed / 1000) * RATE);
        let n = Math.min(due - sent, perTick * 4);
        while (n-- > 0) {
          const node: TestNode = sent % 2 === 0 ? w1 : w2;
          node.receive({ topic: sent % 2 === 0 ? 'soak.w1' : 'soak.w2', payload: sent, timestamp: TS + sent });
          sent++;
        }
        if (Math.floor(elapsed / 100) > rows / 50) {
          b.receive({ payload: Array.from({ length: 50 }, (_, i) => ({ Timestamp: TS + rows + i, 'soak.b': rows + i })) });
          rows += 50;
        }
        const p = phases[Math.min(phases.length - 1, Math.floor(elapsed / phaseMs))];
        if (p !== phase) {
          phase = p;
          if (p === 'refuse') void proxy.refuse();
          else void proxy.accept();
        }
        if (sent % 2000 < perTick * 2) {
          clearHarnessHistory();
          heap.push(process.memoryUsage().heapUsed);
        }
        peakOutboxBytes = Math.max(peakOutboxBytes, dirBytes(outboxDir));
        // Near the end of the long outage: what does a large backlog cost in RAM?
        if (!outageHeap && elapsed > phaseMs * 6.8) {
          outageBacklog = dirBytes(outboxDir);
          outageHeap = retainedHeap();
        }
      }, TICK_MS);
    });
    phase = 'pass';
    await proxy.accept();
    lag.disable();
    const sendSeconds = (Date.now() - start) / 1000;

    const expect = (pick: (i: number) => boolean, n: number): number[] => {
      const out: number[] = [];
      for (let i = 0; i < n; i++) if (pick(i)) out.push(TS + i);
      return out;
    };
    const want = {
      'soak.w1': expect((i) => i % 2 === 0, sent),
      'soak.w2': expect((i) => i % 2 === 1, sent),
      'soak.b': expect(() => true, rows),
    };
    const drainStart = Date.now();
    await until(
      async () => {
        for (const [m, ts] of Object.entries(want)) if ((await tally(server.url, m, ts)).stored < ts.length) return false;
        return true;
      },
      30000,
      'the backlog delivered after the soak',
    );
    const drainSeconds = (Date.now() - drainStart) / 1000;
    for (const [m, ts] of Object.entries(want)) {
      const t = await tally(server.url, m, ts);
      assert.deepEqual(t.missing.length, 0, `${m}: missing`);
      assert.equal(t.duplicates, 0, `${m}: duplicates`);
      assert.equal(t.stored, ts.length, `${m}: stored`);
    }
    const maxHeapGrowthMb = (Math.max(...heap) - baseHeap) / 1048576;
    const outageGrowthMb = (outageHeap - baseHeap) / 1048576;
    const endGrowthMb = (retainedHeap() - baseHeap) / 1048576;
    const p99 = lag.percentile(99) / 1e6;
    const max = lag.max / 1e6;
    const faults = proxy.log.filter((l) => l.fault !== 'pass').length;
    const summary = {
      seconds: Number(sendSeconds.toFixed(1)),
      messages: sent,
      rate: Math.round(sent / sendSeconds),
      batchRows: rows,
      pushRequests: proxy.count(PUSH),
      injectedFaults: faults,
      peakOutboxKiB: Math.round(peakOutboxBytes / 1024),
      peakHeapGrowthMiB: Number(maxHeapGrowthMb.toFixed(1)),
      outageBacklogKiB: Math.round(outageBacklog / 1024),
      retainedHeapGrowthInOutageMiB: Number(outageGrowthMb.toFixed(1)),
      retainedHeapGrowthAfterMiB: Number(endGrowthMb.toFixed(1)),
      loopDelayP99Ms: Number(p99.toFixed(1)),
      loopDelayMaxMs: Number(max.toFixed(1)),
      drainSeconds: Number(drainSeconds.toFixed(1)),
    };
    // The numbers docs/reliability.md quotes come from this line.
    console.log(`      soak: ${JSON.stringify(summary)}`);
    assert.ok(sent >= RATE * SECONDS * 0.9, `kept the rate (${summary.rate} msg/s)`);
    assert.ok(faults > 0 && peakOutboxBytes > 0, 'the server really flapped and the backlog went to disk');
    assert.ok(outageGrowthMb < 32, `retained heap grew by ${outageGrowthMb.toFixed(1)} MiB with ${outageBacklog} bytes of backlog`);
    assert.ok(endGrowthMb < 32, `retained heap after the soak grew by ${endGrowthMb.toFixed(1)} MiB`);
    assert.ok(p99 < 100, `event loop delay p99 ${p99.toFixed(1)} ms`);
    assert.ok(max < 1000, `event loop delay max ${max.toFixed(1)} ms`);
    await sleep(10);
  });
});
