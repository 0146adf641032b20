import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ParseError, ValidationError } from '../../src/errors';
import { rowsFromQueryResponse, seriesFromQueryResponse, seriesToChart, tableFromQueryResponse } from '../../src/table/table-builder';
import type { KairosQueryResponse, KairosResult, TableOptions } from '../../src/types';
import { CASES_DIR } from '../helpers/fixtures';

const CASES = CASES_DIR;

function resp(...queries: KairosResult[][]): KairosQueryResponse {
  return { queries: queries.map((results) => ({ sample_size: 0, results })) };
}
function res(name: string, values: KairosResult['values'], group_by?: KairosResult['group_by']): KairosResult {
  return { name, tags: { host: ['h1'] }, values, ...(group_by ? { group_by } : {}) };
}
const typeNum = { name: 'type', type: 'number' };
const typeText = { name: 'type', type: 'text' };

describe('table: series and column names', () => {
  it('uses the metric name for single-series metrics and keeps tags', () => {
    const s = seriesFromQueryResponse(resp([res('a', [[1, 1]], [typeNum])], [res('b', [[1, 2]])]));
    assert.deepEqual(
      s.map((x) => [x.name, x.column]),
      [
        ['a', 'a'],
        ['b', 'b'],
      ],
    );
    assert.deepEqual(s[0].tags, { host: ['h1'] });
    assert.deepEqual(s[0].group, { type: 'number' });
  });

  it('names tag groups name{tag=value,...} with tags sorted by name', () => {
    const g = (dc: string, rack: string) => [{ name: 'tag', tags: ['rack', 'dc'], group: { rack, dc } }, typeNum];
    const s = seriesFromQueryResponse(resp([res('m', [[1, 1]], g('eu', 'r1')), res('m', [[1, 2]], g('us', ''))]));
    assert.deepEqual(
      s.map((x) => x.column),
      ['m{dc=eu,rack=r1}', 'm{dc=us,rack=}'],
    );
    assert.deepEqual(s[0].group, { rack: 'r1', dc: 'eu', type: 'number' });
  });

  it('keeps the group suffix when a grouped query returns a single group', () => {
    const g = [{ name: 'tag', tags: ['dc'], group: { dc: 'eu' } }, typeNum];
    const s = seriesFromQueryResponse(resp([res('m', [[1, 1]], g)]));
    assert.deepEqual(
      s.map((x) => x.column),
      ['m{dc=eu}'],
    );
  });

  it('names value/time/bin groups and text groups', () => {
    const s = seriesFromQueryResponse(
      resp(
        [
          res('v', [[1, 1]], [{ name: 'value', range_size: 5, group: { group_number: 0 } }, typeNum]),
          res('v', [[2, 7]], [{ name: 'value', range_size: 5, group: { group_number: 1 } }, typeNum]),
        ],
        [res('b', [[1, 1]], [{ name: 'bin', group: { bin_number: 3 } }]), res('b', [[1, 1]], [{ name: 'bin', group: { bin_number: 4 } }])],
        [res('mixed', [[1, 1]], [typeNum]), res('mixed', [[2, 'x']], [typeText])],
        [res('onlytext', [[1, 'x']], [typeText])],
      ),
    );
    assert.deepEqual(
      s.map((x) => x.column),
      ['v[group_number=0]', 'v[group_number=1]', 'b[bin_number=3]', 'b[bin_number=4]', 'mixed', 'mixed:text', 'onlytext'],
    );
  });

  it('suffixes #2 when the same metric is queried twice, and drops empty results', () => {
    const s = seriesFromQueryResponse(resp([res('a', [[1, 1]])], [res('a', [[1, 2]])], [res('e', [])], [], [res('a', [[3, 3]])]));
    assert.deepEqual(
      s.map((x) => x.column),
      ['a', 'a#2', 'a#3'],
    );
  });

  it('reads strings and Buffers, and rejects what is not a query response', () => {
    const body = JSON.stringify(resp([res('a', [[1, 1]])]));
    assert.equal(seriesFromQueryResponse(body)[0].column, 'a');
    assert.equal(seriesFromQueryResponse(Buffer.from(body))[0].column, 'a');
    assert.throws(() => seriesFromQueryResponse('{"queries": [ '), ParseError);
    assert.throws(() => seriesFromQueryResponse('{"errors":["x"]}'), /no "queries" array/);
    assert.throws(() => seriesFromQueryResponse({ queries: [{}] } as unknown as KairosQueryResponse), /queries\[0\] has no "results"/);
    assert.throws(
      () => seriesFromQueryResponse({ queries: [{ results: [{ values: [] }] }] } as unknown as KairosQueryResponse),
      /results\[0\] has no "name"/,
    );
    assert.throws(() => seriesFromQueryResponse(null as unknown as string), ParseError);
  });
});

