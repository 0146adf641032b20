import assert from 'node:assert/strict';
import sinon from 'sinon';
import { startServer, type LocalServer } from '../../src/server/index';
import { UiChartModel } from '../helpers/ui-chart-model';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callsOf, errorsOf, helper, kairos, lastStatus, loadWithOutput, seed, until, useNodeRed, useNodeRedAndKairos, userDir } from './harness';

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
    // State files of an earlier test describe other data.
    rmSync(join(userDir, 'proficloud-stream'), { recursive: true, force: true });
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

  it('chart output replaces first, then appends [{series, x, y}]; series output sends one message per series', async function () {
    const t = Date.now() - 1000;
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t, 7]] }, { name: 's.p', tags: { a: 'b' }, datapoints: [[t, 8]] }]);
    const chart = await load(streamNode({ output: 'chart' }));
    await until(() => chart.length === 1);
    assert.equal(chart[0].action, 'replace');
    assert.deepEqual(chart[0].payload, [{ series: 's.temp', x: t, y: 7 }]);
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t + 500, 9]] }]);
    await until(() => chart.length === 2);
    assert.equal(chart[1].action, 'append');
    assert.deepEqual(chart[1].payload, [{ series: 's.temp', x: t + 500, y: 9 }]);
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

  it('without an interval in its config it polls every 10000 ms, as the editor says (issue 12)', async function () {
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[Date.now() - 1000, 1]] }]);
    const node = streamNode();
    delete node.interval;
    const got = await load(node);
    const s = helper.getNode('s');
    await until(() => got.length === 1);
    assert.deepEqual(errorsOf(s), []);
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[Date.now() - 500, 2]] }]);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(got.length, 1, 'the next poll is ten seconds away');
  });

  it('toggle stops a running stream and starts a stopped one (the stop/start button of the end-to-end example)', async function () {
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[Date.now() - 1000, 1]] }]);
    const got = await load(streamNode());
    const s = helper.getNode('s');
    await until(() => got.length === 1);
    s.receive({ payload: 'toggle' });
    await until(() => lastStatus(s).text === 'stopped');
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[Date.now() - 500, 2]] }]);
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(got.length, 1, 'stopped: no polls');
    s.receive({ payload: 'toggle' });
    await until(() => got.length === 2);
    assert.deepEqual(values(got), [1, 2]);
  });

  it('an outage: one error per distinct cause (Catch sees it start), the reason in the status, backoff, and one msg.recovered error when polling works again', async function () {
    const got = await load(streamNode({ interval: 100 }));
    const s = helper.getNode('s');
    await until(() => lastStatus(s).fill === 'green');
    const port = server.port;
    await server.close();
    await until(() => callsOf(s, 'error').length >= 1, 5000, 'poll error');
    const [err, msg] = callsOf(s, 'error')[0].args as [{ code: string }, { topic: string; _msgid: string }];
    assert.equal(err.code, 'ENETWORK');
    assert.equal(msg.topic, 'poll');
    assert.ok(msg._msgid);
    // The connection check's answer may land after the first failed poll; the next failure turns the status red again.
    await until(() => lastStatus(s).fill === 'red', 10_000, 'red status');
    assert.match(String(lastStatus(s).text), /ENETWORK/);
    await new Promise((r) => setTimeout(r, 1500));
    // Several failed polls (with backoff), one error: the cause did not change.
    assert.equal(callsOf(s, 'error').length, 1, errorsOf(s).join('\n'));
    assert.equal(got.length, 0);
    server = await startServer({ port, host: '127.0.0.1', selfMetrics: false });
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[Date.now() - 100, 1]] }]);
    await until(() => callsOf(s, 'error').length === 2, 8000, 'recovery report');
    const [text, rec] = callsOf(s, 'error')[1].args as [string, { recovered: boolean; failures: number; topic: string }];
    assert.match(String(text), /polling recovered after \d+ failures? in/);
    assert.equal(rec.recovered, true);
    assert.ok(rec.failures >= 2, `failures ${rec.failures}`);
    assert.equal(lastStatus(s).fill, 'green');
    assert.equal(values(got).length, 1);
  });

  it('keeps its position in a state file in the user directory, written after each poll, and resumes from it', async function () {
    const t = Date.now() - 1000;
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t, 4]] }]);
    const got = await load(streamNode({ persist: true }));
    await until(() => got.length === 1);
    const file = join(userDir, 'proficloud-stream', 's.json');
    await until(() => existsSync(file));
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { version: number; key: string; position: { version: number; series: Record<string, { last: number }> } };
    assert.equal(saved.version, 1);
    assert.equal(saved.position.version, 2, 'with the late-data bookkeeping (horizon 1 h by default)');
    assert.equal(saved.position.series['s.temp'].last, t);
    // The marker goes right after the state file is in place.
    await until(() => !existsSync(join(userDir, 'proficloud-stream', 's.inflight')), 2000, 'no send in flight');
    // The next deploy resumes from the file: nothing is sent again.
    await helper.unload();
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t + 100, 5]] }]);
    const again = await load(streamNode({ persist: true }));
    await until(() => again.length === 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(values(again), [5]);
  });

  it('a redeploy while a poll writes its in-flight marker loses nothing: the poll is undone and its points come after the redeploy', async function () {
    // The built state file (the one the built node loads): its marker write is held until the flow is closing.
    const { StateFile } = require(join(__dirname, '..', '..', 'dist', 'src', 'stream', 'state-file.js')) as typeof import('../../src/stream/state-file');
    const t = Date.now() - 1000;
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t, 1]] }]);
    let release: (() => void) | undefined;
    const original = StateFile.prototype.beginSend;
    const stub = sinon.stub(StateFile.prototype, 'beginSend').callsFake(async function (this: InstanceType<typeof StateFile>, end: number) {
      await new Promise<void>((r) => (release = r));
      return original.call(this, end);
    });
    try {
      const got = await load(streamNode({ persist: true }));
      await until(() => release !== undefined, 10_000, 'a poll writing its marker');
      const closing = helper.unload();
      // stop() aborts the poll while the marker is written; then the write finishes.
      await new Promise((r) => setTimeout(r, 100));
      release!();
      await closing;
      assert.deepEqual(values(got), [], 'nothing went out to the closing flow');
    } finally {
      stub.restore();
    }
    const again = await load(streamNode({ persist: true }));
    await until(() => values(again).length === 1, 10_000, "the undone poll's point after the redeploy");
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(values(again), [1]);
    assert.equal(again[0].repeated, undefined, 'not marked repeated: it never went out');
  });

  it('after a crash during a send (in-flight marker left), the points of that poll come again in msg.repeated messages, newer ones unmarked', async function () {
    const t = Date.now() - 5000;
    await seed(server.url, [{ name: 's.temp', tags: { a: 'b' }, datapoints: [[t, 1], [t + 1000, 2], [t + 2000, 3], [t + 3000, 4]] }]);
    // The committed state knows t; the crashed poll was sending up to t + 2000 when the process died.
    const dir = join(userDir, 'proficloud-stream');
    mkdirSync(dir, { recursive: true });
    const position = { version: 1, series: { 's.temp': { last: t, floor: t - 2000, seen: [t] } } };
    writeFileSync(join(dir, 's.json'), JSON.stringify({ version: 1, key: JSON.stringify({ server: 'cfg', metrics: ['s.temp'], tags: null, endpointIds: [] }), position }));
    writeFileSync(join(dir, 's.inflight'), JSON.stringify({ end: t + 2000 }));
    const got = await load(streamNode({ persist: true, output: 'series' }));
    await until(() => got.length >= 2);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      got.map((m) => [m.repeated === true, (m.payload as Array<[number, number]>).map((p) => p[1])]),
      [
        [true, [2, 3]],
        [false, [4]],
      ],
    );
    assert.equal(existsSync(join(dir, 's.inflight')), false, 'the marker is gone once the poll is committed');
  });

  it('reports a bad configuration (no metrics, bad window) instead of polling', async function () {
    await load(streamNode({ metrics: ' ', window: 'forever' }));
    const s = helper.getNode('s');
    await until(() => callsOf(s, 'error').length === 1);
    assert.match(errorsOf(s)[0], /metrics/);
    assert.equal(lastStatus(s).fill, 'red');
  });
});

