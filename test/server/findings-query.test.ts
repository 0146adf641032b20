// Recorded KairosDB 1.3.0 behaviour (FINDINGS.md, hidden corpus cases 004 and 057-090) replayed against
// a server holding the corpus's pushes: raw queries, tag filters, group_by, limit/order and value typing.
import assert from 'node:assert/strict';
import type { LocalServer } from '../../src/server';
import { ask, corpusServer, H1, H2, H3, numberResult, query, T0, WINDOW } from './findings-fixture';

const JSON_TYPE = 'application/json;charset=utf-8';
const H1_TAGS = { dc: ['eu'], host: ['h1'] };

describe('findings: metric names on an empty server (case 004)', () => {
  it('GET /api/v1/metricnames gives {"results":[]}', async () => {
    const s = await corpusServer(0);
    try {
      const r = await ask(s, 'GET', '/api/v1/metricnames');
      assert.deepEqual([r.status, r.type, r.body], [200, JSON_TYPE, { results: [] }]);
    } finally {
      await s.close();
    }
  });
});

describe('findings: raw queries over the corpus data (cases 057-090)', () => {
  let s: LocalServer;
  before(async () => {
    s = await corpusServer();
  });
  after(() => s.close());

  it('057: the time range is inclusive at both ends', async () => {
    const r = await query(s, { start_absolute: T0, end_absolute: T0 + 540_000, metrics: [{ name: 'cf.cpu', tags: { host: ['h1'] } }] });
    assert.deepEqual([r.status, r.type], [200, JSON_TYPE]);
    assert.deepEqual(r.body, { queries: [numberResult('cf.cpu', 10, H1_TAGS, H1)] });
    const one = await query(s, { start_absolute: T0 + 60_000, end_absolute: T0 + 60_000, metrics: [{ name: 'cf.cpu', tags: { host: ['h1'] } }] });
    assert.deepEqual(one.body, { queries: [numberResult('cf.cpu', 1, H1_TAGS, [H1[1]])] });
  });

  it('060: a plain string tag filter value works like a one-element array', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.cpu', tags: { host: 'h1' } }] });
    assert.deepEqual([r.status, r.body], [200, { queries: [numberResult('cf.cpu', 10, H1_TAGS, H1)] }]);
  });

  it('063: group_by tag host gives one result per host, in tag order', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.cpu', group_by: [{ name: 'tag', tags: ['host'] }] }] });
    const group = (host: string): unknown[] => [{ name: 'tag', tags: ['host'], group: { host } }, { name: 'type', type: 'number' }];
    assert.deepEqual(r.body, {
      queries: [
        {
          sample_size: 30,
          results: [
            { name: 'cf.cpu', group_by: group('h1'), tags: H1_TAGS, values: H1 },
            { name: 'cf.cpu', group_by: group('h2'), tags: { dc: ['us'], host: ['h2'] }, values: H2 },
            { name: 'cf.cpu', group_by: group('h3'), tags: { dc: ['eu'], host: ['h3'], rack: ['r1'] }, values: H3 },
          ],
        },
      ],
    });
  });

  it('066: group_by time numbers groups from the query start, in order of first appearance', async () => {
    const r = await query(s, {
      ...WINDOW,
      metrics: [{ name: 'cf.cpu', tags: { host: ['h1'] }, group_by: [{ name: 'time', range_size: { value: 2, unit: 'minutes' }, group_count: 3 }] }],
    });
    const gb = (k: number): unknown[] => [
      { name: 'time', range_size: { value: 2, unit: 'MINUTES' }, group_count: 3, group: { group_number: k } },
      { name: 'type', type: 'number' },
    ];
    // (t - start) / 2 min mod 3, start one minute before T0.
    assert.deepEqual(r.body, {
      queries: [
        {
          sample_size: 10,
          results: [
            { name: 'cf.cpu', group_by: gb(0), tags: H1_TAGS, values: [H1[0], H1[5], H1[6]] },
            { name: 'cf.cpu', group_by: gb(1), tags: H1_TAGS, values: [H1[1], H1[2], H1[7], H1[8]] },
            { name: 'cf.cpu', group_by: gb(2), tags: H1_TAGS, values: [H1[3], H1[4], H1[9]] },
          ],
        },
      ],
    });
  });

  it('069: limit with order desc gives the N most recent, newest first', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.cpu', tags: { host: ['h1'] }, limit: 3, order: 'desc' }] });
    assert.deepEqual(r.body, { queries: [numberResult('cf.cpu', 3, H1_TAGS, [H1[9], H1[8], H1[7]])] });
  });

  it('limit is applied per stored series (sample_size) and again to the merged result, as on H2', async () => {
    const all = { dc: ['eu', 'us'], host: ['h1', 'h2', 'h3'], rack: ['r1'] };
    const asc = await query(s, { ...WINDOW, metrics: [{ name: 'cf.cpu', limit: 3 }] });
    assert.deepEqual(asc.body, { queries: [numberResult('cf.cpu', 9, all, [H1[0], H3[0], H2[0]])] });
    const desc = await query(s, { ...WINDOW, metrics: [{ name: 'cf.cpu', limit: 3, order: 'desc' }] });
    // Equal timestamps: the tournament merge orders them by value, so desc puts 1000 before 10.
    assert.deepEqual(desc.body, { queries: [numberResult('cf.cpu', 9, all, [H2[9], H3[9], H1[9]])] });
  });

  it('072: a top-level exclude_tags is ignored', async () => {
    const r = await query(s, { ...WINDOW, exclude_tags: true, metrics: [{ name: 'cf.cpu', tags: { host: ['h1'] } }] });
    assert.deepEqual(r.body, { queries: [numberResult('cf.cpu', 10, H1_TAGS, H1)] });
  });

  it('075: "type":"double" is accepted but integral values come back as 1 and 2', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.typed' }] });
    assert.deepEqual(r.text, '{"queries":[{"sample_size":2,"results":[{"name":"cf.typed","group_by":[{"name":"type","type":"number"}],"tags":{"host":["h1"]},"values":[[1767225600000,1],[1767225601000,2]]}]}]}');
  });

  it('numeric strings are numbers, other strings text: one series splits into a number and a text result', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.numstr' }, { name: 'cf.exp' }] });
    assert.deepEqual(r.body, {
      queries: [
        {
          sample_size: 4,
          results: [
            { name: 'cf.numstr', group_by: [{ name: 'type', type: 'number' }], tags: { host: ['h1'] }, values: [[T0, 12.5], [T0 + 1000, 42], [T0 + 2000, -7]] },
            { name: 'cf.numstr', group_by: [{ name: 'type', type: 'text' }], tags: { host: ['h1'] }, values: [[T0 + 3000, '1e3']] },
          ],
        },
        numberResult('cf.exp', 3, { host: ['h1'] }, [[T0, 1500], [T0 + 1000, 0], [T0 + 2000, 200]]),
      ],
    });
  });

  it('078: duplicate timestamps, last write wins within one request and across requests', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.dup' }] });
    assert.deepEqual(r.body, { queries: [numberResult('cf.dup', 1, { host: ['h1'] }, [[T0, 3]])] });
  });

  it('082: ttl, object form, single-object body, five tags; no points creates nothing', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.ttl' }, { name: 'cf.object' }, { name: 'cf.single' }, { name: 'cf.tags5' }, { name: 'cf.nopoints' }] });
    assert.deepEqual(r.body, {
      queries: [
        numberResult('cf.ttl', 1, { host: ['h1'] }, [[T0, 1]]),
        numberResult('cf.object', 1, { host: ['h1'] }, [[T0, 1]]),
        numberResult('cf.single', 1, { host: ['h1'] }, [[T0, 7]]),
        numberResult('cf.tags5', 1, { a: ['1'], b: ['2'], c: ['3'], d: ['4'], e: ['5'] }, [[T0, 1]]),
        { sample_size: 0, results: [{ name: 'cf.nopoints', tags: {}, values: [] }] },
      ],
    });
  });

  it('087/090: unicode metric names and special tag values round-trip', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.ünïcødé.温度' }, { name: 'cf.tagvals' }] });
    assert.deepEqual(r.body, {
      queries: [
        numberResult('cf.ünïcødé.温度', 2, { host: ['h1'], unit: ['bar~x y'] }, [[T0, 1], [T0 + 60_000, 2]]),
        numberResult('cf.tagvals', 1, { device: ['Ü-1'], loc: ['Bad Pyrmont/Halle 2'], sensor: ['temp~°C'] }, [[T0, 1]]),
      ],
    });
  });

  it('tag filters select by tag value (filter on a unicode value, on a numeric tag pushed as a number)', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.tagvals', tags: { device: 'Ü-1' } }, { name: 'cf.numtag', tags: { host: ['5'] } }] });
    assert.deepEqual(r.body, {
      queries: [
        numberResult('cf.tagvals', 1, { device: ['Ü-1'], loc: ['Bad Pyrmont/Halle 2'], sensor: ['temp~°C'] }, [[T0, 1]]),
        numberResult('cf.numtag', 1, { host: ['5'] }, [[T0, 1]]),
      ],
    });
  });

  it('timestamps 0 and negative are stored and returned for a start at or before them', async () => {
    const r = await query(s, { start_absolute: -5000, end_absolute: 10, metrics: [{ name: 'cf.badzero' }, { name: 'cf.badneg' }] });
    assert.deepEqual(r.body, {
      queries: [numberResult('cf.badzero', 1, { host: ['h1'] }, [[0, 1]]), numberResult('cf.badneg', 1, { host: ['h1'] }, [[-1000, 1]])],
    });
  });
});

