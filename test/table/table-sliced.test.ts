/**
 * The conversions of large query answers in slices (src/util/slices.ts): the same results as the
 * one-pass code for random responses large enough to cross many slice boundaries, event-loop turns
 * between the slices, and a stop on abort.
 */
import assert from 'node:assert/strict';
import { KairosConnector } from '../../src/kairos/connector';
import { scanQueryResponse, scanQueryResponseSteps } from '../../src/table/scan-query-response';
import {
  columnarTableFromQueryResponse,
  columnarTableSteps,
  rowsFromColumnarTable,
  rowsFromColumnarTableSteps,
  scanColumnarTableSteps,
  scanSeriesPointsSteps,
  scanSeriesSteps,
  seriesFromQueryResponse,
  seriesPointsOf,
  seriesToChartSteps,
  type ColumnarTable,
} from '../../src/table/table-builder';
import { chartFromPointsSteps, pairsSteps, valuesPayloadSteps, valuesSteps, xySteps } from '../../src/table/point-payloads';
import { chunks, drain, runSliced, SLICE_UNITS, type Steps } from '../../src/util/slices';
import { startServer, type LocalServer } from '../../src/server/index';
import type { KairosQueryResponse, KairosResult, PointValue, Series, TableOptions, TimestampFormat } from '../../src/types';
import { rowsFromQueryResponse as seedRows } from '../../bench/baseline/table-seed';
import { seededRandom } from '../helpers/random';

/** A number or null; `mixed` series get a rare string too (which makes the whole column non-numeric). */
function randomValue(rnd: () => number, mixed: boolean): PointValue | null {
  const r = rnd();
  if (r < 0.05) return null;
  if (mixed && r < 0.06) return ['a', 'ü"\\x', '😀', ''][Math.floor(rnd() * 4)];
  if (r < 0.3) return Math.round(rnd() * 1e6) - 5e5;
  return (rnd() - 0.5) * 10 ** Math.floor(rnd() * 10 - 5);
}

/**
 * Responses whose series run to several slices (SLICE_UNITS points each): gaps, duplicate
 * timestamps, ascending / descending / unsorted series, text series, empty results, groups.
 */
function largeResponse(seed: number): KairosQueryResponse {
  const rnd = seededRandom(seed);
  const queries: KairosQueryResponse['queries'] = [];
  const nq = 1 + Math.floor(rnd() * 2);
  for (let q = 0; q < nq; q++) {
    const results: KairosResult[] = [];
    const nr = Math.floor(rnd() * 4);
    for (let r = 0; r < nr; r++) {
      const n = rnd() < 0.15 ? 0 : Math.floor(rnd() * 2.5 * SLICE_UNITS);
      const kind = rnd();
      const step = 1 + Math.floor(rnd() * 3);
      const values: Array<[number, PointValue | null]> = [];
      let ts = 1000 * Math.floor(rnd() * 50);
      for (let i = 0; i < n; i++) {
        if (rnd() > 0.05) ts += 1000 * step; // else a duplicate timestamp
        values.push([ts, kind < 0.1 ? `t${i}` : kind < 0.2 && rnd() < 0.3 ? null : randomValue(rnd, kind < 0.35)]);
      }
      // Shorter, mostly null tails make dropTrailingNa cut somewhere in the middle.
      if (rnd() < 0.3) for (let i = Math.floor(values.length * 0.7); i < values.length; i++) values[i][1] = null;
      const order = rnd();
      if (order < 0.2) values.reverse();
      else if (order < 0.3) values.sort(() => (rnd() < 0.5 ? -1 : 1));
      const group_by = nr > 1 ? [{ name: 'tag', tags: ['host'], group: { host: `h${r % 2}` } }, { name: 'type', type: 'number' }] : undefined;
      results.push({ name: `m${q}`, ...(group_by ? { group_by } : {}), tags: { host: [`h${r}`] }, values });
    }
    queries.push({ sample_size: 0, results });
  }
  return { queries };
}

const OPTION_SETS: TableOptions[] = [
  {},
  { dropTrailingNa: false, convertTimestamp: 'iso' },
  { fillNaMethod: 'ffill', orderDesc: true },
  { fillNaMethod: 'bfill', convertTimestamp: 'date' },
  { fillNaMethod: 'pad', dropTrailingNa: false, orderDesc: true, timestampColumnName: 'time' },
];