describe('table: rows', () => {
  const two = resp(
    [
      res('a', [
        [1000, 1],
        [2000, 2],
        [4000, 4],
      ]),
    ],
    [
      res('b', [
        [2000, 20],
        [3000, null],
        [5000, 50],
      ]),
    ],
  );

  it('outer-joins on timestamps with null cells and cuts at the earliest last timestamp by default', () => {
    const t = tableFromQueryResponse(two);
    assert.deepEqual(t.columns, ['Timestamp', 'a', 'b']);
    // "a" ends at 4000, "b" at 5000: rows up to and including 4000 stay, even where "b" has no value
    assert.deepEqual(t.rows, [
      { Timestamp: 1000, a: 1, b: null },
      { Timestamp: 2000, a: 2, b: 20 },
      { Timestamp: 3000, a: null, b: null },
      { Timestamp: 4000, a: 4, b: null },
    ]);
  });

  it('keeps every row with dropTrailingNa false, gaps stay null', () => {
    const rows = rowsFromQueryResponse(two, { dropTrailingNa: false });
    assert.deepEqual(rows, [
      { Timestamp: 1000, a: 1, b: null },
      { Timestamp: 2000, a: 2, b: 20 },
      { Timestamp: 3000, a: null, b: null },
      { Timestamp: 4000, a: 4, b: null },
      { Timestamp: 5000, a: null, b: 50 },
    ]);
  });

  it('cuts first, then fills forward and backward within the kept rows', () => {
    assert.deepEqual(
      rowsFromQueryResponse(two, { fillNaMethod: 'ffill' }).map((r) => [r.Timestamp, r.a, r.b]),
      [
        [1000, 1, null],
        [2000, 2, 20],
        [3000, 2, 20],
        [4000, 4, 20],
      ],
    );
    assert.deepEqual(rowsFromQueryResponse(two, { fillNaMethod: 'pad', dropTrailingNa: false }).map((r) => [r.a, r.b]), [
      [1, null],
      [2, 20],
      [2, 20],
      [4, 20],
      [4, 50],
    ]);
    // b's 50 at 5000 lies after the cut, so it does not fill backwards into the kept rows
    assert.deepEqual(
      rowsFromQueryResponse(two, { fillNaMethod: 'backfill' }).map((r) => [r.Timestamp, r.a, r.b]),
      [
        [1000, 1, 20],
        [2000, 2, 20],
        [3000, 4, null],
        [4000, 4, null],
      ],
    );
  });

  it('orders descending after cutting, converts timestamps and renames the timestamp column', () => {
    const rows = rowsFromQueryResponse(two, { orderDesc: true, convertTimestamp: 'iso', timestampColumnName: 'time' });
    assert.deepEqual(
      rows.map((r) => r.time),
      ['1970-01-01T00:00:04.000Z', '1970-01-01T00:00:03.000Z', '1970-01-01T00:00:02.000Z', '1970-01-01T00:00:01.000Z'],
    );
    assert.deepEqual(rows[0], { time: '1970-01-01T00:00:04.000Z', a: 4, b: null });
    const d = rowsFromQueryResponse(two, { convertTimestamp: 'date' });
    assert.ok(d[0].Timestamp instanceof Date && d[0].Timestamp.getTime() === 1000);
  });

  it('accepts series sent in descending order (order: desc) and unsorted values', () => {
    const rows = rowsFromQueryResponse(
      resp(
        [
          res('d', [
            [3, 'c'],
            [2, 'b'],
            [1, 'a'],
          ]),
        ],
        [
          res('u', [
            [2, 20],
            [1, 10],
            [3, 30],
          ]),
        ],
      ),
    );
    assert.deepEqual(
      rows.map((r) => [r.Timestamp, r.d, r.u]),
      [
        [1, 'a', 10],
        [2, 'b', 20],
        [3, 'c', 30],
      ],
    );
  });

  it('gives no columns and no rows for both empty shapes', () => {
    for (const body of [resp([]), resp([{ name: 'x', tags: {}, values: [] }]), { queries: [] }]) {
      assert.deepEqual(tableFromQueryResponse(body), { columns: [], rows: [] });
    }
  });

  it('keeps metrics named __proto__, constructor and toString as plain own columns of the rows', () => {
    const body = resp([res('__proto__', [[5, 1]])], [res('constructor', [[5, 2]])], [res('toString', [[5, 3]])]);
    for (const rows of [rowsFromQueryResponse(body), rowsFromQueryResponse(JSON.stringify(body))]) {
      const row = rows[0];
      assert.deepEqual(Object.keys(row), ['Timestamp', '__proto__', 'constructor', 'toString']);
      assert.equal(Object.getPrototypeOf(row), Object.prototype);
      assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 1);
      assert.equal(row.constructor, 2);
      assert.equal(row.toString, 3);
    }
  });

  it('keeps a group_by tag named __proto__ in the series group and column name', () => {
    const body = JSON.parse('{"queries":[{"results":[{"name":"m","tags":{"__proto__":["x"]},"group_by":[{"name":"tag","tags":["__proto__"],"group":{"__proto__":"x"}}],"values":[[1,2]]}]}]}') as KairosQueryResponse;
    for (const s of [seriesFromQueryResponse(body), seriesFromQueryResponse(Buffer.from(JSON.stringify(body)))]) {
      assert.equal(s[0].column, 'm{__proto__=x}');
      assert.deepEqual(Object.keys(s[0].group ?? {}), ['__proto__']);
      assert.equal(Object.getOwnPropertyDescriptor(s[0].group, '__proto__')?.value, 'x');
    }
  });

  it('does not let a metric named like the timestamp column overwrite it', () => {
    const t = tableFromQueryResponse(resp([res('Timestamp', [[5, 1]])]));
    assert.deepEqual(t.columns, ['Timestamp', 'Timestamp#2']);
    assert.deepEqual(t.rows, [{ Timestamp: 5, 'Timestamp#2': 1 }]);
  });

  it('rejects bad options naming the option', () => {
    const bad: Array<[TableOptions, string]> = [
      [{ fillNaMethod: 'linear' as TableOptions['fillNaMethod'] }, 'fillNaMethod'],
      [{ convertTimestamp: 'unix' as TableOptions['convertTimestamp'] }, 'convertTimestamp'],
      [{ timestampColumnName: '' }, 'timestampColumnName'],
      [{ dropTrailingNa: 'yes' as unknown as boolean }, 'dropTrailingNa'],
      [{ orderDesc: 1 as unknown as boolean }, 'orderDesc'],
    ];
    for (const [opts, field] of bad) {
      assert.throws(
        () => rowsFromQueryResponse(two, opts),
        (e: unknown) => e instanceof ValidationError && e.field === field,
      );
    }
  });

  it('converts series to ui-chart points', () => {
    const s = seriesFromQueryResponse(two);
    assert.deepEqual(seriesToChart(s).slice(0, 4), [
      { series: 'a', x: 1000, y: 1 },
      { series: 'a', x: 2000, y: 2 },
      { series: 'a', x: 4000, y: 4 },
      { series: 'b', x: 2000, y: 20 },
    ]);
    assert.equal(seriesToChart(s).length, 6);
    assert.throws(() => seriesToChart('x' as unknown as []), ValidationError);
  });
});