describe('findings: merge and group order (read from the 1.3.0 source)', () => {
  let s: LocalServer;
  before(async () => {
    s = await corpusServer(0);
    // Series order and value order disagree on purpose: a (sorting first) holds the larger value at T0.
    const r = await ask(s, 'POST', '/api/v1/datapoints', [
      { name: 'm', tags: { k: 'b' }, datapoints: [[T0, 1], [T0 + 1000, 'on']] },
      { name: 'm', tags: { k: 'a' }, datapoints: [[T0, 10], [T0 + 2000, 2]] },
      { name: 'm', tags: { k: 'x', z: '1' }, datapoints: [[T0, 6]] },
      { name: 'm', tags: { k: 'x!', z: '1' }, datapoints: [[T0, 5]] },
    ]);
    assert.equal(r.status, 204);
  });
  after(() => s.close());

  it('points with equal timestamps merge in value order (desc reverses it)', async () => {
    const asc = await query(s, { ...WINDOW, metrics: [{ name: 'm', tags: { k: ['a', 'b'] } }] });
    const body = asc.body as { queries: Array<{ results: Array<{ values: unknown }> }> };
    assert.deepEqual(body.queries[0].results[0].values, [[T0, 1], [T0, 10], [T0 + 2000, 2]]);
    const desc = await query(s, { ...WINDOW, metrics: [{ name: 'm', tags: { k: ['a', 'b'] }, order: 'desc' }] });
    const d = desc.body as typeof body;
    assert.deepEqual(d.queries[0].results[0].values, [[T0 + 2000, 2], [T0, 10], [T0, 1]]);
  });

  it('number results come before text results, whatever came first in time', async () => {
    const r = await query(s, { start_absolute: T0 + 1000, end_absolute: T0 + 2000, metrics: [{ name: 'm', tags: { k: ['a', 'b'] } }] });
    const body = r.body as { queries: Array<{ results: Array<{ group_by: unknown; values: unknown }> }> };
    assert.deepEqual(
      body.queries[0].results.map((x) => [x.group_by, x.values]),
      [
        [[{ name: 'type', type: 'number' }], [[T0 + 2000, 2]]],
        [[{ name: 'type', type: 'text' }], [[T0 + 1000, 'on']]],
      ],
    );
  });

  it('tag groups sort by the concatenated tag name and value text, all number groups before text ones', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'm', group_by: [{ name: 'tag', tags: ['k', 'z'] }] }] });
    const body = r.body as { queries: Array<{ results: Array<{ group_by: Array<{ group?: { k: string }; type?: string }> }> }> };
    const order = body.queries[0].results.map((x) => `${x.group_by[0].group?.k}/${x.group_by[1].type}`);
    // Keys "kxz1" and "kx!z1": '!' sorts before 'z', so x! comes before x (a list compare would say otherwise).
    assert.deepEqual(order, ['a/number', 'b/number', 'x!/number', 'x/number', 'b/text']);
  });
});

