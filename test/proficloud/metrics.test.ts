import assert from 'node:assert/strict';
import { ReadOnlyError, ValidationError } from '../../src/errors';
import { PROFICLOUD_URLS, createEwimaConnector, createTsdConnector } from '../../src/proficloud/metrics';
import type { KairosConnector } from '../../src/kairos/connector';
import type { DebugEvent, KairosPushMetric } from '../../src/types';
import { startStub, type Stub } from '../helpers/kairos-stub';

const T = 1_767_225_600_000;
const UUID = '6f1c0a4e-1111-4222-8333-944455556666';
const PASSWORD = 'ewima-pa55';
const TOKEN = Buffer.from(`${UUID}:${PASSWORD}`).toString('base64');

describe('Proficloud presets', () => {
  let stub: Stub;
  const open: KairosConnector[] = [];
  beforeEach(async () => {
    stub = await startStub();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await stub.close();
  });
  const keep = (c: KairosConnector): KairosConnector => {
    open.push(c);
    return c;
  };

  it('knows the production and staging URLs from the spec', () => {
    assert.equal(PROFICLOUD_URLS.tsd.production, 'https://tsd.proficloud.net/ds/v1/kairos/');
    assert.equal(PROFICLOUD_URLS.tsd.staging, 'https://tsd.proficloud-staging.net/ds/v1/kairos/');
    assert.equal(PROFICLOUD_URLS.ewima.production, 'https://emalytics.proficloud.net/ds/v1/kairos/');
    assert.equal(PROFICLOUD_URLS.ewima.staging, 'https://ewima.proficloud-staging.net/ds/v1/kairos/');
    assert.deepEqual(keep(createTsdConnector({ token: TOKEN, environment: 'staging' })).http.baseUrls, [PROFICLOUD_URLS.tsd.staging]);
    assert.deepEqual(keep(createEwimaConnector({ token: TOKEN })).http.baseUrls, [PROFICLOUD_URLS.ewima.production]);
  });

  describe('TSD', () => {
    it('refuses every write before any request', async () => {
      const tsd = keep(createTsdConnector({ token: TOKEN, baseUrl: `${stub.url}/ds/v1/kairos/` }));
      await assert.rejects(tsd.addMetrics({ a: 1 }, { tags: { h: 'x' } }), (e: unknown) => e instanceof ReadOnlyError && e.message === 'TSD does not accept writes');
      await assert.rejects(tsd.push([{ name: 'a', tags: { h: 'x' }, datapoints: [[T, 1]] }]), ReadOnlyError);
      await assert.rejects(tsd.deleteMetric('a'), ReadOnlyError);
      assert.equal(stub.requests.length, 0);
    });

    it('queries below the prefix with Basic auth and time_zone UTC', async () => {
      const tsd = keep(createTsdConnector({ token: TOKEN, baseUrl: `${stub.url}/ds/v1/kairos/` }));
      await tsd.query({ metrics: 'auto~temp', startAbsolute: T, endAbsolute: T + 1000 });
      const req = stub.requests[0];
      assert.equal(req.path, '/ds/v1/kairos/api/v1/datapoints/query/');
      assert.equal(req.headers.authorization, `Basic ${TOKEN}`);
      assert.equal((req.json() as { time_zone: string }).time_zone, 'UTC');
    });

    it('rejects a token that is not base64 of id:password, without echoing it', () => {
      assert.throws(
        () => createTsdConnector({ token: 'not a token!' }),
        (e: unknown) => e instanceof ValidationError && e.field === 'token' && !e.message.includes('not a token!'),
      );
      assert.throws(() => createTsdConnector({ token: TOKEN, environment: 'test' as never }), /environment/);
    });
  });

  describe('EWIMA', () => {
    it('writes to /api/v1/datapoints/write with tag uuid from the token on every metric', async () => {
      const events: DebugEvent[] = [];
      const ewima = keep(createEwimaConnector({ token: TOKEN, baseUrl: `${stub.url}/ds/v1/kairos/`, onDebug: (e) => events.push(e) }));
      const r = await ewima.addMetrics({ power: 3.2, state: 'ok' }, { timestamp: T, tags: { line: 'l1' } });
      assert.equal(r.written, 2);
      await ewima.push([{ name: 'x', tags: { uuid: 'someone-else', site: 's' }, datapoints: [[T, 1]] }, { name: 'y', datapoints: [[T, 2]] } as KairosPushMetric]);
      assert.deepEqual(stub.requests.map((q) => q.path), ['/ds/v1/kairos/api/v1/datapoints/write', '/ds/v1/kairos/api/v1/datapoints/write']);
      const metrics = stub.requests.flatMap((q) => q.json() as KairosPushMetric[]);
      assert.equal(metrics.length, 4);
      for (const m of metrics) assert.equal(m.tags.uuid, UUID, m.name);
      assert.deepEqual(metrics[0].tags, { uuid: UUID, line: 'l1' });
      assert.deepEqual(metrics[2].tags, { uuid: UUID, site: 's' });
      assert.equal(stub.requests[0].headers.authorization, `Basic ${TOKEN}`);
      const dump = JSON.stringify(events);
      assert.ok(!dump.includes(TOKEN) && !dump.includes(PASSWORD));
    });
  });
});
