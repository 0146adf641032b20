import assert from 'node:assert/strict';
import { gunzipSync } from 'node:zlib';
import { ValidationError } from '../../src/errors';
import { countPoints, gzipPush, metricsFromRows, metricsFromValues, normalizePushArray, serializePush, splitPush } from '../../src/kairos/push-body';
import type { KairosPushMetric } from '../../src/types';

const T = 1_767_225_600_000;
const tags = { host: 'plc1' };

describe('push payloads', () => {
  describe('metricsFromValues', () => {
    it('types floats as double, text as string, booleans as long 1/0 by default', () => {
      const r = metricsFromValues({ temp: 2.5, whole: 2, state: 'RUN', on: true, off: false }, { timestamp: T, tags });
      assert.deepEqual(r.errors, []);
      const byName = Object.fromEntries(r.metrics.map((m) => [m.name, m]));
      assert.equal(byName.temp.type, 'double');
      assert.equal(byName.whole.type, 'double');
      assert.equal(byName.state.type, 'string');
      assert.deepEqual(byName.on.datapoints, [[T, 1]]);
      assert.equal(byName.on.type, 'long');
      assert.deepEqual(byName.off.datapoints, [[T, 0]]);
      assert.deepEqual(byName.temp.tags, tags);
    });

    it('booleans can be stored as text', () => {
      const r = metricsFromValues({ on: true }, { timestamp: T, tags, booleans: 'string' });
      assert.deepEqual(r.metrics[0].datapoints, [[T, 'true']]);
      assert.equal(r.metrics[0].type, 'string');
    });

    it('a long series takes integers only', () => {
      const r = metricsFromValues({ count: 7, bad: 7.5, txt: '12' }, { timestamp: T, tags, types: { count: 'long', bad: 'long', txt: 'long' } });
      assert.equal(r.rejected, 1);
      assert.match(r.errors[0], /metric "bad".*integer.*7\.5/);
      assert.deepEqual(r.metrics.map((m) => [m.name, m.type, m.datapoints]), [
        ['count', 'long', [[T, 7]]],
        ['txt', 'long', [[T, 12]]],
      ]);
    });

    it('rejects bad values per point and keeps the valid ones', () => {
      const r = metricsFromValues({ ok: 1.5, nan: NaN, inf: Infinity, nul: null, obj: { a: 1 }, empty: '', '': 3 }, { timestamp: T, tags });
      assert.equal(r.rejected, 6);
      assert.deepEqual(r.metrics.map((m) => m.name), ['ok']);
      assert.ok(r.errors.some((e) => /"nan".*finite.*NaN/.test(e)));
      assert.ok(r.errors.some((e) => /"inf".*Infinity/.test(e)));
      assert.ok(r.errors.some((e) => /"nul".*null/.test(e)));
      assert.ok(r.errors.some((e) => /"obj".*object/.test(e)));
      assert.ok(r.errors.some((e) => /"empty".*empty string/.test(e)));
      assert.ok(r.errors.some((e) => /metric name/.test(e)));
    });

    it('needs at least one non-empty tag and a valid timestamp before anything is built', () => {
      assert.throws(() => metricsFromValues({ a: 1 }, { timestamp: T, tags: {} }), (e: unknown) => e instanceof ValidationError && e.field === 'tags');
      assert.throws(() => metricsFromValues({ a: 1 }, { timestamp: T, tags: { host: '' } }), /host/);
      assert.throws(() => metricsFromValues({ a: 1 }, { timestamp: 1.5, tags }), (e: unknown) => e instanceof ValidationError && e.field === 'timestamp');
      assert.throws(() => metricsFromValues({ a: 1 }, { timestamp: 0, tags }), /timestamp/);
      assert.throws(() => metricsFromValues({ a: 1 }, { timestamp: T, tags, types: { a: 'float' as never } }), /types\.a/);
    });
  });

  describe('metricsFromRows', () => {
    it('makes each column a metric, skipping empty cells', () => {
      const r = metricsFromRows(
        [
          { Timestamp: T, a: 1.5, b: 'x' },
          { Timestamp: '2026-01-01T00:00:01Z', a: null, b: 'y' },
          { Timestamp: new Date(T + 2000), a: 3, b: undefined as unknown as null },
        ],
        { tags },
      );
      assert.deepEqual(r.errors, []);
      assert.equal(r.rejected, 0);
      const a = r.metrics.find((m) => m.name === 'a');
      const b = r.metrics.find((m) => m.name === 'b');
      assert.deepEqual(a?.datapoints, [[T, 1.5], [T + 2000, 3]]);
      assert.deepEqual(b?.datapoints, [[T, 'x'], [T + 1000, 'y']]);
      assert.equal(a?.type, 'double');
      assert.equal(b?.type, 'string');
    });

    it('reads zone-less timestamps in the given zone and uses a custom column name', () => {
      const r = metricsFromRows([{ time: '2026-01-01 01:00:00', v: 1 }], { tags, zone: 'Europe/Berlin', timestampColumnName: 'time' });
      assert.deepEqual(r.metrics[0].datapoints, [[T, 1]]);
    });

    it('drops rows with unreadable timestamps, counting their values', () => {
      const r = metricsFromRows([{ Timestamp: 'soon', a: 1, b: 2 }, { a: 3 }, { Timestamp: T, a: 4 }], { tags });
      assert.equal(r.rejected, 3);
      assert.equal(r.errors.length, 2);
      assert.match(r.errors[0], /rows\[0\]\.Timestamp.*soon/);
      assert.match(r.errors[1], /rows\[1\]\.Timestamp/);
      assert.deepEqual(r.metrics[0].datapoints, [[T, 4]]);
    });

    it('splits a column holding numbers and text into two typed series', () => {
      const r = metricsFromRows([{ Timestamp: T, v: 1 }, { Timestamp: T + 1, v: 'err' }], { tags });
      assert.deepEqual(r.metrics.map((m) => m.type).sort(), ['double', 'string']);
    });
  });

  describe('normalizePushArray', () => {
    it('keeps valid points, names the metric, field and value of each bad one', () => {
      const r = normalizePushArray([
        { name: 'a', tags: { h: 'x' }, datapoints: [[T, 1], [T + 1, null], [0, 2], ['2026', 3], [T + 2, 'NaN'], [T + 3]] },
        { name: '', tags: { h: 'x' }, datapoints: [[T, 1]] },
        { name: 'b', tags: { h: '' }, datapoints: [[T, 1], [T + 1, 2]] },
        { name: 'c', tags: { h: 'x' }, timestamp: T, value: 4, type: 'long' },
      ]);
      assert.equal(r.rejected, 1 + 1 + 1 + 1 + 1 + 2);
      assert.deepEqual(
        r.metrics.map((m) => [m.name, m.type, m.datapoints]),
        [
          ['a', 'double', [[T, 1]]],
          ['a', 'string', [[T + 2, 'NaN']]],
          ['c', 'long', [[T, 4]]],
        ],
      );
      const all = r.errors.join('\n');
      assert.match(all, /metric "a" datapoints\[1\]\[1\].*null/);
      assert.match(all, /metric "a" datapoints\[2\]\[0\].*0\)/);
      assert.match(all, /metric "a" datapoints\[3\]\[0\].*"2026"/);
      assert.match(all, /metric "a" datapoints\[5\].*array\(1\)/);
      assert.match(all, /metric\[1\]\.name/);
      assert.match(all, /metric "b" tags.*"h"/);
    });

    it('adds default tags only where a metric has none, and rejects tagless metrics otherwise', () => {
      const input = [
        { name: 'a', datapoints: [[T, 1]] },
        { name: 'b', tags: { own: 'y' }, datapoints: [[T, 1]] },
      ];
      const r = normalizePushArray(input, { defaultTags: { site: 'bln' } });
      assert.deepEqual(r.metrics.map((m) => m.tags), [{ site: 'bln' }, { own: 'y' }]);
      const none = normalizePushArray(input);
      assert.equal(none.rejected, 1);
      assert.match(none.errors[0], /metric "a" tags: every metric needs at least one tag/);
    });

    it('accepts a single metric object, the time alias and per-point types; rejects bad types and ttl', () => {
      assert.equal(normalizePushArray({ name: 'a', tags, time: T, value: 1 }).metrics[0].datapoints?.[0][0], T);
      const r = normalizePushArray([
        { name: 'a', tags, datapoints: [[T, '5', 'long']] },
        { name: 'b', tags, type: 'complex', datapoints: [[T, 1]] },
        { name: 'c', tags, ttl: -1, datapoints: [[T, 1]] },
        { name: 'd', tags, ttl: 60, datapoints: [[T, 1]] },
      ]);
      assert.deepEqual(r.metrics.map((m) => [m.name, m.type, m.ttl]), [['a', 'long', undefined], ['d', 'double', 60]]);
      assert.equal(r.errors.length, 2);
      assert.throws(() => normalizePushArray('nope'), ValidationError);
    });
  });

  describe('serializePush', () => {
    it('writes doubles so KairosDB reads them as doubles, longs without exponents', () => {
      const metrics: KairosPushMetric[] = [
        { name: 'd', tags, type: 'double', datapoints: [[T, 2], [T + 1, 1e-7], [T + 2, 1.5], [T + 3, 1e21], [T + 4, -0.25]] },
        { name: 'l', tags, type: 'long', datapoints: [[T, 42], [T + 1, 2 ** 62]] },
        { name: 's', tags: { 'a"b': 'ü' }, type: 'string', ttl: 5, datapoints: [[T, 'he said "hi"']] },
      ];
      const text = serializePush(metrics);
      assert.match(text, /\[1767225600000,2\.0\]/);
      assert.match(text, /,1\.0e-7\]/);
      assert.match(text, /,1\.0e\+21\]/);
      assert.match(text, /,-0\.25\]/);
      assert.match(text, /,4611686018427387904\]/);
      const longPart = text.slice(text.indexOf('"name":"l"'), text.indexOf('"name":"s"'));
      assert.ok(!/e/i.test(longPart.slice(longPart.indexOf('"datapoints"') + 12)), longPart);
      const parsed = JSON.parse(text) as KairosPushMetric[];
      assert.equal(parsed[0].datapoints?.[1][1], 1e-7);
      assert.deepEqual(parsed[2], metrics[2]);
    });

    it('round-trips through JSON.parse like JSON.stringify for plain data', () => {
      const m: KairosPushMetric[] = [{ name: 'x', tags: { a: '1', b: '2' }, type: 'double', datapoints: [[T, 0.1], [T + 1, 3.25]] }];
      assert.deepEqual(JSON.parse(serializePush(m)), JSON.parse(JSON.stringify(m)));
      assert.equal(serializePush([]), '[]');
    });

    it('gzipPush compresses the text', async () => {
      const text = serializePush([{ name: 'x', tags, type: 'double', datapoints: [[T, 1]] }]);
      assert.equal(gunzipSync(await gzipPush(text)).toString(), text);
    });
  });

  describe('splitPush', () => {
    it('caps every request at the point limit, splitting large metrics', () => {
      const big: KairosPushMetric = { name: 'a', tags, type: 'double', datapoints: Array.from({ length: 7 }, (_, i) => [T + i, i] as [number, number]) };
      const small: KairosPushMetric = { name: 'b', tags, type: 'double', timestamp: T, value: 1 };
      const batches = splitPush([big, small], 3);
      assert.deepEqual(batches.map((b) => b.reduce((n, m) => n + countPoints(m), 0)), [3, 3, 2]);
      assert.deepEqual(batches[2].map((m) => m.name), ['a', 'b']);
      assert.deepEqual(batches.flat().filter((m) => m.name === 'a').flatMap((m) => m.datapoints), big.datapoints);
      assert.throws(() => splitPush([big], 0), /maxPointsPerRequest/);
    });
  });
});
