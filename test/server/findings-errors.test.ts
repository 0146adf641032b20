// The "Query errors" table of FINDINGS.md (hidden cases 146-167 among them) plus the tag-filter and GET
// checks KairosDB 1.3.0's QueryParser and MetricsResource make: status, content type and exact message.
import assert from 'node:assert/strict';
import type { LocalServer } from '../../src/server';
import { ask, corpusServer, query, T0, WINDOW } from './findings-fixture';

const BAD = 'application/json';
const JSON_TYPE = 'application/json;charset=utf-8';
const UNITS = 'MILLISECONDS,SECONDS,MINUTES,HOURS,DAYS,WEEKS,MONTHS,YEARS';

describe('findings: query errors (cases 145-168)', () => {
  let s: LocalServer;
  before(async () => {
    s = await corpusServer();
  });
  after(() => s.close());

  const cpu = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...WINDOW, metrics: [{ name: 'cf.cpu', ...extra }] });
  const sampled = (agg: Record<string, unknown>): Record<string, unknown> => cpu({ aggregators: [agg] });

  const table: Array<[string, unknown, number, string]> = [
    ['145 no start', { end_absolute: T0, metrics: [{ name: 'cf.cpu' }] }, 400, 'query.metric[0].start_time relative or absolute time must be set'],
    ['146 bad relative unit', { start_relative: { value: 1, unit: 'fortnights' }, metrics: [{ name: 'cf.cpu' }] }, 400, `query.fortnights is not a valid time unit, must be one of ${UNITS}`],
    ['147 bad sampling unit', sampled({ name: 'sum', sampling: { value: 1, unit: 'parsecs' } }), 400, `query.metric[0].aggregators[0].parsecs is not a valid time unit, must be one of ${UNITS}`],
    ['148 unknown aggregator', sampled({ name: 'median_of_medians' }), 400, 'query.metric[0].aggregators[0].median_of_medians invalid aggregators name'],
    ['149 end before start', { start_absolute: T0, end_absolute: T0 - 1, metrics: [{ name: 'cf.cpu' }] }, 400, 'query.metric[0].end_time must be greater than the start time'],
    ['150 metrics missing', { start_absolute: T0 }, 400, 'query.metric[] must have a size of at least 1'],
    ['152 empty metric name', { ...WINDOW, metrics: [{ name: '' }] }, 400, 'query.metric[0].name may not be empty'],
    ['153 missing metric name', { ...WINDOW, metrics: [{ tags: { host: ['h1'] } }] }, 400, 'query.metric[0].name may not be null'],
    ['154 sampling value 0', sampled({ name: 'sum', sampling: { value: 0, unit: 'minutes' } }), 500, '/ by zero'],
    ['155 sampling value -1', sampled({ name: 'sum', sampling: { value: -1, unit: 'minutes' } }), 400, 'query.metric[0].aggregators[0].sampling.value must be greater than or equal to 0'],
    ['156 percentile missing', sampled({ name: 'percentile', sampling: { value: 2, unit: 'minutes' } }), 400, 'query.metric[0].aggregators[0].percentile may not be zero'],
    ['157 div without divisor', sampled({ name: 'div' }), 400, 'query.metric[0].aggregators[0].m_divisor may not be zero'],
    ['158 divisor 0', sampled({ name: 'div', divisor: 0 }), 400, 'query.metric[0].aggregators[0].m_divisor may not be zero'],
    ['158 bad filter_op', sampled({ name: 'filter', filter_op: 'around', threshold: 1 }), 400, "query.metric[0].aggregators[0].around is not a valid trim type, must be 'lte', 'lt', 'gte', 'gt', 'equal' or 'ne'."],
    ['159 unknown group_by', cpu({ group_by: [{ name: 'color' }] }), 400, 'query.metric[0].group_by[0].color invalid group_by name'],
    ['160 group_by tag without tags', cpu({ group_by: [{ name: 'tag' }] }), 400, 'query.metric[0].group_by[0].tags may not be null'],
    ['162 bad order', cpu({ order: 'sideways' }), 400, "query.metric[0].order must be either 'asc' or 'desc'"],
    ['165 start_absolute string', { start_absolute: '2026-01-01', metrics: [{ name: 'cf.cpu' }] }, 400, 'java.lang.NumberFormatException: For input string: "2026-01-01"'],
    ['tag filter: empty tag name', cpu({ tags: { '': 'x' } }), 400, 'query.tags[0] name must not be empty'],
    ['tag filter: empty value', cpu({ tags: { host: '' } }), 400, 'query.tags[0].host value must not be null or empty'],
    ['tag filter: null in the list', cpu({ tags: { dc: ['eu'], host: ['h1', null] } }), 400, 'query.tags[1].host value must not be null or empty'],
  ];

  for (const [what, body, status, message] of table) {
    it(`${what}: ${status} ${message.slice(0, 60)}`, async () => {
      const r = await query(s, body);
      assert.deepEqual([r.status, r.body], [status, { errors: [message] }]);
      assert.equal(r.type, status === 400 ? BAD : JSON_TYPE);
    });
  }

  it('163 malformed JSON: Gson EOF message with position and path', async () => {
    const r = await query(s, '{"start_absolute": 1, "metrics": [');
    assert.deepEqual([r.status, r.body], [400, { errors: ['java.io.EOFException: End of input at line 1 column 35 path $.metrics[0]'] }]);
  });

  it('164 empty body: 500 Not a JSON Object: null', async () => {
    const r = await query(s, '');
    assert.deepEqual([r.status, r.type, r.body], [500, JSON_TYPE, { errors: ['Not a JSON Object: null'] }]);
  });

  it('tag errors are found while Gson reads the metrics, before any start-time check', async () => {
    const r = await query(s, { metrics: [{ name: 'cf.cpu' }, { name: 'cf.mem', tags: { host: [''] } }] });
    assert.deepEqual([r.status, r.body], [400, { errors: ['query.tags[0].host value must not be null or empty'] }]);
  });

  it('the same tag checks apply to query/tags and delete', async () => {
    for (const path of ['/api/v1/datapoints/query/tags', '/api/v1/datapoints/delete']) {
      const r = await ask(s, 'POST', path, cpu({ tags: { host: '' } }));
      assert.deepEqual([r.status, r.body], [400, { errors: ['query.tags[0].host value must not be null or empty'] }], path);
    }
  });

  it('166 relative value 0: an empty result', async () => {
    const r = await query(s, { start_relative: { value: 0, unit: 'hours' }, metrics: [{ name: 'cf.cpu' }] });
    assert.deepEqual([r.status, r.body], [200, { queries: [{ sample_size: 0, results: [{ name: 'cf.cpu', tags: {}, values: [] }] }] }]);
  });

  it('168 GET without ?query= is a 400; an empty ?query= is parsed like an empty body (500)', async () => {
    const none = await ask(s, 'GET', '/api/v1/datapoints/query');
    assert.deepEqual([none.status, none.type, none.body], [400, BAD, { errors: ['query json must not be null or empty'] }]);
    const blank = await ask(s, 'GET', '/api/v1/datapoints/query?query=');
    assert.deepEqual([blank.status, blank.body], [500, { errors: ['Not a JSON Object: null'] }]);
  });

  it('151: metrics [] gives 200 {"queries":[]}', async () => {
    const r = await query(s, { start_absolute: T0, metrics: [] });
    assert.deepEqual([r.status, r.body], [200, { queries: [] }]);
  });
});