describe('table: dropTrailingNa as the seed defines it (cut at the earliest last timestamp, then fill)', () => {
  // A fast metric with a point every second and a metric delayed by 3 s (its newest points are not in yet).
  const fast = res('fast', [1, 2, 3, 4, 5, 6].map((s) => [s * 1000, s] as [number, number]));
  const slow = res('slow', [1, 3].map((s) => [s * 1000, s * 10] as [number, number]));
  const delayed = resp([fast], [slow]);

  it('with ffill does not carry a delayed metric\'s stale value past its last timestamp', () => {
    const rows = rowsFromQueryResponse(delayed, { fillNaMethod: 'ffill' });
    assert.deepEqual(
      rows.map((r) => [r.Timestamp, r.fast, r.slow]),
      [
        [1000, 1, 10],
        [2000, 2, 10],
        [3000, 3, 30],
      ],
    );
    // without the cut the stale 30 would be repeated at 4000, 5000 and 6000
    assert.equal(rowsFromQueryResponse(delayed, { fillNaMethod: 'ffill', dropTrailingNa: false }).length, 6);
  });

  it('without fill keeps the row at the earliest last timestamp even where a metric has no value there', () => {
    const a = res('a', [
      [1000, 1],
      [3000, 3],
    ]);
    const b = res('b', [
      [1000, 10],
      [2000, 20],
      [4000, 40],
    ]);
    const c = res('c', [
      [2000, 200],
      [3500, 350],
    ]);
    const rows = rowsFromQueryResponse(resp([a], [b], [c]));
    // last timestamps 3000, 4000, 3500: cut at 3000, where b and c have no value
    assert.deepEqual(rows, [
      { Timestamp: 1000, a: 1, b: 10, c: null },
      { Timestamp: 2000, a: null, b: 20, c: 200 },
      { Timestamp: 3000, a: 3, b: null, c: null },
    ]);
  });

  it('bfill only fills from values inside the cut', () => {
    const rows = rowsFromQueryResponse(delayed, { fillNaMethod: 'bfill' });
    assert.deepEqual(
      rows.map((r) => [r.fast, r.slow]),
      [
        [1, 10],
        [2, 30],
        [3, 30],
      ],
    );
  });

  it('counts a series\' last point with a value (a trailing null is no value); a series without any value does not cut', () => {
    const x = res('x', [
      [1000, 1],
      [2000, 2],
      [3000, null],
    ]);
    const y = res('y', [
      [1000, 1],
      [3000, 3],
    ]);
    const empty = res('z', [[1500, null]]);
    assert.deepEqual(
      rowsFromQueryResponse(resp([x], [y], [empty])).map((r) => r.Timestamp),
      [1000, 1500, 2000],
    );
    assert.equal(rowsFromQueryResponse(resp([empty])).length, 1);
  });

  it('keeps every row of a single series and orders descending after the cut', () => {
    assert.equal(rowsFromQueryResponse(resp([fast])).length, 6);
    assert.deepEqual(
      rowsFromQueryResponse(delayed, { orderDesc: true, fillNaMethod: 'ffill' }).map((r) => r.Timestamp),
      [3000, 2000, 1000],
    );
  });
});