const EVERY_TURN = { sliceMs: 0 };

/** The reference for series payloads: the one-pass mapping the nodes used before slices. */
function referencePayload(values: Array<[number, PointValue | null]>, fmt: TimestampFormat, xy: boolean): unknown[] {
  const f = (t: number): unknown => (fmt === 'ms' ? t : fmt === 'iso' ? new Date(t).toISOString() : new Date(t));
  return xy ? values.map(([t, v]) => ({ x: f(t), y: v })) : values.map(([t, v]) => [f(t), v]);
}

/**
 * The reference for ui-chart points (the one-pass code before slices): each series in ascending time
 * order — kept when ascending, reversed when descending (equal times then reversed too), else sorted
 * stably — one object per point.
 */
function referenceChart(series: Series[]): unknown[] {
  const out: unknown[] = [];
  for (const s of series) {
    const d = s.values.slice(1).map((p, i) => p[0] - s.values[i][0]);
    let values = s.values;
    if (d.some((x) => x < 0)) values = d.every((x) => x <= 0) ? s.values.slice().reverse() : s.values.slice().sort((a, b) => a[0] - b[0]);
    for (const [x, y] of values) out.push({ series: s.column, x, y: y ?? null });
  }
  return out;
}

function cellsAsRows(t: ColumnarTable): unknown[][] {
  const out: unknown[][] = [];
  for (let i = 0; i < t.rowCount; i++) out.push([t.timestamps[i], ...t.cells.map((c) => (c[i] !== c[i] ? null : c[i]))]);
  return out;
}

