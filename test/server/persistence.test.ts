// The data directory: answered pushes survive a restart (log replay and snapshot), deletes and
// metadata too, and a torn last log record after a crash is dropped instead of failing the start.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer } from '../../src/server';
import { DataDir } from '../../src/server/persist';
import { MetadataStore } from '../../src/server/metadata';
import { Store } from '../../src/server/store';
import { post, query, request, T0 } from './helpers';

async function values(url: string, name: string): Promise<unknown> {
  const r = JSON.parse((await post(`${url}/api/v1/datapoints/query`, query([{ name }]))).text);
  return r.queries[0].results.map((x: { values: unknown }) => x.values);
}

describe('server: persistence', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kairos-data-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('keeps pushed points, types, deletes and metadata across a clean restart (snapshot)', async () => {
    const a = await startServer({ dataDir: dir, selfMetrics: false });
    await post(`${a.url}/api/v1/datapoints`, '[{"name":"m","tags":{"h":"1"},"datapoints":[[' + T0 + ',1],[' + (T0 + 1) + ',2.0],[' + (T0 + 2) + ',"x"]]}]');
    await post(`${a.url}/api/v1/datapoints`, '[{"name":"big","tags":{"h":"1"},"datapoints":[[' + T0 + ',9007199254740993]]}]');
    await post(`${a.url}/api/v1/datapoints`, [{ name: 'gone', tags: { h: '1' }, datapoints: [[T0, 1]] }]);
    await request(`${a.url}/api/v1/metric/gone`, 'DELETE');
    await request(`${a.url}/api/v1/metadata/s/k/key`, 'POST', 'v');
    await a.close();
    assert.ok(fs.existsSync(path.join(dir, 'snapshot.jsonl')));
    assert.equal(fs.statSync(path.join(dir, 'wal.jsonl')).size, 0, 'close folds the log into the snapshot');

    const b = await startServer({ dataDir: dir, selfMetrics: false });
    try {
      assert.deepEqual(await values(b.url, 'm'), [[[T0, 1], [T0 + 1, 2]], [[T0 + 2, 'x']]]);
      const types = b.store.seriesOf('m').map((s) => s.type).sort();
      assert.deepEqual(types, ['double', 'long', 'string'], '2.0 stays a double series');
      assert.deepEqual(b.store.metricNames(), ['big', 'm']);
      const big = (await post(`${b.url}/api/v1/datapoints/query`, query([{ name: 'big' }]))).text;
      assert.ok(big.includes('[1767225600000,9007199254740993]'), big);
      assert.equal(b.metadata.get('s', 'k', 'key'), 'v');
    } finally {
      await b.close();
    }
  });

  it('replays the log when the process died without closing, dropping a torn last record', async () => {
    const a = await startServer({ dataDir: dir, selfMetrics: false });
    await post(`${a.url}/api/v1/datapoints`, [{ name: 'm', tags: { h: '1' }, datapoints: [[T0, 1]] }]);
    await post(`${a.url}/api/v1/datapoints`, [{ name: 'm', tags: { h: '1' }, datapoints: [[T0 + 1, 2]] }]);
    await post(`${a.url}/api/v1/datapoints/delete`, { start_absolute: T0, end_absolute: T0, metrics: [{ name: 'm' }] });
    // Simulate a crash: copy the log as it is now (the answered writes are in it), then add half a record.
    const log = fs.readFileSync(path.join(dir, 'wal.jsonl'));
    await a.close();
    fs.rmSync(path.join(dir, 'snapshot.jsonl'));
    fs.writeFileSync(path.join(dir, 'wal.jsonl'), Buffer.concat([log, Buffer.from('{"p":[["m",{"h":"1"},"long",[' + (T0 + 5) + '],[9')]));

    const b = await startServer({ dataDir: dir, selfMetrics: false });
    try {
      assert.deepEqual(await values(b.url, 'm'), [[[T0 + 1, 2]]]);
      assert.equal(fs.statSync(path.join(dir, 'wal.jsonl')).size, log.length, 'the torn tail is cut off');
      await post(`${b.url}/api/v1/datapoints`, [{ name: 'm', tags: { h: '1' }, datapoints: [[T0 + 3, 3]] }]);
    } finally {
      await b.close();
    }
    const c = await startServer({ dataDir: dir, selfMetrics: false });
    try {
      assert.deepEqual(await values(c.url, 'm'), [[[T0 + 1, 2], [T0 + 3, 3]]]);
    } finally {
      await c.close();
    }
  });

  it('compacts into a snapshot when the log outgrows its limit', async () => {
    const store = new Store();
    const d = new DataDir(dir, store, new MetadataStore(), 100);
    d.open();
    for (let i = 0; i < 5; i++) {
      store.write({ metric: 'm', tags: { h: '1' }, type: 'long', ts: [i], vs: [i] });
      await d.append({ p: [['m', { h: '1' }, 'long', [i], [i]]] });
    }
    assert.ok(fs.statSync(path.join(dir, 'wal.jsonl')).size < 100);
    assert.ok(fs.existsSync(path.join(dir, 'snapshot.jsonl')));
    await d.close();
    const again = new Store();
    new DataDir(dir, again, new MetadataStore()).open();
    assert.deepEqual(again.seriesOf('m')[0].ts, [0, 1, 2, 3, 4]);
  });
});