describe('proficloud-stream node: late data', function () {
  // One server for the suite: its tests use metrics of their own.
  const env = useNodeRedAndKairos();

  it('a point written 5 minutes late is emitted once, in its own message with msg.late = true (rows and series)', async function () {
    for (const output of ['rows', 'series']) {
      const now = Date.now();
      const metric = `late.${output}`;
      await seed(env.server.url, [{ name: metric, tags: { a: 'b' }, datapoints: [[now - 1000, 1]] }]);
      const got = await loadWithOutput(env.server.url, streamNode({ metrics: metric, lateCheck: 0.2, output, window: '10m' }));
      const points = (): Array<[number, unknown, boolean]> =>
        got.flatMap((m) =>
          output === 'rows'
            ? (m.payload as Array<Record<string, unknown>>).map((r): [number, unknown, boolean] => [r.Timestamp as number, r[metric], m.late === true])
            : (m.payload as Array<[number, unknown]>).map(([t, v]): [number, unknown, boolean] => [t, v, m.late === true]),
        );
      await until(() => points().length === 1);
      await seed(env.server.url, [{ name: metric, tags: { a: 'b' }, datapoints: [[now - 300_000, 2]] }]);
      await until(() => points().length === 2, 6000, 'the late point');
      await new Promise((r) => setTimeout(r, 600));
      assert.deepEqual(points(), [[now - 1000, 1, false], [now - 300_000, 2, true]]);
      await helper.unload();
    }
  });

  it('horizon 0 is the old behaviour: the late point is not emitted', async function () {
    const now = Date.now();
    await seed(env.server.url, [{ name: 'late.off', tags: { a: 'b' }, datapoints: [[now - 1000, 1]] }]);
    const got = await loadWithOutput(env.server.url, streamNode({ metrics: 'late.off', lateCheck: 0.2, horizon: '0', window: '10m' }));
    await until(() => got.length === 1);
    await seed(env.server.url, [{ name: 'late.off', tags: { a: 'b' }, datapoints: [[now - 300_000, 2]] }]);
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(got.length, 1);
  });
});