describe('table: conversions in slices', function () {
  this.timeout(120_000);

  it('give the results of the one-pass code for large random responses, every option set (fixed seeds)', async function () {
    for (let seed = 1; seed <= 8; seed++) {
      const resp = largeResponse(seed);
      const bytes = Buffer.from(JSON.stringify(resp));
      const label = `seed ${seed}`;
      const parsed = seriesFromQueryResponse(resp);

      // The scan, run with a turn at every pause, equals the one-pass scan and the parsed values.
      assert.deepEqual(await runSliced(scanQueryResponseSteps(bytes), EVERY_TURN), scanQueryResponse(bytes), label);
      const scannedSeries = await runSliced(scanSeriesSteps(bytes), EVERY_TURN);
      assert.deepEqual(scannedSeries, parsed, label);

      const points = (await runSliced(scanSeriesPointsSteps(bytes), EVERY_TURN))!;
      assert.deepEqual(
        points.map((p) => p.info),
        parsed.map(({ values: _v, ...info }) => info),
        label,
      );
      for (let i = 0; i < points.length; i++) {
        assert.deepEqual(await runSliced(valuesSteps(points[i].points), EVERY_TURN), parsed[i].values, label);
        for (const fmt of ['ms', 'iso', 'date'] as const) {
          assert.deepEqual(await runSliced(pairsSteps(points[i].points, fmt), EVERY_TURN), referencePayload(parsed[i].values, fmt, false), `${label} pairs ${fmt}`);
          assert.deepEqual(await runSliced(xySteps(points[i].points, fmt), EVERY_TURN), referencePayload(parsed[i].values, fmt, true), `${label} xy ${fmt}`);
          assert.deepEqual(await runSliced(valuesPayloadSteps(parsed[i].values, fmt, 'pairs'), EVERY_TURN), referencePayload(parsed[i].values, fmt, false), `${label} values ${fmt}`);
          assert.deepEqual(await runSliced(valuesPayloadSteps(parsed[i].values, fmt, 'xy'), EVERY_TURN), referencePayload(parsed[i].values, fmt, true), `${label} values xy ${fmt}`);
        }
      }
      const chart = referenceChart(parsed);
      assert.deepEqual(await runSliced(chartFromPointsSteps(points), EVERY_TURN), chart, label);
      assert.deepEqual(await runSliced(seriesToChartSteps(parsed), EVERY_TURN), chart, label);

      for (const opts of OPTION_SETS) {
        const l = `${label} ${JSON.stringify(opts)}`;
        const reference = columnarTableFromQueryResponse(resp, opts);
        const fromBytes = (await runSliced(scanColumnarTableSteps(bytes, opts), EVERY_TURN))!;
        const fromPoints = await runSliced(columnarTableSteps(seriesPointsOf(parsed), opts), EVERY_TURN);
        for (const t of [fromBytes, fromPoints]) {
          assert.deepEqual(t.columns, reference.columns, l);
          assert.deepEqual(t.series, reference.series, l);
          assert.equal(t.pointCount, reference.pointCount, l);
          assert.deepEqual(cellsAsRows(t), cellsAsRows(reference), l);
        }
        const rows = await runSliced(rowsFromColumnarTableSteps(fromBytes, opts.convertTimestamp), EVERY_TURN);
        // The implementation before the typed-array rewrite is the independent reference for the rows.
        assert.deepEqual(rows, seedRows(resp, opts), l);
        assert.deepEqual(rows, rowsFromColumnarTable(reference, opts.convertTimestamp), l);
      }
    }
  });

  it('empty answers: no series, an empty table, empty payloads', async function () {
    for (const resp of [{ queries: [] }, { queries: [{ sample_size: 0, results: [] }] }, { queries: [{ sample_size: 0, results: [{ name: 'x', values: [] }] }] }]) {
      const bytes = Buffer.from(JSON.stringify(resp));
      assert.deepEqual(await runSliced(scanSeriesPointsSteps(bytes), EVERY_TURN), []);
      const table = (await runSliced(scanColumnarTableSteps(bytes), EVERY_TURN))!;
      assert.equal(table.rowCount, 0);
      assert.deepEqual(table.columns, []);
      assert.deepEqual(await runSliced(rowsFromColumnarTableSteps(table), EVERY_TURN), []);
      assert.deepEqual(await runSliced(chartFromPointsSteps([]), EVERY_TURN), []);
    }
  });

  it('gives the event loop a turn between slices: an interleaved setImmediate counter runs during a large conversion', async function () {
    const n = 40 * SLICE_UNITS;
    const values = Array.from({ length: n }, (_, i) => [1_700_000_000_000 + i * 1000, i % 7 === 0 ? null : i / 3]);
    const bytes = Buffer.from(JSON.stringify({ queries: [{ results: [{ name: 'a', values }, { name: 'b', values }] }] }));
    let turns = 0;
    let running = true;
    const tick = (): void => {
      turns++;
      if (running) setImmediate(tick);
    };
    setImmediate(tick);
    try {
      const table = (await runSliced(scanColumnarTableSteps(bytes), EVERY_TURN))!;
      const afterScan = turns;
      // Two series of n points: the scan alone pauses at least once per SLICE_UNITS points of each.
      assert.ok(afterScan >= 2 * 40, `only ${afterScan} turns during the scan and join`);
      const rows = await runSliced(rowsFromColumnarTableSteps(table), EVERY_TURN);
      assert.equal(rows.length, n);
      // Rows are sliced by cells: three columns per row.
      assert.ok(turns - afterScan >= Math.floor((3 * n) / SLICE_UNITS) - 1, `only ${turns - afterScan} turns while building rows`);
      const points = (await runSliced(scanSeriesPointsSteps(bytes), EVERY_TURN))!;
      const before = turns;
      const chart = await runSliced(chartFromPointsSteps(points), EVERY_TURN);
      assert.equal(chart.length, 2 * n);
      assert.ok(turns - before >= 2 * 40 - 1, `only ${turns - before} turns while building chart points`);
    } finally {
      running = false;
    }
    // With the default slice time the conversion still starts with a turn, whatever the machine's speed.
    const at = turns;
    running = true;
    setImmediate(tick);
    await runSliced(scanSeriesPointsSteps(bytes));
    running = false;
    assert.ok(turns > at);
  });

  it('stops at the next pause once the signal is aborted, with its reason, and closes the steps', async function () {
    let closedSteps = false;
    let done = 0;
    function* work(): Steps<string> {
      try {
        yield* chunks(100, 1, () => done++);
        return 'finished';
      } finally {
        closedSteps = true;
      }
    }
    const ctl = new AbortController();
    const reason = new Error('node closed');
    setImmediate(() => setImmediate(() => ctl.abort(reason)));
    await assert.rejects(runSliced(work(), { signal: ctl.signal, sliceMs: 0 }), (err) => err === reason);
    assert.ok(done > 0 && done < 100, `${done} chunks ran`);
    assert.ok(closedSteps);
    // Aborted before it starts: nothing runs.
    done = 0;
    await assert.rejects(runSliced(work(), { signal: AbortSignal.abort(reason) }), (err) => err === reason);
    assert.equal(done, 0);
    assert.equal(drain(work()), 'finished');
  });

  describe('KairosConnector', function () {
    let server: LocalServer;
    let connector: KairosConnector;
    const T0 = Date.UTC(2024, 0, 1);
    const N = 3 * SLICE_UNITS + 17;

    before(async function () {
      server = await startServer({ host: '127.0.0.1', port: 0, selfMetrics: false });
      connector = new KairosConnector({ baseUrl: server.url, timeZone: 'UTC' });
      const points = (k: number): Array<[number, number]> => Array.from({ length: N - k * 5 }, (_, i) => [T0 + i * 1000, i * k + 0.5]);
      await connector.push([
        { name: 'sl.a', tags: { h: 'x' }, datapoints: points(1) },
        { name: 'sl.b', tags: { h: 'y' }, datapoints: points(2) },
        { name: 'sl.c', type: 'string', tags: { h: 'z' }, datapoints: Array.from({ length: 100 }, (_, i) => [T0 + i * 7000, `s${i}`]) },
      ] as never);
    });

    after(async function () {
      await connector?.close();
      await server?.close();
    });

    it('queryColumnarSliced and queryScannedSeries answer as queryColumnar and querySeries, every option set and order', async function () {
      for (const order of ['asc', 'desc'] as const) {
        const q = { metrics: ['sl.a', 'sl.b', 'sl.c'], startAbsolute: T0, endAbsolute: T0 + N * 1000, order };
        for (const opts of OPTION_SETS) {
          const sliced = await connector.queryColumnarSliced({ ...q, ...opts });
          const once = await connector.queryColumnar({ ...q, ...opts });
          assert.deepEqual(sliced.columns, once.columns);
          assert.deepEqual(cellsAsRows(sliced), cellsAsRows(once));
        }
        const grouped = { ...q, groupBy: [{ name: 'tag' as const, tags: ['h'] }] };
        for (const query of [q, grouped]) {
          const scanned = await connector.queryScannedSeries(query);
          assert.ok('points' in scanned);
          const series = await connector.querySeries(query);
          assert.deepEqual(
            await Promise.all(scanned.points.map(async (p) => ({ ...p.info, values: await runSliced(valuesSteps(p.points)) }))),
            series,
          );
        }
      }
    });

    it('an abort while the response is being converted rejects with the reason', async function () {
      const http = (connector as unknown as { http: { requestOk: (...a: unknown[]) => Promise<unknown> } }).http;
      const real = http.requestOk;
      const ctl = new AbortController();
      const reason = new Error('closed mid-conversion');
      // The response is in; the abort lands in the first event-loop turn the conversion gives away.
      http.requestOk = async function (this: unknown, ...a: unknown[]) {
        const resp = await real.apply(this, a);
        setImmediate(() => ctl.abort(reason));
        return resp;
      };
      try {
        await assert.rejects(connector.queryColumnarSliced({ metrics: ['sl.a', 'sl.b'], startAbsolute: T0, endAbsolute: T0 + N * 1000 }, ctl.signal), (e) => e === reason);
        const ctl2 = new AbortController();
        const reason2 = new Error('closed again');
        http.requestOk = async function (this: unknown, ...a: unknown[]) {
          const resp = await real.apply(this, a);
          setImmediate(() => ctl2.abort(reason2));
          return resp;
        };
        await assert.rejects(connector.queryScannedSeries({ metrics: ['sl.a'], startAbsolute: T0, endAbsolute: T0 + N * 1000 }, ctl2.signal), (e) => e === reason2);
      } finally {
        http.requestOk = real;
      }
    });
  });
});
