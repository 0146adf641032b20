import assert from 'node:assert/strict';
import { ParseError } from '../../src/errors';
import { ByteScanner } from '../../src/table/byte-scanner';
import {
  columnarTableFromBytes,
  columnarTableFromQueryResponse,
  rowsFromColumnarTable,
  rowsFromQueryResponse,
  tableFromQueryResponse,
  type ColumnarTable,
} from '../../src/table/table-builder';
import type { KairosQueryResponse, KairosResult, PointValue, TableOptions } from '../../src/types';
import { rowsFromQueryResponse as seedRows } from '../../bench/baseline/table-seed';
import { seededRandom } from '../helpers/random';

function randomValue(rnd: () => number): PointValue | null {
  const r = rnd();
  if (r < 0.05) return null;
  if (r < 0.1) return ['a', 'ü"\\x', '😀', 'tab\there', ''][Math.floor(rnd() * 5)];
  if (r < 0.3) return Math.round(rnd() * 1e6) - 5e5;
  if (r < 0.4) return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 40 - 20);
  if (r < 0.5) return 2 ** 53 + Math.floor(rnd() * 1000) * 2;
  return (rnd() - 0.5) * 1000;
}

/** Random responses with shared, duplicate, descending and unsorted timestamps and text series. */
function randomResponse(seed: number): KairosQueryResponse {
  const rnd = seededRandom(seed);
  const queries: KairosQueryResponse['queries'] = [];
  const nq = 1 + Math.floor(rnd() * 4);
  for (let q = 0; q < nq; q++) {
    const results: KairosResult[] = [];
    const nr = Math.floor(rnd() * 3);
    for (let r = 0; r < nr; r++) {
      const n = Math.floor(rnd() * 40);
      const textOnly = rnd() < 0.2;
      let values: Array<[number, PointValue | null]> = [];
      for (let i = 0; i < n; i++) {
        const ts = 1000 * Math.floor(rnd() * 30);
        values.push([ts, textOnly ? `t${i}` : randomValue(rnd)]);
      }
      const order = rnd();
      if (order < 0.6) values.sort((a, b) => a[0] - b[0]);
      else if (order < 0.8) values = values.sort((a, b) => a[0] - b[0]).reverse();
      const group_by = nr > 1 ? [{ name: 'tag', tags: ['host'], group: { host: `h${r}` } }, { name: 'type', type: textOnly ? 'text' : 'number' }] : [{ name: 'type', type: 'number' }];
      results.push({ name: `m${q % 2}`, group_by, tags: { host: [`h${r}`] }, values });
    }
    queries.push({ sample_size: 0, results });
  }
  return { queries };
}

function cellsAsRows(t: ColumnarTable): unknown[][] {
  const out: unknown[][] = [];
  for (let i = 0; i < t.rowCount; i++) out.push([t.timestamps[i], ...t.cells.map((c) => (c[i] !== c[i] ? null : c[i]))]);
  return out;
}

const OPTION_SETS: TableOptions[] = [
  {},
  { dropTrailingNa: false },
  { fillNaMethod: 'ffill' },
  { fillNaMethod: 'bfill', orderDesc: true },
  { fillNaMethod: 'pad', dropTrailingNa: false, orderDesc: true, timestampColumnName: 'time' },
];

