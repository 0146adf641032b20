import assert from 'node:assert/strict';
import type { LocalServer } from '../../src/server/index';
import { callsOf, errorsOf, helper, kairos, lastStatus, loadWithOutput, seed, until, useNodeRed } from './harness';

function streamNode(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 's', type: 'proficloud-stream', server: 'cfg', metrics: 's.temp', interval: 100, window: '1m', mode: 'incremental', output: 'rows', tsFormat: 'ms', autoStart: true, persist: false, wires: [['out']], ...extra };
}

function values(msgs: Array<Record<string, unknown>>, column = 's.temp'): unknown[] {
  return msgs.flatMap((m) => (m.payload as Array<Record<string, unknown>>).map((r) => r[column]));
}

describe('proficloud-stream node', function () {
  let server: LocalServer;

  // A server per test: one test stops it to provoke poll errors. useNodeRed's unload runs before the close.
  useNodeRed();
  beforeEach(async function () {
    server = await kairos();
  });
  afterEach(async function () {
    await server.close();
  });

  async function load(s: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
    return loadWithOutput(server.url, s);
  }

  it('incremental: emits each point once, new points on later polls, status shows time and count', async function () {
    const now = Date.now();
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[now - 3000, 1], [now - 2000, 2]] }]);
    const got = await load(streamNode());
    await until(() => values(got).length === 2);
    assert.deepEqual(values(got), [1, 2]);
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[Date.now() - 100, 3]] }]);
    await until(() => values(got).length === 3);
    await new Promise((r) => setTimeout(r, 350));
    assert.deepEqual(values(got), [1, 2, 3]);
    // The connection check's "connected" may land after a poll on a busy machine; the next poll's status follows it.
    await until(() => /^\d\d:\d\d:\d\d: \d+ points$/.test(String(lastStatus(helper.getNode('s')).text)), 10_000, 'a poll status');
  });

  it('window mode: the whole window on every poll', async function () {
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[Date.now() - 1000, 5]] }]);
    const got = await load(streamNode({ mode: 'window' }));
    await until(() => got.length >= 3);
    assert.deepEqual(values(got.slice(0, 3)), [5, 5, 5]);
  });

  it('chart output appends [{series, x, y}]; series output sends one message per series', async function () {
    const t = Date.now() - 1000;
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t, 7]] }, { name: 's.p', tags: { a: 'b' }, datapoints: [[t, 8]] }]);
    const chart = await load(streamNode({ output: 'chart' }));
    await until(() => chart.length === 1);
    assert.equal(chart[0].action, 'append');
    assert.deepEqual(chart[0].payload, [{ series: 's.temp', x: t, y: 7 }]);
    await helper.unload();
    const series = await load(streamNode({ output: 'series', metrics: 's.temp, s.p' }));
    await until(() => series.length === 2);
    assert.deepEqual(series.map((m) => m.topic).sort(), ['s.p', 's.temp']);
    assert.deepEqual(series.find((m) => m.topic === 's.p')!.payload, [[t, 8]]);
  });

  it('control: start/stop by payload or topic, msg.metrics, msg.interval; bad commands name the field', async function () {
    const t = Date.now() - 1000;
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t, 1]] }, { name: 's.other', tags: { a: 'b' }, datapoints: [[t, 9]] }]);
    const got = await load(streamNode({ autoStart: false }));
    const s = helper.getNode('s');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(got.length, 0, 'no polls before start');
    s.receive({ payload: 'start' });
    await until(() => got.length === 1);
    s.receive({ topic: 'stop' });
    await until(() => lastStatus(s).text === 'stopped');
    s.receive({ metrics: 's.other', interval: 200 });
    s.receive({ payload: 'start' });
    await until(() => values(got, 's.other').length === 1);
    s.receive({ payload: 'jump' });
    s.receive({ interval: -1 });
    s.receive({ metrics: [] });
    await until(() => callsOf(s, 'error').length === 3);
    const errs = errorsOf(s).join('\n');
    assert.match(errs, /msg\.payload.*"jump"/);
    assert.match(errs, /msg\.interval.*-1/);
    assert.match(errs, /msg\.metrics/);
  });

  it('poll errors go to Catch with a synthetic msg and back off instead of hammering', async function () {
    const got = await load(streamNode({ interval: 100 }));
    const s = helper.getNode('s');
    await server.close();
    await until(() => callsOf(s, 'error').length >= 1, 5000, 'poll error');
    const [err, msg] = callsOf(s, 'error')[0].args as [{ code: string }, { topic: string; _msgid: string }];
    assert.equal(err.code, 'ENETWORK');
    assert.equal(msg.topic, 'poll');
    assert.ok(msg._msgid);
    // The connection check's answer may land after the first failed poll; the next failure turns the status red again.
    await until(() => lastStatus(s).fill === 'red', 10_000, 'red status');
    await new Promise((r) => setTimeout(r, 1000));
    // Without backoff 1 s at 100 ms would be ~10 failures; doubling keeps it to a handful.
    assert.ok(callsOf(s, 'error').length <= 5, `errors: ${callsOf(s, 'error').length}`);
    assert.equal(got.length, 0);
    server = await kairos();
  });

  it('remembers its position in node context when configured', async function () {
    const t = Date.now() - 1000;
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t, 4]] }]);
    const got = await load(streamNode({ persist: true }));
    await until(() => got.length === 1);
    const s = helper.getNode('s');
    await until(() => !!s.context().get('position'));
    const pos = s.context().get('position') as { version: number; series: Record<string, { last: number }> };
    assert.equal(pos.version, 1);
    assert.equal(pos.series['s.temp'].last, t);
  });

  it('reports a bad configuration (no metrics, bad window) instead of polling', async function () {
    await load(streamNode({ metrics: ' ', window: 'forever' }));
    const s = helper.getNode('s');
    await until(() => callsOf(s, 'error').length === 1);
    assert.match(errorsOf(s)[0], /metrics/);
    assert.equal(lastStatus(s).fill, 'red');
  });
});
