import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../../src/server/index';
import { FaultProxy } from '../reliability/fault-proxy';
import { builtNodes, callsOf, configNode, errorsOf, helper, kairos, lastStatus, loadWithOutput, readBack, until, useNodeRedAndKairos, userDir } from './harness';

const TS = Date.UTC(2024, 4, 1, 12, 0, 0);

function writeNode(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'w', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 100, maxDelay: 0.05, outbox: false, report: true, outputs: 1, wires: [['out']], ...extra };
}

describe('proficloud-write node', function () {
  const env = useNodeRedAndKairos();

  function load(w: Record<string, unknown>, cfgExtra: Record<string, unknown> = {}, url = env.server.url): Promise<Array<Record<string, unknown>>> {
    return loadWithOutput(url, w, cfgExtra);
  }

  it('writes {metric: value} at msg.timestamp with msg.tags merged over default tags, and reports the write', async function () {
    const reports = await load(writeNode(), { defaultTags: 'site=plant1, line=1' });
    helper.getNode('w').receive({ payload: { 'w1.temp': 21.5, 'w1.on': true }, timestamp: new Date(TS).toISOString(), tags: { line: '2' } });
    await until(() => reports.length > 0);
    const r = reports[0].payload as { written: number; rejected: number; errors: string[] };
    assert.equal(r.written, 2);
    assert.equal(r.rejected, 0);
    assert.deepEqual(await readBack(env.server.url, 'w1.temp', { site: ['plant1'], line: ['2'] }), [[TS, 21.5]]);
    assert.deepEqual(await readBack(env.server.url, 'w1.on'), [[TS, 1]]);
    // Any status, not the last: the config node's connection check may answer after the write on a busy machine.
    const statuses = callsOf(helper.getNode('w'), 'status').map((c) => String((c.args[0] as { text?: string }).text));
    assert.ok(statuses.some((t) => /wrote 2/.test(t)), `status shows the write: ${statuses.join(' | ')}`);
  });

  it('writes a single value named by msg.topic, timestamp in the config time zone', async function () {
    const reports = await load(writeNode(), { timeZone: 'Europe/Berlin' });
    helper.getNode('w').receive({ topic: 'w2.level', payload: 7, timestamp: '2024-05-01 14:00:00' });
    await until(() => reports.length > 0);
    assert.deepEqual(await readBack(env.server.url, 'w2.level'), [[TS, 7]]);
  });

  it('coalesces several messages into one request', async function () {
    const reports = await load(writeNode({ maxBatchPoints: 1000, maxDelay: 0.3 }));
    const w = helper.getNode('w');
    for (let i = 0; i < 5; i++) w.receive({ topic: 'w3.n', payload: i, timestamp: TS + i });
    await until(() => reports.reduce((n, m) => n + (m.payload as { written: number }).written, 0) === 5);
    assert.equal(reports.length, 1);
    assert.equal((reports[0].payload as { requests: number }).requests, 1);
    assert.equal((await readBack(env.server.url, 'w3.n')).length, 5);
  });

  it('bad values are reported naming metric and value; valid metrics of the same message are still written', async function () {
    const reports = await load(writeNode());
    const w = helper.getNode('w');
    w.receive({ payload: { 'w4.good': 1, 'w4.nan': Number.NaN, 'w4.obj': { a: 1 } }, timestamp: TS });
    await until(() => reports.length > 0 && callsOf(w, 'error').length >= 2);
    const errs = errorsOf(w).join('\n');
    assert.match(errs, /w4\.nan.*NaN/);
    assert.match(errs, /w4\.obj.*object/);
    assert.deepEqual(await readBack(env.server.url, 'w4.good'), [[TS, 1]]);
    assert.equal((reports[0].payload as { written: number }).written, 1);
  });

  it('rejects wrong payload types, a missing topic and unparseable timestamps with field names', async function () {
    const reports = await load(writeNode());
    const w = helper.getNode('w');
    w.receive({ payload: 5 });
    w.receive({ payload: [1, 2] });
    w.receive({ topic: 'w5.x', payload: 1, timestamp: 'not a time' });
    w.receive({ payload: {} });
    w.receive({ topic: 'w5.x', payload: 1, tags: 'oops' });
    await until(() => callsOf(w, 'error').length === 5);
    const errs = errorsOf(w).join('\n');
    assert.match(errs, /msg\.topic.*single value 5/);
    assert.match(errs, /msg\.payload.*array\(2\)/);
    assert.match(errs, /msg\.timestamp.*"not a time"/);
    assert.match(errs, /msg\.payload.*no metrics/);
    assert.match(errs, /msg\.tags/);
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(reports.length, 0);
    assert.deepEqual(await readBack(env.server.url, 'w5.x'), []);
  });

  it('refuses read-only services with EREADONLY', async function () {
    await helper.load(builtNodes(), [
      { id: 'cfg', type: 'proficloud-config', service: 'tsd', environment: 'custom', urls: env.server.url, authMode: 'token' },
      writeNode(),
      { id: 'out', type: 'helper' },
    ], { cfg: { token: Buffer.from('acc:pw').toString('base64') } });
    const w = helper.getNode('w');
    w.receive({ topic: 'x', payload: 1 });
    await until(() => callsOf(w, 'error').length === 1);
    assert.equal((callsOf(w, 'error')[0].args[0] as { code: string }).code, 'EREADONLY');
  });

  it('status in normal operation: green "wrote N" and blue "sending N", never the yellow of a failure', async function () {
    const reports = await load(writeNode({ outbox: true, maxDelay: 0.03 }));
    const w = helper.getNode('w');
    for (let i = 0; i < 30; i++) {
      w.receive({ topic: 'w7.ok', payload: i, timestamp: TS + i });
      if (i % 3 === 2) await new Promise((r) => setTimeout(r, 20));
    }
    await until(() => reports.reduce((n, m) => n + (m.payload as { written: number }).written, 0) === 30, 8000, 'all written');
    const fills = callsOf(w, 'status').map((c) => c.args[0] as { fill?: string; text?: string });
    const trouble = fills.filter((f) => (f.fill === 'yellow' || f.fill === 'red') && !/status\.connecting$/.test(String(f.text)));
    assert.deepEqual(trouble, [], 'yellow or red without a failure');
    assert.ok(fills.some((f) => f.fill === 'green' && /^wrote \d+$/.test(String(f.text))));
    for (const f of fills.filter((x) => x.fill === 'blue')) assert.match(String(f.text), /^sending \d+$/);
    assert.equal(lastStatus(w).fill, 'green');
  });

  it('status during a hung request keeps counting the backlog (no failure yet, so not yellow)', async function () {
    const proxy = await FaultProxy.start(env.server.url);
    try {
      proxy.next({ kind: 'hang' }, 1, /^\/api\/v1\/datapoints$/);
      await helper.load(builtNodes(), [configNode(proxy.url, { timeout: 60 }), writeNode({ outbox: true, maxDelay: 0.02, report: false })]);
      const w = helper.getNode('w');
      w.receive({ topic: 'w8.hung', payload: 0, timestamp: TS });
      await until(() => proxy.count(/datapoints$/) === 1, 4000, 'the hanging request');
      for (let i = 1; i < 12; i++) {
        w.receive({ topic: 'w8.hung', payload: i, timestamp: TS + i });
        await new Promise((r) => setTimeout(r, 50));
      }
      const statuses = (): Array<{ fill?: string; text?: string }> => callsOf(w, 'status').map((c) => c.args[0] as { fill?: string; text?: string });
      await until(() => statuses().some((st) => st.text === 'sending 12'), 8000, `status "sending 12" (last: ${JSON.stringify(lastStatus(w))})`);
      assert.equal(statuses().find((st) => st.text === 'sending 12')?.fill, 'blue');
      const yellow = callsOf(w, 'status').map((c) => c.args[0] as { fill?: string; text?: string }).filter((f) => f.fill === 'yellow' && !/status\.connecting$/.test(String(f.text)));
      assert.deepEqual(yellow, [], 'no yellow without a failure');
    } finally {
      await helper.unload();
      await proxy.close();
    }
  });

  it('store and forward: buffers on disk while the server is down and delivers when it is back', async function () {
    const down = await kairos();
    const url = down.url;
    const port = down.port;
    await down.close();
    const reports = await load(writeNode({ id: 'w', outbox: true, maxDelay: 0.02 }), {}, url);
    const w = helper.getNode('w');
    w.receive({ topic: 'w6.saf', payload: 3, timestamp: TS });
    // Any status, not the last: the red connection check and the buffered report come in either order.
    await until(() => callsOf(w, 'status').some((c) => /buffered 1/.test(String((c.args[0] as { text?: string }).text))), 10_000, 'buffered status');
    assert.ok(existsSync(join(userDir, 'proficloud-outbox', 'w')), 'outbox directory under userDir');
    const back = await startServer({ port, host: '127.0.0.1', selfMetrics: false });
    try {
      await until(() => reports.length > 0, 15000, 'delivery after outage');
      assert.deepEqual(await readBack(back.url, 'w6.saf'), [[TS, 3]]);
    } finally {
      await helper.unload();
      await back.close();
    }
  });
});