describe('table fast path: bytes scanned into typed arrays', () => {
  it('gives the same tables from bytes as from the parsed object, for 300 random responses and every option set', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const resp = randomResponse(seed);
      const compact = Buffer.from(JSON.stringify(resp));
      const spaced = JSON.stringify(resp, null, seed % 2 ? 2 : '\t');
      for (const opts of OPTION_SETS) {
        const fromObject = columnarTableFromQueryResponse(resp, opts);
        const fromBytes = columnarTableFromBytes(compact, opts);
        const fromText = columnarTableFromBytes(spaced, opts);
        const label = `seed ${seed} ${JSON.stringify(opts)}`;
        assert.deepEqual(fromBytes.columns, fromObject.columns, label);
        assert.deepEqual(fromBytes.series, fromObject.series, label);
        assert.deepEqual(cellsAsRows(fromBytes), cellsAsRows(fromObject), label);
        assert.deepEqual(cellsAsRows(fromText), cellsAsRows(fromObject), label);
        // The implementation before the rewrite is the independent reference for the rows.
        assert.deepEqual(rowsFromQueryResponse(compact, opts), seedRows(resp, opts), label);
      }
    }
  });

  it('reads numbers exactly as JSON.parse does', () => {
    const rnd = seededRandom(42);
    const texts = ['0', '-0', '1', '-1', '1.0E-7', '1e21', '2E2', '1.5e3', '9007199254740993', '123456789012345678901234567890', '0.1', '1e-400', '1e400', '4.9e-324', '2.2250738585072014E-308'];
    for (let i = 0; i < 20000; i++) {
      const v = (rnd() - 0.5) * 10 ** Math.floor(rnd() * 30 - 15);
      texts.push(String(v), v.toFixed(Math.floor(rnd() * 8)), v.toExponential(Math.floor(rnd() * 17)), v.toPrecision(1 + Math.floor(rnd() * 21)));
    }
    for (const t of texts) {
      const s = new ByteScanner(Buffer.from(t));
      const got = s.number();
      assert.ok(Object.is(got, JSON.parse(t)), `${t}: got ${got}`);
      assert.equal(s.pos, t.length, t);
    }
  });

  it('stores numeric series as Float64Array with NaN for missing cells, text series as arrays with null', () => {
    const body = '{"queries":[{"results":[{"name":"a","values":[[1,1.5],[3,null]]}]},{"results":[{"name":"b","values":[[2,"x"]]}]}]}';
    const t = columnarTableFromBytes(body, { dropTrailingNa: false });
    assert.deepEqual(t.columns, ['Timestamp', 'a', 'b']);
    assert.deepEqual([...t.timestamps], [1, 2, 3]);
    assert.ok(t.cells[0] instanceof Float64Array);
    assert.deepEqual([...t.cells[0]], [1.5, NaN, NaN]);
    assert.deepEqual(t.cells[1], [null, 'x', null]);
    assert.deepEqual(rowsFromColumnarTable(t, 'iso')[1], { Timestamp: '1970-01-01T00:00:00.002Z', a: null, b: 'x' });
    assert.throws(() => rowsFromColumnarTable(t, 'unix' as 'ms'), /convertTimestamp/);
  });

  it('falls back to the parser for odd shapes and invalid JSON, with the same results and errors', () => {
    const odd = [
      '{"queries":[{"results":[{"name":"a","values":[[1,true],[2,{"x":1}]]}]}]}',
      '{"queries":[{"results":[{"name":"a","values":[[1,2,3]]}]}]}',
      '\ufeff{"queries":[]}',
    ];
    assert.deepEqual(rowsFromQueryResponse(odd[0], { dropTrailingNa: false }), [
      { Timestamp: 1, a: true },
      { Timestamp: 2, a: { x: 1 } },
    ]);
    assert.deepEqual(tableFromQueryResponse(odd[1]).rows, [{ Timestamp: 1, a: 2 }]);
    assert.throws(() => rowsFromQueryResponse(odd[2]), ParseError);
    const invalid = [
      '{"queries": [ ',
      '{"queries":[]} x',
      '{"queries":[{"results":[{"name":"a","values":[[1,01]]}]}]}',
      '{"queries":[{"results":[{"name":"a","values":[[1,1.]]}]}]}',
      '{"queries":[{"results":[{"name":"a","values":[[1,2],]}]}]}',
      '{"queries":[{"results":[{"name":"a","tags":{"h":["x"],},"values":[]}]}]}',
      '{"queries":[{"results":[{"name":"a\u0001","values":[]}]}]}',
      '{"queries":[{"results":[{"name":"a\\x","values":[]}]}]}',
      '{"queries":[{"results":[{"name":"a","values":[[1,"\\u12"]]}]}]}',
    ];
    for (const body of invalid) assert.throws(() => columnarTableFromBytes(body), ParseError, body);
    assert.throws(() => columnarTableFromBytes('{"errors":["x"]}'), /no "queries" array/);
    assert.throws(() => columnarTableFromBytes('{"queries":[{"results":[{"values":[]}]}]}'), /has no "name"/);
    assert.throws(() => columnarTableFromBytes('{"queries":[{"results":[{"name":"a","values":null}]}]}'), /values is not an array/);
  });

  it('takes the last of duplicate keys, as JSON.parse does, and reads unknown keys', () => {
    const body = '{"x":{"deep":[1,{"y":"]}"}]},"queries":[{"sample_size":2,"results":[{"name":"a","values":[[1,1]],"extra":[[[]]],"values":[[5,5]]}]}]}';
    assert.deepEqual(rowsFromQueryResponse(body), [{ Timestamp: 5, a: 5 }]);
  });

  it('accepts a Uint8Array and gives an empty table for empty responses', () => {
    const u8 = new Uint8Array(Buffer.from('{"queries":[{"results":[{"name":"x","tags":{},"values":[]}]}]}'));
    const t = columnarTableFromBytes(u8);
    assert.deepEqual([t.columns, t.rowCount, t.cells], [[], 0, []]);
  });
});
