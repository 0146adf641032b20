// Static-token auth on the KairosDB API, and the proficloud.io emulation: /epts/token (login,
// refresh, expiry) and /epts/data answering the documented shape from uuid-tagged series.
import assert from 'node:assert/strict';
import { startServer, type LocalServer } from '../../src/server';
import { get, post, request, T0 } from './helpers';

describe('server: static token', () => {
  let s: LocalServer;
  const token = 's3cret-token';
  before(async () => {
    s = await startServer({ token, selfMetrics: false });
  });
  after(() => s.close());

  it('refuses the API without the token, with a JSON body that does not echo it', async () => {
    const none = await get(`${s.url}/api/v1/metricnames`);
    assert.equal(none.status, 401);
    assert.deepEqual(JSON.parse(none.text), { errors: ['Unauthorized'] });
    const wrong = await get(`${s.url}/api/v1/metricnames`, { authorization: 'Bearer wrong-token' });
    assert.equal(wrong.status, 401);
    assert.ok(!wrong.text.includes('wrong-token') && !wrong.text.includes(token));
  });

  it('accepts Bearer and Basic forms; health and preflight stay open', async () => {
    assert.equal((await get(`${s.url}/api/v1/metricnames`, { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await get(`${s.url}/api/v1/metricnames`, { authorization: `Basic ${token}` })).status, 200);
    assert.equal((await get(`${s.url}/api/v1/health/check`)).status, 204);
    assert.equal((await request(`${s.url}/api/v1/datapoints`, 'OPTIONS')).status, 200);
  });
});

describe('server: proficloud.io emulation (/epts)', () => {
  let s: LocalServer;
  let clock = T0;
  const user = { username: 'demo@example.com', password: 'pw-123' };
  before(async () => {
    s = await startServer({ oauth: { ...user, accessTtlS: 60 }, now: () => clock, selfMetrics: false });
    await post(`${s.url}/api/v1/datapoints`, [
      { name: 'auto~temp', tags: { uuid: 'dev-1' }, type: 'double', datapoints: [[T0, 21.5], [T0 + 1000, 21.75], [T0 + 2000, 22]] },
      { name: 'auto~temp', tags: { uuid: 'dev-2' }, datapoints: [[T0, 99]] },
      { name: 'auto~state', tags: { uuid: 'dev-1' }, datapoints: [[T0 + 500, 'RUN']] },
    ]);
  });
  after(() => s.close());

  async function login(): Promise<{ access_token: string; refresh_token: string; expires_in: number; refresh_expires_in: number }> {
    const r = await post(`${s.url}/epts/token`, user);
    assert.equal(r.status, 200);
    return JSON.parse(r.text);
  }

  const data = (qs: string, token: string) => get(`${s.url}/epts/data?${qs}`, { authorization: `Bearer ${token}` });

  it('issues tokens for the configured user only', async () => {
    const t = await login();
    assert.equal(t.expires_in, 60);
    assert.ok(t.refresh_expires_in > t.expires_in);
    assert.ok(t.access_token.length >= 20 && t.access_token !== t.refresh_token);
    const bad = await post(`${s.url}/epts/token`, { ...user, password: 'nope' });
    assert.equal(bad.status, 401);
    assert.ok(!bad.text.includes('nope'));
    assert.equal((await post(`${s.url}/epts/token`, 'not json')).status, 400);
  });

  it('answers /epts/data in the proficloud.io shape, both sort orders, inclusive range', async () => {
    const { access_token } = await login();
    const qs = new URLSearchParams({
      uuid: 'dev-1',
      timeSeriesName: 'auto~temp,auto~state',
      fromDate: new Date(T0).toISOString(),
      toDate: new Date(T0 + 1000).toISOString(),
    });
    const r = await data(qs.toString(), access_token);
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), [
      {
        'dev-1': {
          'auto~temp': [
            { timestamp: '2026-01-01T00:00:00.000Z', values: { value: 21.5 } },
            { timestamp: '2026-01-01T00:00:01.000Z', values: { value: 21.75 } },
          ],
        },
      },
      { 'dev-1': { 'auto~state': [{ timestamp: '2026-01-01T00:00:00.500Z', values: { value: 'RUN' } }] } },
    ]);
    qs.set('sort', 'DESC');
    qs.set('timeSeriesName', 'auto~temp');
    const desc = JSON.parse((await data(qs.toString(), access_token)).text);
    assert.deepEqual(
      desc[0]['dev-1']['auto~temp'].map((x: { values: { value: number } }) => x.values.value),
      [21.75, 21.5],
    );
  });

  it('names the bad parameter and value, and refuses missing or expired tokens', async () => {
    const t = await login();
    const bad = await data('uuid=dev-1&timeSeriesName=a&fromDate=yesterday&toDate=2026-01-02T00:00:00Z', t.access_token);
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.text).message, /fromDate.*"yesterday"/);
    assert.equal((await get(`${s.url}/epts/data?uuid=dev-1`)).status, 401);
    clock += 61_000;
    const expired = await data('uuid=dev-1&timeSeriesName=a&fromDate=2026-01-01T00:00:00Z&toDate=2026-01-02T00:00:00Z', t.access_token);
    assert.equal(expired.status, 401);
    // The refresh token outlives the access token and is single-use.
    const r1 = await post(`${s.url}/epts/token`, { refresh_token: t.refresh_token });
    assert.equal(r1.status, 200);
    const fresh = JSON.parse(r1.text);
    assert.equal((await data('uuid=dev-1&timeSeriesName=a&fromDate=2026-01-01T00:00:00Z&toDate=2026-01-02T00:00:00Z', fresh.access_token)).status, 200);
    assert.equal((await post(`${s.url}/epts/token`, { refresh_token: t.refresh_token })).status, 401);
  });

  it('is absent when no oauth user is configured', async () => {
    const plain = await startServer({ selfMetrics: false });
    try {
      assert.equal((await post(`${plain.url}/epts/token`, user)).status, 404);
    } finally {
      await plain.close();
    }
  });
});