describe('proficloud-stream node: a ui-chart fed by the chart output stays true across deploys', function () {
  // One server for the suite: its tests use metrics of their own.
  const env = useNodeRedAndKairos();

  it('five deploys, new and late points between them: each point once, no line backwards, first message after each deploy a replace', async function () {
    const chart = new UiChartModel();
    const metric = 'chart.deploys';
    const base = Date.now() - 60_000;
    const written: number[] = [];
    let n = 0;
    const write = async (ts: number): Promise<void> => {
      written.push(ts);
      await seed(env.server.url, [{ name: metric, tags: { a: 'b' }, datapoints: [[ts, n++]] }]);
    };
    for (let i = 0; i < 3; i++) await write(base + i * 1000);
    for (let deploy = 0; deploy < 5; deploy++) {
      const got = await loadWithOutput(env.server.url, streamNode({ metrics: metric, output: 'chart', window: '10m', lateCheck: 0.2 }));
      await until(() => got.length >= 1, 4000, 'first chart message');
      assert.equal(got[0].action, 'replace', `deploy ${deploy}: first message replaces`);
      await write(Date.now() - 100);
      // A late point: older than points already drawn.
      await write(base + 500 + deploy * 1000);
      await until(() => written.every((ts) => got.some((m) => (m.payload as Array<{ x: number }>).some((p) => p.x === ts)) || chart.has(metric, ts)), 6000, 'points drawn');
      await new Promise((r) => setTimeout(r, 300));
      await helper.unload();
      for (const m of got) chart.feed(m);
      assert.deepEqual(chart.duplicates, []);
      assert.deepEqual(chart.backwards, []);
    }
    for (const ts of written) assert.ok(chart.has(metric, ts), `point ${ts} drawn`);
    assert.equal(chart.lines.get(metric)!.length, written.length);
  });

  it('window mode replaces on every poll', async function () {
    await seed(env.server.url, [{ name: 'chart.win', tags: { a: 'b' }, datapoints: [[Date.now() - 1000, 1]] }]);
    const got = await loadWithOutput(env.server.url, streamNode({ metrics: 'chart.win', output: 'chart', mode: 'window' }));
    await until(() => got.length >= 3);
    assert.deepEqual(got.slice(0, 3).map((m) => m.action), ['replace', 'replace', 'replace']);
    const chart = new UiChartModel();
    got.forEach((m) => chart.feed(m));
    assert.deepEqual(chart.duplicates, []);
  });
});

describe('proficloud-stream node: catch-up in bounded messages', function () {
  // One server for the suite: its tests use metrics of their own.
  const env = useNodeRedAndKairos();

  it('250,000 points in the window come in messages of at most 100,000 points, each point once', async function () {
    this.timeout(120000);
    const now = Date.now();
    const n = 250_000;
    const start = now - 2_500_000;
    for (let from = 0; from < n; from += 50_000) {
      const datapoints: Array<[number, number]> = [];
      for (let i = from; i < from + 50_000; i++) datapoints.push([start + i * 10, i]);
      await seed(env.server.url, [{ name: 'big.m', tags: { a: 'b' }, datapoints }]);
    }
    const got = await loadWithOutput(env.server.url, streamNode({ metrics: 'big.m', window: '1h', interval: 1000 }));
    await until(() => got.reduce((k, m) => k + (m.payload as unknown[]).length, 0) >= n, 100000, 'all points');
    const sizes = got.map((m) => (m.payload as unknown[]).length);
    assert.ok(got.length >= 3, `messages: ${sizes.join(', ')}`);
    assert.ok(Math.max(...sizes) <= 100_000, `message sizes ${sizes.join(', ')}`);
    const seen = new Set<number>();
    for (const m of got) for (const r of m.payload as Array<Record<string, number>>) seen.add(r['big.m']);
    assert.equal(seen.size, n);
  });
});
