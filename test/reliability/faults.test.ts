/**
 * Fault injection between the write/batch nodes and the local KairosDB server. For every fault: every
 * point sent in ends up stored exactly once per timestamp, the flow keeps running, and the node's
 * status or errors say what went wrong.
 */
import assert from 'node:assert/strict';
import { startServer, type LocalServer } from '../../src/server/index';
import { callsOf, collect, errorsOf, helper, kairos, readBack, until, type TestNode } from '../nodes/harness';
import { FaultProxy, type Fault } from './fault-proxy';
import { cfg, sleep, builtNodes, statusTexts, tally, TEST_RETRY, useRuntime } from './support';

const PUSH = /^\/api\/v1\/datapoints(\?|$)/;
const QUERY = /^\/api\/v1\/datapoints\/query/;
const TS = Date.UTC(2024, 5, 1, 0, 0, 0);

interface Flow {
  w: TestNode;
  b: TestNode;
  wOut: Array<Record<string, unknown>>;
}

describe('reliability: faults between the write nodes and the server', function () {
  this.timeout(30000);
  let server: LocalServer;
  let proxy: FaultProxy;
  let caseNo = 0;

  const runtime = useRuntime({
    setup: async () => {
      server = await kairos();
      proxy = await FaultProxy.start(server.url);
    },
    teardown: async () => {
      await proxy.close();
      await server.close();
    },
    unloadAfterEach: true,
  });
  afterEach(async function () {
    proxy.queue.length = 0;
    proxy.rule = () => undefined;
    await proxy.accept();
  });

  async function load(url: string, cfgExtra: Record<string, unknown> = {}, id = `c${++caseNo}`): Promise<Flow> {
    await helper.load(builtNodes(), [
      cfg(url, cfgExtra),
      { id: `w-${id}`, type: 'proficloud-write', server: 'cfg', maxBatchPoints: 10, maxDelay: 0.02, outbox: true, report: true, wires: [['wout']] },
      { id: `b-${id}`, type: 'proficloud-batch', server: 'cfg', batchSize: 25, outbox: true, report: true, wires: [['bout']] },
      { id: 'wout', type: 'helper' },
      { id: 'bout', type: 'helper' },
    ]);
    return { w: helper.getNode(`w-${id}`), b: helper.getNode(`b-${id}`), wOut: collect(helper.getNode('wout')) };
  }

  /** 30 single-value messages into the write node, 60 rows in 2 messages into the batch node. */
  function sendAll(f: Flow, name: string, from = 0): { w: number[]; b: number[] } {
    const w: number[] = [];
    const b: number[] = [];
    for (let i = from; i < from + 30; i++) {
      f.w.receive({ topic: `${name}.w`, payload: i, timestamp: TS + i * 1000 });
      w.push(TS + i * 1000);
    }
    for (let part = 0; part < 2; part++) {
      const rows = [];
      for (let i = from + part * 30; i < from + part * 30 + 30; i++) {
        rows.push({ Timestamp: TS + i * 1000, [`${name}.b`]: i * 0.5 });
        b.push(TS + i * 1000);
      }
      f.b.receive({ payload: rows });
    }
    return { w, b };
  }

  async function assertAllStored(url: string, name: string, sent: { w: number[]; b: number[] }, timeoutMs = 15000): Promise<void> {
    await until(
      async () => (await tally(url, `${name}.w`, sent.w)).missing.length === 0 && (await tally(url, `${name}.b`, sent.b)).missing.length === 0,
      timeoutMs,
      `all points of ${name} stored`,
    );
    for (const [metric, ts] of [[`${name}.w`, sent.w], [`${name}.b`, sent.b]] as const) {
      const t = await tally(url, metric, ts);
      assert.deepEqual(t.missing, [], `${metric}: missing points`);
      assert.equal(t.duplicates, 0, `${metric}: duplicated timestamps`);
      assert.equal(t.stored, ts.length, `${metric}: stored count`);
    }
  }

  /** The flow still works after the fault: one more round goes straight through. */
  async function stillRunning(f: Flow, url: string, name: string): Promise<void> {
    const sent = sendAll(f, `${name}.after`, 100);
    await assertAllStored(url, `${name}.after`, sent, 8000);
  }

  function said(f: Flow): string {
    const warns = [f.w, f.b].flatMap((n) => callsOf(n, 'warn').map((c) => String(c.args[0])));
    return [...statusTexts(f.w), ...statusTexts(f.b), ...errorsOf(f.w), ...errorsOf(f.b), ...warns].join('\n');
  }

  const injected: Array<{ title: string; fault: Fault; times: number; expect: RegExp }> = [
    { title: 'connection reset before the response', fault: { kind: 'reset-before' }, times: 3, expect: /Cannot reach|ECONNRESET|socket/i },
    { title: 'connection reset in the middle of the response (server already stored)', fault: { kind: 'reset-mid' }, times: 3, expect: /Cannot reach|ECONNRESET|socket|closed/i },
    { title: 'HTTP 500', fault: { kind: 'status', status: 500 }, times: 2, expect: /HTTP 500/ },
    { title: 'HTTP 502 (HTML body from a gateway)', fault: { kind: 'status', status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>' }, times: 2, expect: /HTTP 502/ },
    { title: 'HTTP 503 without Retry-After', fault: { kind: 'status', status: 503 }, times: 2, expect: /HTTP 503/ },
    { title: 'HTTP 429 without Retry-After', fault: { kind: 'status', status: 429 }, times: 2, expect: /HTTP 429/ },
    { title: 'a response that never comes (timeout)', fault: { kind: 'hang' }, times: 2, expect: /No complete answer|ETIMEOUT/ },
    { title: 'stored, but the answer never comes (in-flight write times out)', fault: { kind: 'hang-after-forward' }, times: 1, expect: /No complete answer|ETIMEOUT/ },
  ];

  for (const c of injected) {
    it(`${c.title}: nothing lost, nothing doubled, flow keeps running, status says why`, async function () {
      const name = `f${caseNo + 1}`;
      const f = await load(proxy.url, { timeout: 0.5 });
      const before = proxy.count(PUSH);
      proxy.next(c.fault, c.times, PUSH);
      const sent = sendAll(f, name);
      await assertAllStored(server.url, name, sent);
      assert.ok(proxy.count(PUSH) - before >= c.times + 1, 'the faults were hit and followed by successful requests');
      assert.match(said(f), c.expect);
      // Retryable faults are not reported as rejected data.
      assert.equal(callsOf(f.w, 'error').length + callsOf(f.b, 'error').length, 0, `unexpected node errors: ${errorsOf(f.w).concat(errorsOf(f.b)).join('; ')}`);
      await stillRunning(f, server.url, name);
    });
  }

  for (const status of [503, 429]) {
    it(`HTTP ${status} with Retry-After: 1 is honoured (no retry sooner than 1 s) and nothing is lost`, async function () {
      const name = `f${caseNo + 1}`;
      const f = await load(proxy.url);
      proxy.next({ kind: 'status', status, retryAfter: '1' }, 1, PUSH);
      const start = proxy.log.length;
      // Only the write node sends here, so consecutive pushes in the proxy log are its attempts.
      const ts = Array.from({ length: 20 }, (_, i) => TS + i * 1000);
      for (const [i, t] of ts.entries()) f.w.receive({ topic: `${name}.w`, payload: i, timestamp: t });
      await until(async () => (await tally(server.url, `${name}.w`, ts)).missing.length === 0, 8000, 'all stored');
      assert.equal((await tally(server.url, `${name}.w`, ts)).duplicates, 0);
      const pushes = proxy.log.slice(start).filter((l) => PUSH.test(l.path));
      const refused = pushes.findIndex((l) => l.fault === 'status');
      assert.ok(refused >= 0, 'the injected answer was sent');
      const gap = pushes[refused + 1].at - pushes[refused].at;
      assert.ok(gap >= 950, `retry came after ${gap} ms, Retry-After asked for 1000`);
      assert.match(said(f), new RegExp(`HTTP ${status}`));
    });
  }

  it('a flapping link (every second push fails) gives one warning per cause for the episode and one summary when it ends', async function () {
    const name = `f${caseNo + 1}`;
    const f = await load(proxy.url);
    const start = proxy.count(PUSH);
    const startLog = proxy.log.length;
    let pushes = 0;
    proxy.rule = (req) => (PUSH.test(req.path) && ++pushes <= 24 && pushes % 2 === 1 ? { kind: 'status', status: 503 } : undefined);
    const ts: number[] = [];
    for (let i = 0; i < 40; i++) {
      ts.push(TS + i * 1000);
      f.w.receive({ topic: `${name}.w`, payload: i, timestamp: TS + i * 1000 });
      await sleep(25); // several requests, each window a few messages
    }
    await until(async () => (await tally(server.url, `${name}.w`, ts)).missing.length === 0, 15000, 'all stored');
    const failedPushes = proxy.log.slice(startLog).filter((l) => PUSH.test(l.path) && l.fault === 'status').length;
    assert.ok(failedPushes >= 3, `the link flapped (${failedPushes} failed pushes of ${proxy.count(PUSH) - start})`);
    const warns = (): string[] => callsOf(f.w, 'warn').map((c) => String(c.args[0]));
    // The episode ends after proficloudRetry.quietMs (support.ts) without failures.
    await until(() => warns().some((m) => /recovered after/.test(m)), 15000, 'the recovery summary');
    const failed = warns().filter((m) => /delivery failed/.test(m));
    assert.equal(failed.length, 1, failed.join('\n'));
    assert.match(failed[0], /HTTP 503/);
    const summary = warns().filter((m) => /recovered after/.test(m));
    assert.equal(summary.length, 1, summary.join('\n'));
    assert.match(summary[0], /^delivery recovered after (\d+) failures in [\d.]+ s$/);
    assert.equal(Number(/after (\d+)/.exec(summary[0])?.[1]), failedPushes, 'the summary counts every failure of the episode');
  });

  it('after a long outage delivery resumes soon after the link returns, not after the grown backoff (light probes meanwhile)', async function () {
    // An hour of backoff after the first failure: only the recovery probe can deliver within this test.
    // helper.settings replaces the settings: the suite's userDir must be given again (else outboxes land in the cwd).
    helper.settings({ userDir: runtime.userDir, proficloudRetry: { initialMs: 3_600_000, maxMs: 3_600_000, quietMs: 1000 } });
    try {
      const name = `f${caseNo + 1}`;
      const f = await load(proxy.url);
      const start = proxy.log.length;
      await proxy.refuse();
      const sent = sendAll(f, name);
      await until(() => /delivery failed/.test(said(f)), 8000, 'the first failure');
      await sleep(3000);
      const probesDown = proxy.count(/^\/api\/v1\/version/);
      await proxy.accept();
      await assertAllStored(server.url, name, sent, 20000);
      assert.ok(proxy.count(/^\/api\/v1\/version/) > probesDown, 'the link was found back by a probe');
      const pushes = proxy.log.slice(start).filter((l) => PUSH.test(l.path));
      assert.ok(pushes.length <= 12, `${pushes.length} pushes: no hammering`);
    } finally {
      helper.settings({ userDir: runtime.userDir, proficloudRetry: TEST_RETRY });
    }
  });

  for (const named of [false, true]) {
    it(`one refused message among 32 (a 400 ${named ? 'naming metric[i]' : 'naming no metric index'}): only it is dropped and reported, the other 31 are stored`, async function () {
      const name = `f${++caseNo}`; // this test loads its own flow (load() counts the others)
      const bad = `${name}.bad`;
      const startLog = proxy.log.length;
      // Any request carrying the bad metric is refused, in KairosDB's words (and, unlike KairosDB, nothing of it is stored).
      proxy.rule = (req) => {
        if (!PUSH.test(req.path)) return undefined;
        const metrics = JSON.parse(req.text()) as Array<{ name: string }>;
        const i = metrics.findIndex((m) => m.name === bad);
        if (i < 0) return undefined;
        const error = named ? `metric[${i}](name=${bad}).tag[site].value may not be empty.` : 'java.io.EOFException: End of input at line 1 column 50 path $[0].datapoints[1]';
        return { kind: 'status', status: 400, body: JSON.stringify({ errors: [error] }) };
      };
      // 32 points make a full request, which goes out at once; the long window keeps them together until then.
      await helper.load(builtNodes(), [cfg(proxy.url), { id: `w-${name}`, type: 'proficloud-write', server: 'cfg', maxBatchPoints: 32, maxDelay: 60, outbox: true, report: false, wires: [] }]);
      const w = helper.getNode(`w-${name}`);
      const good: number[] = [];
      for (let i = 0; i < 32; i++) {
        if (i === 11) {
          w.receive({ topic: bad, payload: i, timestamp: TS + i * 1000 });
        } else {
          w.receive({ topic: `${name}.w`, payload: i, timestamp: TS + i * 1000 });
          good.push(TS + i * 1000);
        }
      }
      await until(async () => (await tally(server.url, `${name}.w`, good)).missing.length === 0, 15000, 'the 31 good points stored');
      const t = await tally(server.url, `${name}.w`, good);
      assert.equal(t.stored, 31);
      assert.equal(t.duplicates, 0);
      assert.deepEqual(await readBack(server.url, bad), []);
      await until(() => errorsOf(w).length > 0, 4000, 'the refusal reported');
      const errs = errorsOf(w);
      assert.equal(errs.length, 1, errs.join('\n'));
      assert.match(errs[0], named ? /metric\[0\]\(name=.*bad\)/ : /EOFException/);
      const refusals = proxy.log.slice(startLog).filter((l) => PUSH.test(l.path) && l.fault === 'status').length;
      assert.ok(refusals >= 2 && refusals <= 2 * Math.log2(32), `${refusals} refused requests to narrow 32 messages down to one`);
    });
  }

  it('connection refused for a while, then accepted: everything delivered', async function () {
    const name = `f${caseNo + 1}`;
    const f = await load(proxy.url);
    await proxy.refuse();
    const sent = sendAll(f, name);
    await until(() => /buffered/.test(statusTexts(f.w).join('\n')) && /buffered/.test(statusTexts(f.b).join('\n')), 5000, 'buffered status');
    await sleep(400);
    assert.equal((await tally(server.url, `${name}.w`, sent.w)).stored, 0);
    await proxy.accept();
    await assertAllStored(server.url, name, sent);
    assert.match(said(f), /delivery failed, \d+ points kept for retry: Cannot reach .*ECONNREFUSED/);
    await stillRunning(f, server.url, name);
  });

  it('the server itself down for a while and restarted on the same port and data directory', async function () {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dataDir = mkdtempSync(join(tmpdir(), 'rel-down-'));
    let s = await startServer({ port: 0, host: '127.0.0.1', dataDir, selfMetrics: false });
    const port = s.port;
    try {
      const name = `f${caseNo + 1}`;
      const f = await load(s.url);
      const first = sendAll(f, `${name}.1`);
      await assertAllStored(s.url, `${name}.1`, first);
      await s.close();
      const second = sendAll(f, `${name}.2`, 200);
      await until(() => /buffered \d+: Cannot reach/.test(statusTexts(f.w).join('\n')), 5000, 'buffered status with reason');
      await sleep(600);
      s = await startServer({ port, host: '127.0.0.1', dataDir, selfMetrics: false });
      await assertAllStored(s.url, `${name}.2`, second);
      // Data written before the outage survived the restart too (same data directory).
      await assertAllStored(s.url, `${name}.1`, first, 1000);
      await stillRunning(f, s.url, name);
    } finally {
      await helper.unload();
      await s.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('DNS failure for the configured host: points wait in the outbox, the error names the host; fixed config delivers them', async function () {
    const name = `f${caseNo + 1}`;
    const id = 'dns';
    const f = await load('http://kairosdb.proficloud-test.invalid:8080', {}, id);
    const sent = sendAll(f, name);
    await until(() => /kairosdb\.proficloud-test\.invalid/.test(said(f)), 8000, 'status naming the host');
    assert.match(said(f), /delivery failed, \d+ points kept for retry: Cannot reach kairosdb\.proficloud-test\.invalid:8080: .*(ENOTFOUND|EAI_AGAIN)/);
    await helper.unload();
    // Same node ids, corrected URL: the outbox written under the broken config is delivered.
    const fixed = await load(server.url, {}, id);
    await assertAllStored(server.url, name, sent);
    await stillRunning(fixed, server.url, name);
  });

  for (const overflow of ['drop-oldest', 'drop-newest'] as const) {
    it(`outbox full during an outage (${overflow}): every point is either delivered or reported, none silently lost`, async function () {
      this.timeout(60_000);
      const name = `f${caseNo + 1}.${overflow}`;
      await helper.load(builtNodes(), [
        cfg(proxy.url),
        { id: `o-${overflow}`, type: 'proficloud-write', server: 'cfg', maxBatchPoints: 10, maxDelay: 0.01, outbox: true, outboxMaxMB: 0.004, overflow, report: false, wires: [] },
      ]);
      const w = helper.getNode(`o-${overflow}`);
      await proxy.refuse();
      const ts = Array.from({ length: 200 }, (_, i) => TS + i * 1000);
      for (const [i, t] of ts.entries()) {
        w.receive({ topic: name, payload: i, timestamp: t });
        // Let appends land one by one so the bound is reached part-way through.
        if (i % 20 === 19) await sleep(5);
      }
      await sleep(300);
      await proxy.accept();
      const dropped = (): number => callsOf(w, 'warn').reduce((n, c) => n + Number(/outbox full: dropped (\d+) points/.exec(String(c.args[0]))?.[1] ?? 0), 0);
      const refused = (): number => callsOf(w, 'error').filter((c) => (c.args[0] as { code?: string }).code === 'EOUTBOXFULL').length;
      // A generous deadline (the retry after the outage may wait out a backoff step on a busy machine); a
      // timeout names the counts, so a point neither stored nor reported shows as a shortfall.
      let last = { stored: 0, dropped: 0, refused: 0 };
      await until(
        async () => {
          last = { stored: (await tally(server.url, name, ts)).stored, dropped: dropped(), refused: refused() };
          return last.stored + last.dropped + last.refused === ts.length;
        },
        30_000,
        'stored + reported = sent',
      ).catch((e: Error) => {
        throw new Error(`${e.message}: ${JSON.stringify(last)} of ${ts.length}; warnings: ${callsOf(w, 'warn').map((c) => String(c.args[0])).join(' | ')}`);
      });
      const t = await tally(server.url, name, ts);
      assert.equal(t.duplicates, 0);
      assert.ok(t.stored > 0 && t.stored < ts.length, `the bound applied (${t.stored} stored)`);
      if (overflow === 'drop-oldest') {
        assert.ok(dropped() > 0 && refused() === 0);
        assert.ok(!t.missing.includes(ts[ts.length - 1]), 'the newest point survives');
      } else {
        assert.ok(refused() > 0 && dropped() === 0);
        assert.ok(!t.missing.includes(ts[0]), 'the oldest point survives');
        const e = callsOf(w, 'error').find((c) => (c.args[0] as { code?: string }).code === 'EOUTBOXFULL')!;
        assert.equal((e.args[1] as { topic?: string }).topic, name, 'the refusal carries the message');
      }
    });
  }

  describe('query node: broken answers are errors, never crashes; the next query works', function () {
    const faults: Array<{ title: string; fault: Fault; code: string }> = [
      { title: 'truncated JSON', fault: { kind: 'truncate' }, code: 'EPARSE' },
      { title: 'malformed JSON (an HTML page with status 200)', fault: { kind: 'malformed' }, code: 'EPARSE' },
      { title: 'connection reset in the middle of the body', fault: { kind: 'reset-mid' }, code: 'ENETWORK' },
      { title: 'HTTP 503 with Retry-After', fault: { kind: 'status', status: 503, retryAfter: '5' }, code: 'EHTTP' },
      { title: 'a response that never comes', fault: { kind: 'hang' }, code: 'ETIMEOUT' },
    ];
    for (const c of faults) {
      it(`${c.title} -> node.error with code ${c.code}`, async function () {
        await helper.load(builtNodes(), [
          cfg(proxy.url, { timeout: 0.5 }),
          { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'fq.m', metricsType: 'str', start: '0', startType: 'str', output: 'rows', wires: [['qout']] },
          { id: 'qout', type: 'helper' },
        ]);
        const got = collect(helper.getNode('qout'));
        await fetch(`${server.url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: 'fq.m', tags: { a: 'b' }, datapoints: Array.from({ length: 50 }, (_, i) => [TS + i, i]) }]) });
        const q = helper.getNode('q');
        proxy.next(c.fault, 1, QUERY);
        q.receive({ payload: 'first', start: TS - 1 });
        await until(() => callsOf(q, 'error').length === 1, 5000, 'the error');
        const err = callsOf(q, 'error')[0];
        assert.equal((err.args[0] as { code?: string }).code, c.code, String((err.args[0] as Error).message));
        assert.equal((err.args[1] as { payload?: unknown }).payload, 'first', 'the error carries the message that caused it');
        assert.equal(got.length, 0);
        q.receive({ payload: 'second', start: TS - 1 });
        await until(() => got.length === 1, 5000, 'the next answer');
        assert.equal((got[0].payload as unknown[]).length, 50);
      });
    }
  });
});