describe('findings: groupers with tags and limit (read from the 1.3.0 source)', () => {
  let s: LocalServer;
  before(async () => {
    s = await corpusServer(12);
  });
  after(() => s.close());

  it('group_by value with tag: grouper result first, then tag and type; limit applies per result', async () => {
    const r = await query(s, {
      ...WINDOW,
      metrics: [{ name: 'cf.cpu', tags: { host: ['h1', 'h3'] }, limit: 2, group_by: [{ name: 'tag', tags: ['host'] }, { name: 'value', range_size: 500 }] }],
    });
    const gb = (k: number, host: string): unknown[] => [
      { name: 'value', range_size: 500, group: { group_number: k } },
      { name: 'tag', tags: ['host'], group: { host } },
      { name: 'type', type: 'number' },
    ];
    assert.deepEqual(r.body, {
      queries: [
        {
          // The datastore reads 2 points per series.
          sample_size: 4,
          results: [
            { name: 'cf.cpu', group_by: gb(0, 'h1'), tags: H1_TAGS, values: [H1[0], H1[1]] },
            { name: 'cf.cpu', group_by: gb(0, 'h3'), tags: { dc: ['eu'], host: ['h3'], rack: ['r1'] }, values: [H3[0], H3[1]] },
          ],
        },
      ],
    });
    const desc = await query(s, {
      ...WINDOW,
      metrics: [{ name: 'cf.cpu', tags: { host: ['h3'] }, order: 'desc', group_by: [{ name: 'value', range_size: 500 }], limit: 0 }],
    });
    const body = desc.body as { queries: Array<{ results: Array<{ group_by: Array<{ group?: { group_number: number } }>; values: unknown }> }> };
    // Groups appear in the order the descending stream meets them; each keeps descending values.
    assert.deepEqual(
      body.queries[0].results.map((x) => [x.group_by[0].group?.group_number, x.values]),
      [
        [2, [H3[9]]],
        [1, [H3[8], H3[7], H3[6], H3[5], H3[4]]],
        [0, [H3[3], H3[2], H3[1], H3[0]]],
      ],
    );
  });
});
