import assert from 'node:assert/strict';
import { callsOf, errorsOf, helper, loadWithOutput, readBack, until, useNodeRedAndKairos } from './harness';

const T0 = Date.UTC(2024, 2, 1, 0, 0, 0);

function batchNode(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'b', type: 'proficloud-batch', server: 'cfg', timestampColumn: 'Timestamp', batchSize: 4, maxRows: 1000, outbox: false, report: true, outputs: 1, wires: [['out']], ...extra };
}

function written(reports: Array<Record<string, unknown>>): number {
  return reports.reduce((n, m) => n + (m.payload as { written: number }).written, 0);
}

describe('proficloud-batch node', function () {
  const env = useNodeRedAndKairos();

  function load(b: Record<string, unknown>, cfgExtra: Record<string, unknown> = { defaultTags: 'site=p1' }): Promise<Array<Record<string, unknown>>> {
    return loadWithOutput(env.server.url, b, cfgExtra);
  }

  it('row objects: every column but the timestamp is a metric, split into requests of the configured size', async function () {
    const reports = await load(batchNode());
    const rows = Array.from({ length: 5 }, (_, i) => ({ Timestamp: T0 + i * 1000, 'b1.a': i, 'b1.b': i * 2 }));
    helper.getNode('b').receive({ payload: rows });
    await until(() => written(reports) === 10);
    const requests = reports.reduce((n, m) => n + (m.payload as { requests: number }).requests, 0);
    assert.ok(requests >= 3, `10 points in requests of 4 need 3 requests, got ${requests}`);
    assert.deepEqual((await readBack(env.server.url, 'b1.b')).map((p) => p[1]), [0, 2, 4, 6, 8]);
  });

  it('custom timestamp column and ISO strings in the config time zone', async function () {
    const reports = await load(batchNode({ timestampColumn: 'time' }), { defaultTags: 'site=p1', timeZone: 'Europe/Berlin' });
    helper.getNode('b').receive({ payload: [{ time: '2024-03-01 01:00:00', 'b2.x': 5 }] });
    await until(() => written(reports) === 1);
    assert.deepEqual(await readBack(env.server.url, 'b2.x'), [[T0, 5]]);
  });

  it('native KairosDB push array', async function () {
    const reports = await load(batchNode());
    helper.getNode('b').receive({ payload: [{ name: 'b3.native', tags: { dev: 'x' }, datapoints: [[T0, 1], [T0 + 1, 2]] }] });
    await until(() => written(reports) === 2);
    assert.deepEqual(await readBack(env.server.url, 'b3.native', { dev: ['x'] }), [[T0, 1], [T0 + 1, 2]]);
  });

  it('CSV text with a header line; numbers parsed, empty cells skipped, semicolon delimiter', async function () {
    const reports = await load(batchNode({ csvDelimiter: ';' }));
    const csv = `Timestamp;b4.t;b4.s\n${T0};1.5;on\n${T0 + 1000};;off\n`;
    helper.getNode('b').receive({ payload: csv, tags: { line: '7' } });
    await until(() => written(reports) === 3);
    assert.deepEqual(await readBack(env.server.url, 'b4.t', { line: ['7'] }), [[T0, 1.5]]);
    assert.deepEqual(await readBack(env.server.url, 'b4.s'), [[T0, 'on'], [T0 + 1000, 'off']]);
  });

  it('invalid cells are reported one by one; the valid cells are written', async function () {
    const reports = await load(batchNode());
    const b = helper.getNode('b');
    b.receive({ payload: [
      { Timestamp: T0, 'b5.v': 1 },
      { Timestamp: 'garbage', 'b5.v': 2 },
      { Timestamp: T0 + 2, 'b5.v': Number.NaN },
      { Timestamp: T0 + 3, 'b5.v': 4 },
    ] });
    await until(() => written(reports) === 2 && callsOf(b, 'error').length >= 2);
    const errs = errorsOf(b);
    assert.equal(errs.length, 2);
    assert.match(errs.join('\n'), /rows\[1\]\.Timestamp.*"garbage"/);
    assert.match(errs.join('\n'), /b5\.v.*NaN/);
    assert.deepEqual((await readBack(env.server.url, 'b5.v')).map((p) => p[1]), [1, 4]);
  });

  it('refuses oversized messages, wrong payload types, CSV without the timestamp column', async function () {
    const reports = await load(batchNode({ maxRows: 3 }));
    const b = helper.getNode('b');
    b.receive({ payload: Array.from({ length: 4 }, (_, i) => ({ Timestamp: T0 + i, 'b6.x': i })) });
    b.receive({ payload: 42 });
    b.receive({ payload: 'a,b\n1,2\n' });
    b.receive({ payload: [] });
    await until(() => callsOf(b, 'error').length === 4);
    const errs = errorsOf(b).join('\n');
    assert.match(errs, /msg\.payload: exceeds the limit of 3 rows.*"4 rows"/);
    assert.match(errs, /msg\.payload.*42/);
    assert.match(errs, /timestamp column "Timestamp"/);
    assert.match(errs, /msg\.payload.*no rows/);
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(reports.length, 0);
    assert.deepEqual(await readBack(env.server.url, 'b6.x'), []);
  });
});
