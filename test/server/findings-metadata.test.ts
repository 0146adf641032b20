// Hidden corpus cases 170-196: query/tags, metric-name prefixes, the 1.3.0 404s for tagnames/tagvalues,
// deletes, and GET /api/v1/features as KairosDB 1.3.0 builds it from its annotations.
import assert from 'node:assert/strict';
import type { LocalServer } from '../../src/server';
import { ask, corpusServer, query, T0, WINDOW } from './findings-fixture';

const JSON_TYPE = 'application/json;charset=utf-8';

describe('findings: tags, metric names, deletes (cases 170-193)', () => {
  let s: LocalServer;
  before(async () => {
    s = await corpusServer();
  });
  after(() => s.close());

  it('170: query/tags honours the tag filter (and ignores the time range, as on H2)', async () => {
    const r = await ask(s, 'POST', '/api/v1/datapoints/query/tags', { start_absolute: T0 + 86_400_000, end_absolute: T0 + 90_000_000, metrics: [{ name: 'cf.cpu', tags: { host: ['h1', 'h3'] } }] });
    assert.deepEqual([r.status, r.type], [200, JSON_TYPE]);
    assert.deepEqual(r.body, { queries: [{ results: [{ name: 'cf.cpu', tags: { dc: ['eu'], host: ['h1', 'h3'], rack: ['r1'] }, values: [] }] }] });
  });

  it('173/176: metricnames ?prefix= is a plain string prefix (auto~, slashes, spaces)', async () => {
    for (const [prefix, names] of [
      ['auto~', ['auto~pressure']],
      ['cf%2F', ['cf/with/slashes']],
      ['cf%20', ['cf metric with spaces']],
      ['cf.ty', ['cf.typed', 'cf.types']],
      ['CF.', []],
    ] as Array<[string, string[]]>) {
      const r = await ask(s, 'GET', `/api/v1/metricnames?prefix=${prefix}`);
      assert.deepEqual([r.status, r.body], [200, { results: names }], prefix);
    }
  });

  it('queries write the kairosdb.* self metrics that the recorded metricnames list', async () => {
    await query(s, { ...WINDOW, metrics: [{ name: 'cf.cpu' }] });
    const r = await ask(s, 'GET', '/api/v1/metricnames?prefix=kairosdb.');
    assert.deepEqual(r.body, {
      results: ['kairosdb.datastore.query_row_count', 'kairosdb.datastore.query_sample_size', 'kairosdb.datastore.query_time', 'kairosdb.http.query_time', 'kairosdb.http.request_time'],
    });
  });

  it('178/179: /tagnames and /tagvalues are 404 with an empty body in 1.3.0', async () => {
    for (const path of ['/api/v1/tagnames', '/api/v1/tagvalues', '/api/v1/tagvalues?metric=cf.cpu']) {
      const r = await ask(s, 'GET', path);
      assert.deepEqual([r.status, r.text], [404, ''], path);
    }
  });

  it('180-184: a range delete is inclusive; deleting every point removes the metric name', async () => {
    const del = await ask(s, 'POST', '/api/v1/datapoints/delete', { start_absolute: T0, end_absolute: T0 + 120_000, metrics: [{ name: 'cf.cpu', tags: { host: ['h1'] } }] });
    assert.deepEqual([del.status, del.type, del.text], [204, JSON_TYPE, '']);
    const after = await query(s, { ...WINDOW, metrics: [{ name: 'cf.cpu', tags: { host: 'h1' }, aggregators: [{ name: 'count', sampling: { value: 1, unit: 'hours' } }] }] });
    assert.deepEqual((after.body as { queries: Array<{ sample_size: number }> }).queries[0].sample_size, 7);
    const all = await ask(s, 'POST', '/api/v1/datapoints/delete', { start_absolute: 1, end_absolute: T0 + 60_000_000, metrics: [{ name: 'cf.mem' }] });
    assert.equal(all.status, 204);
    assert.deepEqual((await ask(s, 'GET', '/api/v1/metricnames?prefix=cf.m')).body, { results: [] });
  });

  it('185: delete without a start gives the query message', async () => {
    const r = await ask(s, 'POST', '/api/v1/datapoints/delete', { metrics: [{ name: 'cf.cpu' }] });
    assert.deepEqual([r.status, r.type, r.body], [400, 'application/json', { errors: ['query.metric[0].start_time relative or absolute time must be set'] }]);
  });

  it('186-193: DELETE /metric/{name} is 204 for encoded names and for names that never existed', async () => {
    for (const path of ['cf.single', 'auto~pressure', 'cf%20metric%20with%20spaces', 'cf%2Fwith%2Fslashes', 'cf.%C3%BCn%C3%AFc%C3%B8d%C3%A9.%E6%B8%A9%E5%BA%A6', 'cf.never.existed']) {
      const r = await ask(s, 'DELETE', `/api/v1/metric/${path}`);
      assert.deepEqual([r.status, r.type, r.text], [204, JSON_TYPE, ''], path);
    }
    const names = (await ask(s, 'GET', '/api/v1/metricnames')).body as { results: string[] };
    for (const gone of ['cf.single', 'auto~pressure', 'cf metric with spaces', 'cf/with/slashes', 'cf.ünïcødé.温度']) assert.ok(!names.results.includes(gone), gone);
    assert.ok(names.results.includes('cf.cpu'));
  });
});

interface Prop {
  name: string;
  label: string;
  description?: string;
  type: string;
  options?: string[];
  defaultValue?: string;
  validations?: Array<{ expression: string; type: string; message: string }>;
  properties?: Prop[];
}
interface Component {
  name: string;
  label: string;
  description: string;
  properties: Prop[];
}

