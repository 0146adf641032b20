// The seed's ProficloudMetrics, MetricsStream and MetricsStreamIO names, against the local server on 127.0.0.1.
import assert from 'node:assert/strict';
import { KairosConnector } from '../../src/kairos/connector';
import { ReadOnlyError, ValidationError } from '../../src/errors';
import { ProficloudIOMetrics } from '../../src/proficloud/proficloud-io';
import { PROFICLOUD_URLS, ProficloudMetrics } from '../../src/proficloud/metrics';
import { startServer, type LocalServer } from '../../src/server/index';
import { MetricsStream, MetricsStreamIO, type PollResult } from '../../src/stream';

const T0 = 1_767_225_600_000;
const DEVICE = '6f1c0a4e-1111-4222-8333-944455556666';
const TOKEN = Buffer.from(`${DEVICE}:pw`).toString('base64');

async function push(url: string, metrics: unknown[]): Promise<void> {
  const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metrics) });
  assert.equal(res.status, 204, await res.text());
}

const pointsOf = (r: PollResult): Array<[string, number, unknown]> => r.series.flatMap((s) => s.values.map(([ts, v]) => [s.column, ts, v] as [string, number, unknown]));

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('seed names: ProficloudMetrics, MetricsStream, MetricsStreamIO', () => {
  let server: LocalServer;
  let connector: KairosConnector;
  let clock = T0 + 10_000;
  const now = (): number => clock;

  before(async () => {
    server = await startServer({ port: 0, host: '127.0.0.1', selfMetrics: false, oauth: { username: 'me@example.com', password: 'io-pw' } });
    connector = new KairosConnector({ baseUrl: server.url });
  });
  after(async () => {
    await connector.close();
    await server.close();
  });

  it('ProficloudMetrics.tsd / .ewima build the TSD (read-only) and EWIMA presets', async () => {
    const tsd = ProficloudMetrics.tsd({ token: TOKEN, environment: 'staging' });
    const ewima = ProficloudMetrics.ewima({ token: TOKEN });
    try {
      assert.deepEqual(tsd.http.baseUrls, [PROFICLOUD_URLS.tsd.staging]);
      assert.deepEqual(ewima.http.baseUrls, [PROFICLOUD_URLS.ewima.production]);
      await assert.rejects(tsd.addMetrics({ a: 1 }, { tags: { h: 'x' } }), ReadOnlyError);
    } finally {
      await tsd.close();
      await ewima.close();
    }
  });

  it('MetricsStream emits each point once, resumes from a saved position and restarts on changeMetrics', async () => {
    await push(server.url, [{ name: 'ms.a', tags: { h: '1' }, datapoints: [[T0, 1], [T0 + 1000, 2]] }, { name: 'ms.b', tags: { h: '1' }, datapoints: [[T0, 7]] }]);
    const got: PollResult[] = [];
    const stream = new MetricsStream({ connector, metrics: 'ms.a', intervalMs: 1000, windowMs: 60_000, now, onData: (r) => void got.push(r) });
    await stream.pollOnce();
    assert.deepEqual(pointsOf(got[0]), [['ms.a', T0, 1], ['ms.a', T0 + 1000, 2]]);

    await stream.pollOnce();
    assert.equal(got.length, 1, 'a poll without new points calls nothing');

    await push(server.url, [{ name: 'ms.a', tags: { h: '1' }, datapoints: [[T0 + 11_000, 3]] }]);
    clock = T0 + 12_000;
    await stream.pollOnce();
    assert.deepEqual(pointsOf(got[1]), [['ms.a', T0 + 11_000, 3]]);

    // A second stream resuming from the first one's position repeats nothing.
    const resumed: PollResult[] = [];
    const again = new MetricsStream({ connector, metrics: ['ms.a'], intervalMs: 1000, windowMs: 60_000, now, position: stream.position, onData: (r) => void resumed.push(r) });
    await again.pollOnce();
    assert.equal(resumed.length, 0);

    stream.changeMetrics(['ms.b']);
    await stream.pollOnce();
    assert.deepEqual(pointsOf(got[2]), [['ms.b', T0, 7]]);
  });

  it('MetricsStream window mode re-sends the whole window, as the seed did', async () => {
    await push(server.url, [{ name: 'mw.a', tags: { h: '1' }, datapoints: [[T0 + 500, 5]] }]);
    const got: PollResult[] = [];
    const stream = new MetricsStream({ connector, metrics: 'mw.a', mode: 'window', intervalMs: 1000, windowMs: 60_000, now, onData: (r) => void got.push(r) });
    await stream.pollOnce();
    await stream.pollOnce();
    assert.deepEqual(got.map(pointsOf), [[['mw.a', T0 + 500, 5]], [['mw.a', T0 + 500, 5]]]);
  });

  it('MetricsStream runs on its interval, reports failures through onError and lastError, and stops', async () => {
    const errors: unknown[] = [];
    const down = new KairosConnector({ baseUrl: 'http://127.0.0.1:1', timeoutMs: 1000 });
    const failing = new MetricsStream({ connector: down, metrics: 'x', intervalMs: 100, windowMs: 60_000, onData: () => undefined, onError: (e) => errors.push(e) });
    failing.start();
    try {
      await until(() => errors.length >= 1, 3000, 'a poll failure');
      assert.equal((errors[0] as { code?: string }).code, 'ENETWORK');
      assert.equal(failing.lastError, errors[0]);
      assert.equal(failing.isRunning, true, 'keeps going after an error');
    } finally {
      await failing.stop();
      await down.close();
    }
    assert.equal(failing.isRunning, false);

    await push(server.url, [{ name: 'mr.a', tags: { h: '1' }, datapoints: [[T0 + 100, 1]] }]);
    const got: PollResult[] = [];
    const live = new MetricsStream({ connector, metrics: 'mr.a', intervalMs: 50, windowMs: 60_000, now, onData: (r) => void got.push(r) });
    live.start();
    try {
      await until(() => got.length === 1, 2000, 'first poll');
      live.changeInterval(60);
      await push(server.url, [{ name: 'mr.a', tags: { h: '1' }, datapoints: [[T0 + 200, 2]] }]);
      await until(() => got.length === 2, 2000, 'the next poll on the interval');
      assert.deepEqual(got.map(pointsOf), [[['mr.a', T0 + 100, 1]], [['mr.a', T0 + 200, 2]]]);
    } finally {
      await live.stop();
    }
  });

  it('MetricsStreamIO polls proficloud.io by endpoint id and emits each point once', async () => {
    await push(server.url, [{ name: 'auto~temp', tags: { uuid: DEVICE }, datapoints: [[T0 + 1000, 21.5], [T0 + 2000, 21.7]] }]);
    const client = new ProficloudIOMetrics({ baseUrl: server.url, username: 'me@example.com', password: 'io-pw', now });
    const got: PollResult[] = [];
    try {
      const stream = new MetricsStreamIO({ client, endpointIds: DEVICE, metrics: ['auto~temp'], intervalMs: 1000, windowMs: 60_000, now, onData: (r) => void got.push(r) });
      await stream.pollOnce();
      assert.deepEqual(got[0].series[0].values, [[T0 + 1000, 21.5], [T0 + 2000, 21.7]]);
      await push(server.url, [{ name: 'auto~temp', tags: { uuid: DEVICE }, datapoints: [[T0 + 11_500, 22]] }]);
      clock = T0 + 13_000;
      await stream.pollOnce();
      assert.deepEqual(got[1].series.flatMap((s) => s.values), [[T0 + 11_500, 22]]);
    } finally {
      await client.close();
    }
  });

  it('rejects bad options naming the field and value', () => {
    const base = { intervalMs: 1000, windowMs: 60_000, onData: () => undefined };
    const named = (field: string) => (e: unknown) => e instanceof ValidationError && e.message.includes(field);
    assert.throws(() => new MetricsStream({ ...base, connector, metrics: [] }), named('metrics'));
    assert.throws(() => new MetricsStream({ ...base, connector, metrics: ['ok', ''] }), named('metrics[1]'));
    assert.throws(() => new MetricsStream({ ...base, connector: {} as never, metrics: 'm' }), named('connector'));
    assert.throws(() => new MetricsStream({ ...base, connector, metrics: 'm', intervalMs: -5 }), named('intervalMs'));
    assert.throws(() => new MetricsStream({ ...base, connector, metrics: 'm', onData: 'no' as never }), named('onData'));
    const client = { querySeries: async () => [] };
    assert.throws(() => new MetricsStreamIO({ ...base, client, metrics: 'm', endpointIds: [] }), named('endpointIds'));
    assert.throws(() => new MetricsStreamIO({ ...base, client: null as never, metrics: 'm', endpointIds: DEVICE }), named('client'));
  });
});
