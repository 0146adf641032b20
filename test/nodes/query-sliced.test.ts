/**
 * The query node's answers built in slices: the same messages as the one-pass shaping (random
 * responses, fixed seeds, every output option), one send() per message (Node-RED clones every
 * message after the first of an array), and nothing sent once the node closes mid-conversion.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { helper, lastStatus, loadWithOutput, seed, until, useNodeRedAndKairos, type SpyCall } from './harness';
import { shapePointsSliced, shapeSeries, shapeSeriesSliced, shapeTableSliced, tableOptions, type ShapeOptions } from '../../nodes/lib/output';
import { scanColumnarTableSteps, scanSeriesPointsSteps, seriesFromQueryResponse } from '../../src/table/table-builder';
import { drain, SLICE_UNITS } from '../../src/util/slices';
import type { KairosQueryResponse, KairosResult, PointValue } from '../../src/types';
import type { NodeMessage } from '../../nodes/lib/red';
import { seededRandom } from '../helpers/random';

/** Responses with groups, gaps, duplicate times, descending and text series, some past a slice. */
function randomResponse(seed: number): KairosQueryResponse {
  const rnd = seededRandom(seed);
  const results: KairosResult[] = [];
  const nr = Math.floor(rnd() * 4);
  for (let r = 0; r < nr; r++) {
    const n = rnd() < 0.2 ? 0 : Math.floor(rnd() * (rnd() < 0.3 ? 1.5 * SLICE_UNITS : 50));
    const text = rnd() < 0.15;
    let t = 1000 * Math.floor(rnd() * 20);
    const values: Array<[number, PointValue | null]> = [];
    for (let i = 0; i < n; i++) {
      if (rnd() > 0.1) t += 1000;
      values.push([t, text ? `v${i}` : rnd() < 0.1 ? null : Math.round(rnd() * 1e4) / 100]);
    }
    if (rnd() < 0.3) values.reverse();
    const group_by = nr > 1 ? [{ name: 'tag', tags: ['host'], group: { host: `h${r}` } }, { name: 'type', type: text ? 'text' : 'number' }] : undefined;
    results.push({ name: 'm', ...(group_by ? { group_by } : {}), tags: { host: [`h${r}`] }, values });
  }
  return { queries: [{ sample_size: 0, results }] };
}

function shapes(): ShapeOptions[] {
  const out: ShapeOptions[] = [];
  for (const mode of ['rows', 'series', 'chart'] as const) {
    for (const tsFormat of ['ms', 'iso', 'date'] as const) {
      for (const [fill, dropTrailing, orderDesc] of [[null, true, false], ['ffill', false, true], ['bfill', true, true]] as const) {
        out.push({ mode, tsFormat, pointFormat: tsFormat === 'iso' ? 'xy' : 'pairs', fill, dropTrailing, orderDesc, chartAction: 'replace' });
      }
    }
  }
  return out;
}

