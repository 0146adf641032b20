import assert from 'node:assert/strict';
import { builtNodes, callsOf, collect, configNode, errorsOf, helper, lastStatus, loadWithOutput, seed, until, useNodeRedAndKairos } from './harness';
import { nodeRedRequire } from '../helpers/node-red-module';

const T0 = Date.UTC(2024, 0, 1, 0, 0, 0);
const MIN = 60_000;

function queryNode(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'temp, pressure', metricsType: 'str',
    start: String(T0), startType: 'num', end: String(T0 + 9 * MIN), endType: 'num', output: 'rows', tsFormat: 'ms',
    dropTrailing: true, order: 'asc', aggMode: 'list', aggregators: [], wires: [['out']], ...extra,
  };
}

describe('proficloud-query node', function () {
  const env = useNodeRedAndKairos();

  before(async function () {
    const temp: Array<[number, number]> = [];
    const pressure: Array<[number, number]> = [];
    for (let i = 0; i < 10; i++) {
      temp.push([T0 + i * MIN, 20 + i]);
      pressure.push([T0 + i * MIN, 1 + i / 10]);
    }
    await seed(env.server.url, [
      { name: 'temp', tags: { line: 'a' }, datapoints: temp },
      { name: 'pressure', tags: { line: 'a' }, datapoints: pressure },
      { name: 'temp', tags: { line: 'b' }, datapoints: [[T0, 99]] },
    ]);
  });

  async function load(q: Record<string, unknown>): Promise<{ got: Array<Record<string, unknown>>; send: (m: Record<string, unknown>) => void }> {
    const got = await loadWithOutput(env.server.url, q);
    // The config node's first probe pushes "connected"; wait for it so it cannot overwrite a later status.
    await until(() => lastStatus(helper.getNode('q')).text === 'node-red:common.status.connected', 3000, 'connected');
    return { got, send: (m) => helper.getNode('q').receive(m) };
  }

  it('rows: one message with row objects and column names, keeping the input msg properties', async function () {
    const { got, send } = await load(queryNode({ tags: 'line=a' }));
    send({ payload: 'go', keep: 42 });
    await until(() => got.length === 1);
    const msg = got[0];
    assert.equal(msg.keep, 42);
    assert.deepEqual(msg.columns, ['Timestamp', 'temp', 'pressure']);
    const rows = msg.payload as Array<Record<string, unknown>>;
    assert.equal(rows.length, 10);
    assert.deepEqual(rows[0], { Timestamp: T0, temp: 20, pressure: 1 });
  });

  it('rows: iso timestamps and newest-first order', async function () {
    const { got, send } = await load(queryNode({ tags: 'line=a', tsFormat: 'iso', order: 'desc' }));
    send({});
    await until(() => got.length === 1);
    const rows = got[0].payload as Array<Record<string, unknown>>;
    assert.equal(rows[0].Timestamp, new Date(T0 + 9 * MIN).toISOString());
    assert.equal(rows[0].temp, 29);
  });

  it('series: one message per series with topic and [ts, value] pairs or {x, y} points', async function () {
    const { got, send } = await load(queryNode({ output: 'series', tags: 'line=a' }));
    send({});
    await until(() => got.length === 2);
    const temp = got.find((m) => m.topic === 'temp')!;
    assert.deepEqual((temp.payload as unknown[])[0], [T0, 20]);
    await helper.unload();
    const xy = await load(queryNode({ output: 'series', pointFormat: 'xy', metrics: 'temp', tags: 'line=a' }));
    xy.send({});
    await until(() => xy.got.length === 1);
    assert.deepEqual((xy.got[0].payload as unknown[])[1], { x: T0 + MIN, y: 21 });
  });

  it('chart: [{series, x, y}] with action replace', async function () {
    const { got, send } = await load(queryNode({ output: 'chart', metrics: 'temp', tags: 'line=a' }));
    send({});
    await until(() => got.length === 1);
    assert.equal(got[0].action, 'replace');
    const points = got[0].payload as Array<{ series: string; x: number; y: number }>;
    assert.equal(points.length, 10);
    assert.deepEqual(points[0], { series: 'temp', x: T0, y: 20 });
  });

  it('raw: the KairosDB response; msg.query sends a raw query body', async function () {
    const { got, send } = await load(queryNode({ output: 'raw' }));
    send({ query: { start_absolute: T0, end_absolute: T0 + MIN, metrics: [{ name: 'temp', tags: { line: ['b'] } }] } });
    await until(() => got.length === 1);
    const raw = got[0].payload as { queries: Array<{ results: Array<{ values: unknown[] }> }> };
    assert.deepEqual(raw.queries[0].results[0].values, [[T0, 99]]);
  });

  it('msg.metrics/start/end/limit/tags override the configuration', async function () {
    const { got, send } = await load(queryNode());
    send({ metrics: ['temp'], start: new Date(T0 + 2 * MIN).toISOString(), end: T0 + 5 * MIN, limit: 2, tags: { line: ['a'] } });
    await until(() => got.length === 1);
    const rows = got[0].payload as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((r) => r.temp), [22, 23]);
  });

  it('aggregators from the editor list (name, sampling, params) are applied', async function () {
    const { got, send } = await load(queryNode({ metrics: 'temp', tags: 'line=a', aggregators: [{ name: 'sum', value: '5', unit: 'minutes', params: '{"align_start_time": true}' }] }));
    send({});
    await until(() => got.length === 1);
    const rows = got[0].payload as Array<Record<string, unknown>>;
    assert.deepEqual(rows.map((r) => r.temp), [20 + 21 + 22 + 23 + 24, 25 + 26 + 27 + 28 + 29]);
  });

  it('raw JSON aggregators and msg.aggregators work too', async function () {
    const { got, send } = await load(queryNode({ metrics: 'temp', tags: 'line=a', aggMode: 'json', aggJson: '[{"name":"max","sampling":{"value":10,"unit":"minutes"}}]' }));
    send({});
    await until(() => got.length === 1);
    assert.deepEqual((got[0].payload as Array<Record<string, unknown>>).map((r) => r.temp), [29]);
    send({ aggregators: [{ name: 'min', sampling: { value: 10, unit: 'minutes' } }] });
    await until(() => got.length === 2);
    assert.deepEqual((got[1].payload as Array<Record<string, unknown>>).map((r) => r.temp), [20]);
  });

  it('paged: one message per page with msg.parts {id, index, count}', async function () {
    const { got, send } = await load(queryNode({ metrics: 'temp', tags: 'line=a', paged: true, pageSize: '4 minutes' }));
    send({});
    await until(() => got.length === 3);
    const parts = got.map((m) => m.parts as { id: string; index: number; count: number });
    assert.deepEqual(parts.map((p) => [p.index, p.count]), [[0, 3], [1, 3], [2, 3]]);
    assert.equal(new Set(parts.map((p) => p.id)).size, 1);
    const all = got.flatMap((m) => (m.payload as Array<Record<string, unknown>>).map((r) => r.temp));
    assert.deepEqual(all, [20, 21, 22, 23, 24, 25, 26, 27, 28, 29]);
  });

  it('paged on demand: first page at once, the next on msg.next, error when none waits', async function () {
    const { got, send } = await load(queryNode({ metrics: 'temp', tags: 'line=a', paged: true, pageSize: '5m', onDemand: true }));
    send({});
    await until(() => got.length === 1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 1);
    send({ next: true });
    await until(() => got.length === 2);
    assert.deepEqual((got[1].parts as { index: number }).index, 1);
    send({ next: true });
    const q = helper.getNode('q');
    await until(() => callsOf(q, 'error').length === 1);
    assert.match(errorsOf(q)[0], /msg\.next.*no paged query is waiting/);
  });

  it('bad input: missing metric names, unparseable start, bad limit, NaN end — each names field and value', async function () {
    const { got, send } = await load(queryNode({ metrics: '' }));
    const q = helper.getNode('q');
    send({});
    send({ metrics: 'temp', start: 'yesterday-ish' });
    send({ metrics: 'temp', limit: -3 });
    send({ metrics: 'temp', end: Number.NaN });
    send({ metrics: [42] });
    await until(() => callsOf(q, 'error').length === 5);
    const errs = errorsOf(q).join('\n');
    assert.match(errs, /metrics: at least one metric name is required/);
    assert.match(errs, /msg\.start.*"yesterday-ish"/);
    assert.match(errs, /msg\.limit.*-3/);
    assert.match(errs, /msg\.end.*NaN/);
    assert.match(errs, /msg\.metrics\[0\].*42/);
    assert.equal(got.length, 0);
    // the node still works after bad input
    send({ metrics: 'temp', tags: { line: 'b' } });
    await until(() => got.length === 1);
  });

  it('server errors reach Catch with code EHTTP and a red status', async function () {
    const { send } = await load(queryNode({ metrics: 'temp', aggMode: 'json', aggJson: '[{"name":"nosuchagg"}]' }));
    const q = helper.getNode('q');
    send({});
    await until(() => callsOf(q, 'error').length === 1);
    const err = callsOf(q, 'error')[0].args[0] as { code?: string };
    assert.ok(err.code === 'EHTTP' || err.code === 'EVALIDATION', String(err.code));
    assert.equal(callsOf(q, 'status').slice(-1)[0].args[0] && (callsOf(q, 'status').slice(-1)[0].args[0] as { fill: string }).fill, 'red');
  });
});

describe('proficloud-query paging with a core join node', function () {
  const env = useNodeRedAndKairos();
  before(async function () {
    await seed(env.server.url, [{ name: 'pj.v', tags: { a: 'b' }, datapoints: Array.from({ length: 6 }, (_, i) => [T0 + i * MIN, i]) }]);
  });

  it('a join node in automatic mode reassembles the pages in order', async function () {
    const join: unknown = nodeRedRequire('@node-red/nodes/core/sequence/17-split.js');
    await helper.load([...builtNodes(), join], [
      { id: 'tab', type: 'tab' },
      configNode(env.server.url),
      queryNode({ z: 'tab', metrics: 'pj.v', start: String(T0), end: String(T0 + 5 * MIN), paged: true, pageSize: '2m', wires: [['j']] }),
      { id: 'j', z: 'tab', type: 'join', mode: 'auto', wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ]);
    const got = collect(helper.getNode('out'));
    helper.getNode('q').receive({});
    await until(() => got.length === 1);
    const pages = got[0].payload as Array<Array<Record<string, unknown>>>;
    assert.equal(pages.length, 3);
    assert.deepEqual(pages.flat().map((r) => r['pj.v']), [0, 1, 2, 3, 4, 5]);
  });
});
