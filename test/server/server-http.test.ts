// The local server over real HTTP: headers, routing, push forms, query shapes, deletes, metadata,
// features and response gzip.
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { startServer, type LocalServer } from '../../src/server';
import { get, post, query, request, T0 } from './helpers';

describe('server: HTTP API', () => {
  let s: LocalServer;
  const api = (p: string): string => `${s.url}/api/v1${p}`;

  before(async () => {
    s = await startServer({ port: 0, selfMetrics: false });
    const r = await post(api('/datapoints'), [
      { name: 'cpu', tags: { host: 'h1', dc: 'eu' }, datapoints: [[T0, 5], [T0 + 60_000, 3], [T0 + 120_000, 8]] },
      { name: 'cpu', tags: { host: 'h2', dc: 'us' }, datapoints: [[T0 + 30_000, 1.5], [T0 + 90_000, 2.5]] },
      { name: 'mixed', tags: { host: 'h1' }, datapoints: [[T0, 1], [T0 + 1000, 'on']] },
    ]);
    assert.equal(r.status, 204);
  });
  after(() => s.close());

  it('binds to 127.0.0.1 and sends KairosDB headers, 204s included', async () => {
    assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await get(api('/health/check'));
    assert.equal(r.status, 204);
    assert.equal(r.headers['content-type'], 'application/json;charset=utf-8');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    const v = await get(api('/version'));
    assert.match(v.text, /^\{"version": "KairosDB 1\.3\.0-1\.[^"]+"\}\n$/);
    assert.deepEqual(JSON.parse((await get(api('/health/status'))).text), ['JVM-Thread-Deadlock: OK', 'Datastore-Query: OK']);
  });

  it('answers OPTIONS preflight, and 404/405 with empty bodies', async () => {
    const o = await request(api('/datapoints'), 'OPTIONS', undefined, { 'access-control-request-headers': 'content-type,authorization' });
    assert.equal(o.status, 200);
    assert.match(String(o.headers['access-control-allow-methods']), /POST/);
    assert.equal(o.headers['access-control-allow-headers'], 'content-type,authorization');
    for (const [path, status] of [
      ['/nope', 404],
      ['/tagnames', 404],
      ['/tagvalues', 404],
      ['/rollups', 404],
    ] as const) {
      const r = await get(api(path));
      assert.deepEqual([r.status, r.text], [status, ''], path);
    }
    const wrong = await get(api('/datapoints'));
    assert.deepEqual([wrong.status, wrong.text], [405, '']);
  });

  it('merges series without group_by: sorted union of tags, one type group', async () => {
    const r = await post(api('/datapoints/query'), query([{ name: 'cpu' }]));
    assert.equal(r.status, 200);
    assert.deepEqual(JSON.parse(r.text), {
      queries: [
        {
          sample_size: 5,
          results: [
            {
              name: 'cpu',
              group_by: [{ name: 'type', type: 'number' }],
              tags: { dc: ['eu', 'us'], host: ['h1', 'h2'] },
              values: [[T0, 5], [T0 + 30_000, 1.5], [T0 + 60_000, 3], [T0 + 90_000, 2.5], [T0 + 120_000, 8]],
            },
          ],
        },
      ],
    });
  });

  it('splits numbers and text into two results', async () => {
    const r = JSON.parse((await post(api('/datapoints/query'), query([{ name: 'mixed' }]))).text);
    assert.deepEqual(
      r.queries[0].results.map((x: { group_by: Array<{ type: string }>; values: unknown }) => [x.group_by[0].type, x.values]),
      [
        ['number', [[T0, 1]]],
        ['text', [[T0 + 1000, 'on']]],
      ],
    );
  });

  it('groups by tag, applies limit per group and order desc, drops tags with exclude_tags', async () => {
    const body = query([{ name: 'cpu', group_by: [{ name: 'tag', tags: ['host'] }], limit: 1, order: 'desc', exclude_tags: true }]);
    const r = JSON.parse((await post(api('/datapoints/query'), body)).text);
    assert.equal(r.queries[0].sample_size, 2);
    assert.deepEqual(r.queries[0].results, [
      { name: 'cpu', group_by: [{ name: 'tag', tags: ['host'], group: { host: 'h1' } }, { name: 'type', type: 'number' }], values: [[T0 + 120_000, 8]] },
      { name: 'cpu', group_by: [{ name: 'tag', tags: ['host'], group: { host: 'h2' } }, { name: 'type', type: 'number' }], values: [[T0 + 90_000, 2.5]] },
    ]);
  });

  it('filters by tags (string or array) and gives the no-data shape without group_by', async () => {
    const one = JSON.parse((await post(api('/datapoints/query'), query([{ name: 'cpu', tags: { host: 'h2' } }]))).text);
    assert.deepEqual(one.queries[0].results[0].tags, { dc: ['us'], host: ['h2'] });
    const none = JSON.parse((await post(api('/datapoints/query'), query([{ name: 'cpu', tags: { host: ['zz'] } }]))).text);
    assert.deepEqual(none, { queries: [{ sample_size: 0, results: [{ name: 'cpu', tags: {}, values: [] }] }] });
  });

  it('takes the query from ?query= on GET and validates like KairosDB', async () => {
    const q = encodeURIComponent(JSON.stringify(query([{ name: 'cpu', tags: { host: ['h1'] } }])));
    assert.equal(JSON.parse((await get(api(`/datapoints/query?query=${q}`))).text).queries[0].sample_size, 3);
    const cases: Array<[unknown, number, string]> = [
      [{ metrics: [{ name: 'cpu' }] }, 400, 'query.metric[0].start_time relative or absolute time must be set'],
      [{ start_absolute: 5, end_absolute: 1, metrics: [{ name: 'cpu' }] }, 400, 'query.metric[0].end_time must be greater than the start time'],
      [{ start_relative: { value: 1, unit: 'fortnights' }, metrics: [{ name: 'cpu' }] }, 400, 'query.fortnights is not a valid time unit, must be one of MILLISECONDS,SECONDS,MINUTES,HOURS,DAYS,WEEKS,MONTHS,YEARS'],
      [{ start_absolute: 1, metrics: [{ name: 'cpu', order: 'up' }] }, 400, "query.metric[0].order must be either 'asc' or 'desc'"],
      ['', 500, 'Not a JSON Object: null'],
    ];
    for (const [body, status, message] of cases) {
      const r = await post(api('/datapoints/query'), body);
      assert.equal(r.status, status, message);
      assert.deepEqual(JSON.parse(r.text), { errors: [message] });
    }
    const missing = await get(api('/datapoints/query'));
    assert.deepEqual([missing.status, JSON.parse(missing.text)], [400, { errors: ['query json must not be null or empty'] }]);
  });

  it('accepts gzip pushes (Content-Encoding and the deprecated Content-Type) and rejects bad gzip with 500', async () => {
    const body = zlib.gzipSync(JSON.stringify([{ name: 'gz', tags: { h: '1' }, datapoints: [[T0, 1]] }]));
    assert.equal((await post(api('/datapoints'), body, { 'content-encoding': 'gzip' })).status, 204);
    const body2 = zlib.gzipSync(JSON.stringify([{ name: 'gz', tags: { h: '1' }, datapoints: [[T0 + 1, 2]] }]));
    assert.equal((await post(api('/datapoints'), body2, { 'content-type': 'application/gzip' })).status, 204);
    const bad = await post(api('/datapoints'), '[]', { 'content-encoding': 'gzip' });
    assert.deepEqual([bad.status, JSON.parse(bad.text)], [500, { errors: ['Not in GZIP format'] }]);
    const r = JSON.parse((await post(api('/datapoints/query'), query([{ name: 'gz' }]))).text);
    assert.deepEqual(r.queries[0].results[0].values, [[T0, 1], [T0 + 1, 2]]);
  });

  it('gzips responses when asked', async () => {
    const r = await post(api('/datapoints/query'), query([{ name: 'cpu' }]), { 'accept-encoding': 'gzip' });
    assert.equal(r.headers['content-encoding'], 'gzip');
    assert.equal(JSON.parse(zlib.gunzipSync(r.raw).toString()).queries[0].sample_size, 5);
  });

  it('last write wins per series and timestamp; long and double stay separate series', async () => {
    await post(api('/datapoints'), [{ name: 'dup', tags: { h: '1' }, datapoints: [[T0, 1], [T0, 2]] }]);
    await post(api('/datapoints'), '[{"name":"dup","tags":{"h":"1"},"datapoints":[[' + T0 + ',3],[' + T0 + ',3.5]]}]');
    const r = JSON.parse((await post(api('/datapoints/query'), query([{ name: 'dup' }]))).text);
    // Equal timestamps merge in value order (SortingDataPointGroup compares the double values).
    assert.deepEqual(r.queries[0].results[0].values, [[T0, 3], [T0, 3.5]]);
  });

  it('lists metric names with prefix, tags per metric, and deletes (ranges and %2F-encoded names)', async () => {
    await post(api('/datapoints'), [{ name: 'a/b c', tags: { h: '1' }, datapoints: [[T0, 1]] }]);
    const names = JSON.parse((await get(api('/metricnames?prefix=a%2F'))).text);
    assert.deepEqual(names, { results: ['a/b c'] });
    const tags = JSON.parse((await post(api('/datapoints/query/tags'), query([{ name: 'cpu' }, { name: 'nothing' }]))).text);
    assert.deepEqual(tags.queries, [
      { results: [{ name: 'cpu', tags: { dc: ['eu', 'us'], host: ['h1', 'h2'] }, values: [] }] },
      { results: [{ name: 'nothing', tags: {}, values: [] }] },
    ]);
    assert.equal((await request(api('/metric/a%2Fb%20c'), 'DELETE')).status, 204);
    assert.equal((await request(api('/metric/never'), 'DELETE')).status, 204);
    assert.deepEqual(JSON.parse((await get(api('/metricnames?prefix=a'))).text), { results: [] });

    const del = await post(api('/datapoints/delete'), { start_absolute: T0, end_absolute: T0 + 60_000, metrics: [{ name: 'cpu', tags: { host: 'h1' } }] });
    assert.equal(del.status, 204);
    const after = JSON.parse((await post(api('/datapoints/query'), query([{ name: 'cpu', tags: { host: 'h1' } }]))).text);
    assert.deepEqual(after.queries[0].results[0].values, [[T0 + 120_000, 8]]);
  });

  it('stores metadata values and lists keys', async () => {
    assert.equal((await request(api('/metadata/svc/k1/a'), 'POST', 'value one')).status, 204);
    await request(api('/metadata/svc/k1/b'), 'POST', 'two');
    assert.equal((await get(api('/metadata/svc/k1/a'))).text, 'value one');
    assert.deepEqual(JSON.parse((await get(api('/metadata/svc'))).text), { results: ['k1'] });
    assert.deepEqual(JSON.parse((await get(api('/metadata/svc/k1'))).text), { results: ['a', 'b'] });
    await request(api('/metadata/svc/k1/a'), 'DELETE');
    assert.deepEqual(JSON.parse((await get(api('/metadata/svc/k1'))).text), { results: ['b'] });
  });

  it('serves the features document and 404s an unknown feature', async () => {
    const all = JSON.parse((await get(api('/features'))).text);
    assert.deepEqual(
      all.map((f: { name: string }) => f.name).sort(),
      ['aggregators', 'group_by'],
    );
    const aggs = JSON.parse((await get(api('/features/aggregators'))).text);
    assert.ok(Array.isArray(aggs) && aggs.length > 5);
    const unknown = await get(api('/features/colors'));
    assert.equal(unknown.status, 404);
    assert.match(JSON.parse(unknown.text).errors[0], /Unknown feature 'colors'/);
  });

  it('returns longs beyond 2^53 exactly in raw output', async () => {
    const r = await post(api('/datapoints'), '[{"name":"big","tags":{"h":"1"},"datapoints":[[' + T0 + ',9007199254740993],[' + (T0 + 1) + ',-9223372036854775808],[' + (T0 + 2) + ',5]]}]');
    assert.equal(r.status, 204);
    const text = (await post(api('/datapoints/query'), query([{ name: 'big' }], { metrics: [{ name: 'big', order: 'desc' }] }))).text;
    assert.match(text, /"values":\[\[1767225600002,5\],\[1767225600001,-9223372036854775808\],\[1767225600000,9007199254740993\]\]/);
    const tooBig = await post(api('/datapoints'), '[{"name":"big","tags":{"h":"1"},"datapoints":[[1,"99999999999999999999"]]}]');
    assert.deepEqual([tooBig.status, JSON.parse(tooBig.text)], [500, { errors: ['For input string: "99999999999999999999"'] }]);
  });

  it('answers HEAD like GET without a body', async () => {
    const r = await request(api('/metricnames'), 'HEAD');
    assert.equal(r.status, 200);
    assert.equal(r.text, '');
    assert.ok(Number(r.headers['content-length']) > 0);
  });
});

describe('server: options', () => {
  it('rejects bad options naming the field, without echoing secrets', async () => {
    await assert.rejects(startServer({ port: 70000 }), /port: must be an integer 0\.\.65535 \(got 70000\)/);
    await assert.rejects(startServer({ token: '' }), /token: must be a non-empty string/);
    await assert.rejects(startServer({ oauth: { username: 'u', password: '' } }), /oauth\.password/);
    await assert.rejects(startServer({ oauth: { username: 'u', password: 'p', accessTtlS: -1 } }), /oauth\.accessTtlS: must be a positive number of seconds \(got -1\)/);
  });
});