describe('proficloud-query: answers in slices', function () {
  this.timeout(60_000);

  it('shapes the same messages as the one-pass shaping, for random responses and every output option (fixed seeds)', async function () {
    let messages = 0;
    for (let s = 1; s <= 40; s++) {
      const resp = randomResponse(s);
      const bytes = Buffer.from(JSON.stringify(resp));
      const series = seriesFromQueryResponse(resp);
      const points = drain(scanSeriesPointsSteps(bytes))!;
      for (const opts of shapes()) {
        const label = `seed ${s} ${JSON.stringify(opts)}`;
        const base = (): NodeMessage => ({ _msgid: 'x', keep: s });
        const expected = shapeSeries(series, undefined, opts, base);
        messages += expected.length;
        assert.deepEqual(await shapePointsSliced(points, opts, base), expected, label);
        assert.deepEqual(await shapeSeriesSliced(series, undefined, opts, base), expected, label);
        if (opts.mode === 'rows') {
          const table = drain(scanColumnarTableSteps(bytes, tableOptions(opts)))!;
          assert.deepEqual(await shapeTableSliced(table, opts, base), expected, label);
        }
      }
    }
    assert.ok(messages > 1000, `${messages} messages compared`);
  });

  describe('the node', function () {
    const env = useNodeRedAndKairos();
    const T0 = Date.UTC(2024, 6, 1);
    const N = 2 * SLICE_UNITS + 5;

    before(async function () {
      const pts = (k: number): Array<[number, number]> => Array.from({ length: N }, (_, i) => [T0 + i * 1000, i * k]);
      await seed(env.server.url, [
        { name: 'qs.a', tags: { h: 'x' }, datapoints: pts(1) },
        { name: 'qs.b', tags: { h: 'x' }, datapoints: pts(2) },
        { name: 'qs.c', tags: { h: 'x' }, datapoints: pts(3) },
      ]);
    });

    function queryNode(extra: Record<string, unknown>): Record<string, unknown> {
      return {
        id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'qs.a, qs.b, qs.c', metricsType: 'str',
        start: String(T0), startType: 'num', end: String(T0 + N * 1000), endType: 'num', output: 'series', tsFormat: 'ms',
        dropTrailing: true, order: 'asc', aggMode: 'list', aggregators: [], wires: [['out']], ...extra,
      };
    }

    async function load(q: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
      const got = await loadWithOutput(env.server.url, q);
      await until(() => lastStatus(helper.getNode('q')).text === 'node-red:common.status.connected', 3000, 'connected');
      return got;
    }

    it('series: each message by its own send(), in order, none of them a clone of another', async function () {
      const got = await load(queryNode({}));
      helper.getNode('q').receive({ payload: 'go' });
      await until(() => got.length === 3, 10_000, 'three series');
      assert.deepEqual(got.map((m) => m.topic), ['qs.a', 'qs.b', 'qs.c']);
      for (const [k, m] of got.entries()) {
        const payload = m.payload as Array<[number, number]>;
        assert.equal(payload.length, N);
        assert.deepEqual(payload[N - 1], [T0 + (N - 1) * 1000, (N - 1) * (k + 1)]);
      }
      const sends = (helper.getNode('q') as unknown as { send: { getCalls(): SpyCall[] } }).send.getCalls();
      assert.equal(sends.length, 3);
      for (const call of sends) assert.ok(!Array.isArray(call.args[0]), 'send() got an array of messages');
    });

    it('msg.query (a raw query body) gives the same rows, series and chart messages as the configured query', async function () {
      for (const output of ['rows', 'series', 'chart'] as const) {
        const got = await load(queryNode({ output, tsFormat: 'iso', order: 'desc', fill: 'ffill' }));
        helper.getNode('q').receive({ payload: 'configured' });
        const count = output === 'series' ? 3 : 1;
        await until(() => got.length === count, 10_000, `${output}: the configured answer`);
        const body = { start_absolute: T0, end_absolute: T0 + N * 1000, metrics: ['qs.a', 'qs.b', 'qs.c'].map((name) => ({ name, order: 'desc' })) };
        helper.getNode('q').receive({ payload: 'raw', query: body });
        await until(() => got.length === 2 * count, 10_000, `${output}: the msg.query answer`);
        const strip = (m: Record<string, unknown>): unknown => ({ ...m, _msgid: undefined, payload: m.payload, query: undefined });
        assert.deepEqual(got.slice(count).map(strip), got.slice(0, count).map((m) => ({ ...(strip(m) as object), payload: m.payload })), output);
        assert.equal(((got[0].payload as unknown[]) ?? []).length > 0, true);
        await helper.unload();
      }
    });

    for (const output of ['series', 'rows', 'chart'] as const) {
      it(`${output}: a node closed while the answer is being converted sends nothing`, async function () {
        // The built connector (what the node runs): when the response is in, the node is closed in the
        // first event-loop turn the conversion gives away.
        const { KairosConnector } = require(join(__dirname, '..', '..', 'dist', 'src', 'kairos', 'connector.js')) as typeof import('../../src/kairos/connector');
        const method = output === 'rows' ? 'queryColumnarSliced' : 'queryScannedSeries';
        const proto = KairosConnector.prototype as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
        const real = proto[method];
        const got = await load(queryNode({ output }));
        const node = helper.getNode('q') as unknown as { close(removed: boolean): Promise<void> };
        let converted = false;
        proto[method] = async function (this: unknown, ...a: unknown[]) {
          const r = await real.apply(this, a);
          converted = true;
          setImmediate(() => void node.close(false));
          return r;
        };
        try {
          helper.getNode('q').receive({ payload: 'go' });
          await until(() => converted, 10_000, 'the response');
          // Many turns later nothing has gone out.
          for (let i = 0; i < 50; i++) await new Promise((r) => setImmediate(r));
          await new Promise((r) => setTimeout(r, 50));
          assert.equal(got.length, 0);
        } finally {
          proto[method] = real;
        }
      });
    }
  });
});
