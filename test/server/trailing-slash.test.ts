import assert from 'node:assert/strict';
import { startServer, type LocalServer } from '../../src/server';

describe('server: trailing slash on API paths', () => {
  let server: LocalServer;
  before(async () => {
    server = await startServer({ port: 0, selfMetrics: false });
  });
  after(() => server.close());

  it('answers /api/v1/datapoints/query/ like /api/v1/datapoints/query (the Proficloud presets add the slash)', async () => {
    const push = await fetch(`${server.url}/api/v1/datapoints/`, {
      method: 'POST',
      body: JSON.stringify([{ name: 'slash.m', tags: { h: 'a' }, datapoints: [[1000, 1.5]] }]),
    });
    assert.equal(push.status, 204);
    const body = JSON.stringify({ start_absolute: 1, end_absolute: 5000, metrics: [{ name: 'slash.m' }] });
    const withSlash = await fetch(`${server.url}/api/v1/datapoints/query/`, { method: 'POST', body });
    const without = await fetch(`${server.url}/api/v1/datapoints/query`, { method: 'POST', body });
    assert.equal(withSlash.status, 200);
    assert.deepEqual(await withSlash.json(), await without.json());
  });

  it('still answers 404 for unknown paths with a slash', async () => {
    const r = await fetch(`${server.url}/api/v1/nothing/`);
    assert.equal(r.status, 404);
  });
});