describe('table: every recorded KairosDB query response', () => {
  const files = readdirSync(CASES).filter((f) => f.endsWith('.json'));
  let checked = 0;
  for (const f of files) {
    const c = JSON.parse(readFileSync(join(CASES, f), 'utf8')) as { response: { body: unknown } };
    const body = c.response.body as KairosQueryResponse | null;
    if (!body || typeof body !== 'object' || !Array.isArray((body as KairosQueryResponse).queries)) continue;
    checked++;
    it(f, () => {
      // independent reference: a Map of timestamp -> cells, sorted afterwards
      const series = seriesFromQueryResponse(body);
      const nonEmpty = body.queries.flatMap((q) => q.results).filter((r) => r.values.length > 0);
      assert.equal(series.length, nonEmpty.length);
      assert.equal(new Set(series.map((s) => s.column)).size, series.length, 'column names are unique');
      const byTs = new Map<number, Array<unknown>>();
      nonEmpty.forEach((r, i) => {
        for (const [ts, v] of r.values) {
          const row = byTs.get(ts) ?? new Array(nonEmpty.length).fill(null);
          row[i] = v;
          byTs.set(ts, row);
        }
      });
      const sorted = [...byTs.entries()].sort((a, b) => a[0] - b[0]);
      const all = tableFromQueryResponse(body, { dropTrailingNa: false });
      assert.equal(all.rows.length, sorted.length);
      sorted.forEach(([ts, cells], i) => {
        assert.equal(all.rows[i].Timestamp, ts);
        series.forEach((s, c) => assert.equal(all.rows[i][s.column], cells[c]));
      });
      // the cut: the earliest of the series' last timestamps with a value
      const lasts = nonEmpty.map((r) => Math.max(...r.values.filter((p) => p[1] !== null).map((p) => p[0]))).filter((t) => t > -Infinity);
      const cut = lasts.length ? Math.min(...lasts) : Infinity;
      const keep = sorted.filter(([ts]) => ts <= cut).length;
      assert.equal(rowsFromQueryResponse(JSON.stringify(body)).length, keep);
    });
  }
  it('found the recorded query cases', () => assert.ok(checked >= 60, `only ${checked} cases`));
});