describe('findings: GET /api/v1/features (case 196)', () => {
  let s: LocalServer;
  let doc: Array<{ name: string; label: string; properties: Component[] }>;
  let text: string;
  before(async () => {
    s = await corpusServer(0);
    const r = await ask(s, 'GET', '/api/v1/features');
    assert.deepEqual([r.status, r.type], [200, JSON_TYPE]);
    doc = r.body as typeof doc;
    text = r.text;
  });
  after(() => s.close());

  const component = (feature: number, name: string): Component => {
    const c = doc[feature].properties.find((x) => x.name === name);
    assert.ok(c, name);
    return c;
  };

  it('lists group_by then aggregators, each family sorted by label (Java String order)', () => {
    assert.deepEqual(doc.map((f) => [f.name, f.label]), [['group_by', 'Group By'], ['aggregators', 'Aggregator']]);
    assert.deepEqual(doc[0].properties.map((c) => c.name), ['bin', 'tag', 'time', 'value']);
    assert.deepEqual(doc[1].properties.map((c) => c.name), [
      'avg', 'count', 'dev', 'diff', 'div', 'filter', 'first', 'gaps', 'last', 'least_squares', 'max', 'min',
      'percentile', 'rate', 'score', 'sma', 'sampler', 'save_as', 'scale', 'sum', 'trim',
    ]);
    assert.deepEqual(doc[1].properties.map((c) => c.label).slice(13, 19), ['Rate', 'SCORE', 'SMA', 'Sampler', 'Save As', 'Scale']);
  });

  it('/features/{name} sorts by name and matches the name case-insensitively; unknown is a 404', async () => {
    const r = await ask(s, 'GET', '/api/v1/features/AGGREGATORS');
    const names = (r.body as Component[]).map((c) => c.name);
    assert.deepEqual(names, [...names].sort());
    assert.equal(names.indexOf('sampler') < names.indexOf('score'), true);
    const bad = await ask(s, 'GET', '/api/v1/features/Rollups');
    assert.deepEqual([bad.status, bad.body], [404, { errors: ["Unknown feature 'rollups'"] }]);
  });

  it('range aggregators: properties by label, sampling as a compound in Value, Unit order, no align_sampling', () => {
    const avg = component(1, 'avg');
    assert.equal(avg.description, 'Averages the data points together.');
    assert.deepEqual(avg.properties.map((p) => p.name), ['align_end_time', 'align_start_time', 'sampling', 'trim']);
    const sampling = avg.properties[2];
    assert.deepEqual([sampling.type, sampling.description, sampling.defaultValue], ['Object', undefined, undefined]);
    assert.deepEqual(sampling.properties?.map((p) => [p.name, p.type, p.defaultValue]), [['value', 'long', '1'], ['unit', 'enum', 'MILLISECONDS']]);
    assert.deepEqual(sampling.properties?.[1].options, ['MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS']);
    assert.equal(avg.properties[3].description, ' Trim off empty ranges before and after the actual data');
  });

  it('labels default from the name (least_squares -> Least Squares), m_ prefixes are dropped, validations reversed', () => {
    assert.equal(component(1, 'least_squares').label, 'Least Squares');
    assert.equal(component(1, 'count').label, 'Count');
    const div = component(1, 'div').properties;
    assert.deepEqual(div.map((p) => [p.name, p.label, p.type, p.defaultValue]), [['divisor', 'Divisor', 'double', '1']]);
    const pct = component(1, 'percentile').properties.find((p) => p.name === 'percentile');
    assert.deepEqual(pct?.validations?.map((v) => v.expression), ['value < 1', 'value > 0']);
    assert.deepEqual(component(1, 'scale').properties.map((p) => [p.name, p.defaultValue]), [['factor', '0.0']]);
  });

  it('enum options come from the Java enum constants, the annotation only when it is not an enum', () => {
    assert.deepEqual(component(1, 'filter').properties.find((p) => p.name === 'filter_op')?.options, ['LTE', 'LT', 'GTE', 'GT', 'EQUAL', 'NE']);
    assert.deepEqual(component(1, 'trim').properties[0].options, ['FIRST', 'LAST', 'BOTH']);
    assert.deepEqual(component(1, 'score').properties.map((p) => [p.name, p.type, p.options, p.defaultValue]), [
      ['order', 'enum', ['ASCENDING', 'DESCENDING'], 'ascending'],
      ['thresholds', 'array', [], '[]'],
    ]);
    assert.deepEqual(component(1, 'sampler').properties.map((p) => [p.name, p.label, p.defaultValue]), [['unit', 'Time Unit', 'milliseconds']]);
  });

  it('group_by features: bin, tag (autocomplete tags), time (compound range_size) and value', () => {
    assert.deepEqual(component(0, 'tag').properties.map((p) => [p.name, p.type, (p as { autocomplete?: string }).autocomplete]), [['tags', 'array', 'tags']]);
    assert.deepEqual(component(0, 'time').properties.map((p) => [p.name, p.label, p.type]), [['group_count', 'Count', 'int'], ['range_size', 'Range Size', 'Object']]);
    assert.deepEqual(component(0, 'value').properties.map((p) => [p.name, p.label, p.type, p.defaultValue]), [['range_size', 'Target Size', 'int', '0']]);
    assert.deepEqual(component(0, 'bin').properties.map((p) => [p.name, p.validations?.length]), [['bins', 2]]);
  });

  it('is written by Gson: HTML-sensitive characters escaped, null members left out', () => {
    assert.ok(text.includes('"defaultValue":"\\u003cnew name\\u003e"'), 'save_as default');
    assert.ok(text.includes("The name can\\u0027t be empty."));
    assert.ok(!/[<>&=']/.test(text));
    assert.ok(!text.includes(':null'));
  });
});
