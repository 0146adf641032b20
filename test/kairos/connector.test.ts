import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KairosConnector, type KairosConnectorOptions } from '../../src/kairos/connector';
import { AuthenticationError, HttpStatusError, NetworkError, ReadOnlyError, ValidationError } from '../../src/errors';
import type { KairosPushMetric, KairosQueryResponse } from '../../src/types';
import { refusedPort, startStub, type Stub } from '../helpers/kairos-stub';
import { CASES_DIR } from '../helpers/fixtures';

const T = 1_767_225_600_000;
const CASES = CASES_DIR;

describe('KairosConnector', () => {
  let stub: Stub;
  const open: KairosConnector[] = [];
  const connect = (opts: Partial<KairosConnectorOptions> = {}): KairosConnector => {
    const c = new KairosConnector({ baseUrl: stub.url, defaultTags: { host: 'plc1' }, ...opts });
    open.push(c);
    return c;
  };
  beforeEach(async () => {
    stub = await startStub();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((c) => c.close()));
    await stub.close();
  });

  describe('writes', () => {
    it('sends floats as typed doubles: 2.0 and 1e-7 arrive as doubles', async () => {
      const r = await connect().addMetrics({ a: 2.0, b: 1e-7, s: 'on' }, { timestamp: T, tags: { line: '3' } });
      assert.deepEqual(r, { written: 3, rejected: 0, errors: [], requests: 1 });
      const req = stub.requests[0];
      assert.equal(req.method, 'POST');
      assert.equal(req.path, '/api/v1/datapoints');
      const text = req.text();
      assert.match(text, /"name":"a","tags":\{"host":"plc1","line":"3"\},"type":"double","datapoints":\[\[1767225600000,2\.0\]\]/);
      assert.match(text, /"name":"b".*"type":"double","datapoints":\[\[1767225600000,1\.0e-7\]\]/);
      assert.match(text, /"name":"s".*"type":"string"/);
    });

    it('writes table rows in batches', async () => {
      const rows = Array.from({ length: 5 }, (_, i) => ({ Timestamp: T + i * 1000, v: i + 0.5 }));
      const r = await connect().addMetricsBatch(rows, { batchSize: 2 });
      assert.equal(r.requests, 3);
      assert.equal(r.written, 5);
      const sent = stub.requests.flatMap((q) => (q.json() as KairosPushMetric[]).flatMap((m) => m.datapoints ?? []));
      assert.deepEqual(sent, rows.map((row) => [row.Timestamp, row.v]));
    });

    it('counts the metrics a partial 400 names as rejected, the rest as written', async () => {
      stub.setHandler(() => ({
        status: 400,
        body: { errors: ['metric[1](name=b).datapoints[0].value may not be empty.', 'metric[1](name=b).datapoints[1].value may not be empty.'] },
      }));
      const r = await connect().push([
        { name: 'a', tags: { host: 'x' }, datapoints: [[T, 1], [T + 1, 2]] },
        { name: 'b', tags: { host: 'x' }, datapoints: [[T, 1], [T + 1, 2], [T + 2, 3]] },
        { name: 'c', tags: { host: 'x' }, datapoints: [[T, 1], [T + 1, NaN]] },
      ]);
      assert.equal(r.written, 3);
      assert.equal(r.rejected, 3 + 1);
      assert.equal(r.requests, 1);
      assert.equal(r.errors.length, 3);
      assert.match(r.errors[0], /metric "c".*NaN/);
    });

    it('counts everything as rejected when a 400 names no metric', async () => {
      stub.setHandler(() => ({ status: 400, body: { errors: ['Invalid json. No content due to end of input.'] } }));
      const r = await connect().push([{ name: 'a', tags: { host: 'x' }, datapoints: [[T, 1], [T + 1, 2]] }]);
      assert.equal(r.written, 0);
      assert.equal(r.rejected, 2);
    });

    it('throws retryable typed errors for 5xx and network failures', async () => {
      stub.setHandler(() => ({ status: 503, headers: { 'retry-after': '3' }, body: { errors: ['queue full'] } }));
      await assert.rejects(connect().addMetrics({ a: 1 }, { timestamp: T }), (e: unknown) => {
        assert.ok(e instanceof HttpStatusError);
        assert.equal(e.retryable, true);
        assert.equal(e.retryAfterMs, 3000);
        return true;
      });
      stub.setHandler(() => ({ status: 401, body: 'nope' }));
      await assert.rejects(connect().addMetrics({ a: 1 }, { timestamp: T }), AuthenticationError);
      const dead = new KairosConnector({ baseUrl: `http://127.0.0.1:${await refusedPort()}`, defaultTags: { h: 'x' } });
      open.push(dead);
      await assert.rejects(dead.addMetrics({ a: 1 }), (e: unknown) => e instanceof NetworkError && e.retryable);
    });

    it('refuses tagless metrics before any request', async () => {
      const c = connect({ defaultTags: undefined });
      await assert.rejects(c.addMetrics({ a: 1 }), (e: unknown) => e instanceof ValidationError && e.field === 'tags');
      const r = await c.push([{ name: 'a', tags: {}, datapoints: [[T, 1]] }]);
      assert.equal(r.rejected, 1);
      assert.equal(r.requests, 0);
      assert.match(r.errors[0], /at least one tag/);
      assert.equal(stub.requests.length, 0);
    });

    it('splits pushes by maxPointsPerRequest and gzips large bodies', async () => {
      const c = connect({ maxPointsPerRequest: 500, gzipThresholdBytes: 1024 });
      const dps = Array.from({ length: 1200 }, (_, i) => [T + i, i * 0.5] as [number, number]);
      const r = await c.push([{ name: 'a', tags: { host: 'x' }, type: 'double', datapoints: dps }]);
      assert.equal(r.requests, 3);
      assert.equal(r.written, 1200);
      assert.ok(stub.requests.every((q) => q.headers['content-encoding'] === 'gzip'));
    });

    it('guards every write on a read-only connector before any request', async () => {
      const c = connect({ readOnly: 'this service is read-only' });
      await assert.rejects(c.addMetrics({ a: 1 }), (e: unknown) => e instanceof ReadOnlyError && e.code === 'EREADONLY');
      await assert.rejects(c.addMetricsBatch([{ Timestamp: T, a: 1 }]), ReadOnlyError);
      await assert.rejects(c.push([]), ReadOnlyError);
      await assert.rejects(c.deleteMetric('a'), ReadOnlyError);
      await assert.rejects(c.deleteDataPoints({ metrics: 'a', startAbsolute: T }), ReadOnlyError);
      assert.equal(stub.requests.length, 0);
    });

    it('URL-encodes metric names in delete paths', async () => {
      await connect().deleteMetric('a b/c~ü');
      await connect().deleteDataPoints({ metrics: 'x', startAbsolute: T, endAbsolute: T + 10 });
      assert.equal(stub.requests[0].method, 'DELETE');
      assert.equal(stub.requests[0].url, '/api/v1/metric/a%20b%2Fc~%C3%BC');
      assert.equal(stub.requests[1].path, '/api/v1/datapoints/delete');
      assert.deepEqual(stub.requests[1].json(), { start_absolute: T, end_absolute: T + 10, time_zone: 'UTC', metrics: [{ name: 'x' }] });
    });
  });

  describe('authentication', () => {
    it('sends Basic token, basicAuth and bearer headers', async () => {
      await connect({ token: 'YWNjdDpwdw==' }).version();
      await connect({ basicAuth: { username: 'u', password: 'p' } }).version();
      let n = 0;
      await connect({ bearer: async () => `tok${++n}` }).version();
      assert.deepEqual(stub.requests.map((r) => r.headers.authorization), ['Basic YWNjdDpwdw==', `Basic ${Buffer.from('u:p').toString('base64')}`, 'Bearer tok1']);
      assert.throws(() => connect({ token: 'x', bearer: async () => 'y' }), /token\/bearer\/basicAuth/);
    });
  });

  describe('reads', () => {
    it('posts the built query with time_zone and the connector zone for zone-less strings', async () => {
      const c = connect({ timeZone: 'Europe/Berlin' });
      const before = Date.now();
      await c.query({ metrics: 'm', startAbsolute: '2026-01-01 01:00:00' });
      const { end_absolute: end, ...rest } = stub.requests[0].json() as { end_absolute: number };
      assert.deepEqual(rest, { start_absolute: T, time_zone: 'Europe/Berlin', metrics: [{ name: 'm' }] });
      assert.ok(end >= before && end <= Date.now(), 'a missing end is sent as now');
    });

    it('handles both empty-result shapes (1.3 placeholder and 1.4 empty list)', async () => {
      const c = connect();
      const shapes: KairosQueryResponse[] = [
        { queries: [{ sample_size: 0, results: [{ name: 'm', tags: {}, values: [] }] }] },
        { queries: [{ sample_size: 0, results: [] }] },
      ];
      for (const body of shapes) {
        stub.setHandler(() => ({ body }));
        assert.deepEqual(await c.querySeries({ metrics: 'm', startAbsolute: T }), []);
        assert.deepEqual(await c.queryMetrics({ metrics: 'm', startAbsolute: T }), []);
      }
    });

    it('returns rows and series from a grouped response', async () => {
      stub.setHandler(() => ({
        body: {
          queries: [{ sample_size: 2, results: [{ name: 'm', tags: { host: ['h1'] }, group_by: [{ name: 'type', type: 'number' }], values: [[T, 1], [T + 1000, 2.5]] }] }],
        },
      }));
      const rows = await connect().queryMetrics({ metrics: 'm', startAbsolute: T });
      assert.deepEqual(rows, [{ Timestamp: T, m: 1 }, { Timestamp: T + 1000, m: 2.5 }]);
    });

    it('rejects responses without queries as ParseError', async () => {
      stub.setHandler(() => ({ body: { foo: 1 } }));
      await assert.rejects(connect().query({ metrics: 'm', startAbsolute: T }), (e: unknown) => (e as { code?: string }).code === 'EPARSE');
    });

    it('rawQuery validates its body and always goes to the query path', async () => {
      const c = connect();
      await assert.rejects(c.rawQuery([1]), ValidationError);
      await assert.rejects(c.rawQuery({ metrics: [] }), (e: unknown) => e instanceof ValidationError && e.field === 'query.metrics');
      await c.rawQuery({ metrics: [{ name: 'm' }], start_absolute: 1, baseUrl: 'http://evil.example', url: 'http://evil.example' });
      assert.equal(stub.requests.length, 1);
      assert.equal(stub.requests[0].path, '/api/v1/datapoints/query');
    });

    it('metricNames, tags, version and health', async () => {
      stub.setHandler((req) => {
        if (req.path === '/api/v1/metricnames') return { body: { results: ['auto~a', 'auto~b'] } };
        if (req.path === '/api/v1/datapoints/query/tags') {
          return { body: { queries: [{ results: [{ name: 'm', tags: { host: ['h2', 'h1'] }, values: [] }, { name: 'm', tags: { host: ['h3'] }, values: [] }] }] } };
        }
        if (req.path === '/api/v1/version') return { body: { version: 'KairosDB 1.3.0-1.x' } };
        return { body: ['JVM-Thread-Deadlock: OK', 'Datastore-Query: FAIL'] };
      });
      const c = connect();
      assert.deepEqual(await c.metricNames('auto~ x'), ['auto~a', 'auto~b']);
      assert.equal(stub.requests[0].url, '/api/v1/metricnames?prefix=auto%7E+x');
      assert.deepEqual(await c.tags({ metrics: 'm', startAbsolute: T, aggregators: [{ name: 'avg' }] }), [{ name: 'm', tags: { host: ['h1', 'h2', 'h3'] } }]);
      assert.equal((stub.requests[1].json() as { metrics: Array<Record<string, unknown>> }).metrics[0].aggregators, undefined);
      assert.equal(await c.version(), 'KairosDB 1.3.0-1.x');
      assert.deepEqual(await c.health(), { ok: false, status: ['JVM-Thread-Deadlock: OK', 'Datastore-Query: FAIL'] });
      stub.setHandler(() => ({ body: ['JVM-Thread-Deadlock: OK', 'Datastore-Query: OK'] }));
      assert.equal((await c.health()).ok, true);
      stub.setHandler(() => ({ status: 500 }));
      const h = await c.health();
      assert.equal(h.ok, false);
      assert.match(h.status[0], /HTTP 500/);
    });
  });

  describe('windowed queries', () => {
    const valuesIn = (req: { json(): unknown }): KairosQueryResponse => {
      const q = req.json() as { start_absolute: number; end_absolute: number; metrics: Array<{ name: string }> };
      const values: Array<[number, number]> = [];
      for (let t = q.start_absolute; t <= q.end_absolute; t += 500) values.push([t, t - T]);
      return { queries: [{ sample_size: values.length, results: values.length ? [{ name: q.metrics[0].name, tags: { h: ['x'] }, values }] : [] }] };
    };

    it('splits the range into windows and concatenates values', async () => {
      stub.setHandler((req) => ({ body: valuesIn(req) }));
      const c = connect({ queryWindowMs: 1000 });
      const resp = await c.query({ metrics: 'm', startAbsolute: T, endAbsolute: T + 2999, limit: 5 });
      assert.equal(stub.requests.length, 3);
      assert.deepEqual(stub.requests.map((r) => (r.json() as { start_absolute: number }).start_absolute - T), [0, 1000, 2000]);
      assert.ok(stub.requests.every((r) => (r.json() as { metrics: Array<{ limit?: number }> }).metrics[0].limit === undefined));
      assert.deepEqual(resp.queries[0].results[0].values.map((v) => v[1]), [0, 500, 1000, 1500, 2000]);
      assert.equal(resp.queries[0].sample_size, 6);
    });

    it('halves the window on 504 and retries', async () => {
      stub.setHandler((req) => {
        const q = req.json() as { start_absolute: number; end_absolute: number };
        if (q.end_absolute - q.start_absolute + 1 > 1000) return { status: 504, body: '<html>Gateway Timeout</html>' };
        return { body: valuesIn(req) };
      });
      const c = connect({ queryWindowMs: 4000, minQueryWindowMs: 500 });
      const series = await c.querySeries({ metrics: 'm', startAbsolute: T, endAbsolute: T + 3999 });
      assert.equal(series.length, 1);
      assert.deepEqual(series[0].values.map((v) => v[1]), [0, 500, 1000, 1500, 2000, 2500, 3000, 3500]);
      assert.deepEqual(stub.requests.map((r) => r.json() as { start_absolute: number; end_absolute: number }).map((q) => q.end_absolute - q.start_absolute + 1), [4000, 2000, 1000, 1000, 1000, 1000]);
    });

    it('gives up with the 504 at the minimum window', async () => {
      stub.setHandler(() => ({ status: 504 }));
      const c = connect({ queryWindowMs: 2000, minQueryWindowMs: 1000 });
      await assert.rejects(c.query({ metrics: 'm', startAbsolute: T, endAbsolute: T + 3999 }), (e: unknown) => e instanceof HttpStatusError && e.status === 504);
      assert.equal(stub.requests.length, 2);
    });

    it('keeps one empty placeholder when no window has data, and orders desc windows newest first', async () => {
      stub.setHandler((req) => ({ body: { queries: [{ sample_size: 0, results: [{ name: (req.json() as { metrics: Array<{ name: string }> }).metrics[0].name, tags: {}, values: [] }] }] } }));
      const empty = await connect({ queryWindowMs: 1000 }).query({ metrics: 'm', startAbsolute: T, endAbsolute: T + 2999 });
      assert.deepEqual(empty.queries[0].results, [{ name: 'm', tags: {}, values: [] }]);
      stub.setHandler((req) => {
        const r = valuesIn(req);
        r.queries[0].results[0].values.reverse();
        return { body: r };
      });
      const desc = await connect({ queryWindowMs: 1000 }).query({ metrics: 'm', startAbsolute: T, endAbsolute: T + 1999, order: 'desc' });
      assert.deepEqual(desc.queries[0].results[0].values.map((v) => v[1]), [1500, 1000, 500, 0]);
    });
  });

  describe('conformance corpus', () => {
    it('reads every recorded query response with querySeries', async () => {
      const files = readdirSync(CASES).filter((f) => f.endsWith('.json')).sort();
      let checked = 0;
      const c = connect();
      for (const f of files) {
        const rec = JSON.parse(readFileSync(join(CASES, f), 'utf8')) as {
          request: { path: string };
          response: { status: number; body: unknown };
        };
        const body = rec.response.body as KairosQueryResponse | null;
        if (!/\/datapoints\/query/.test(rec.request.path) || rec.response.status !== 200 || !body || !Array.isArray(body.queries)) continue;
        stub.setHandler(() => ({ body }));
        const series = await c.querySeries({ metrics: 'any', startAbsolute: 1 });
        const nonEmpty = body.queries.flatMap((q) => q.results).filter((r) => r.values.length > 0);
        assert.equal(series.length, nonEmpty.length, f);
        assert.deepEqual(series.map((s) => s.values), nonEmpty.map((r) => r.values), f);
        checked++;
      }
      assert.ok(checked >= 50, `only ${checked} query cases found`);
    });
  });
});
