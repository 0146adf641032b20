import assert from 'node:assert/strict';
import { metricsFromRows, normalizePushArray, serializeColumnsToBuffer, serializePush, serializePushToBuffer, splitPush } from '../../src/kairos/push-body';
import { seededRandom } from '../helpers/random';
import type { KairosPushMetric, PointValue, Row } from '../../src/types';

const T = 1767225600000;
const tags = { host: 'plc1' };

/** The serialiser's contract written the plain way: String(v), '.0' added to doubles without a '.'. */
function reference(metrics: KairosPushMetric[]): string {
  const long = (v: number): string => (Number.isSafeInteger(v) ? String(v) : BigInt(v).toString());
  const dbl = (v: number): string => {
    const s = String(v);
    if (s.includes('.')) return s;
    const e = s.indexOf('e');
    return e < 0 ? `${s}.0` : `${s.slice(0, e)}.0${s.slice(e)}`;
  };
  const value = (v: PointValue, type: string | undefined): string => {
    if (typeof v === 'string') return JSON.stringify(v);
    return type === 'long' || (type !== 'double' && Number.isInteger(v)) ? long(v) : dbl(v);
  };
  return `[${metrics
    .map((m) => {
      let out = `{"name":${JSON.stringify(m.name)},"tags":${JSON.stringify(m.tags)}`;
      if (m.type !== undefined) out += `,"type":${JSON.stringify(m.type)}`;
      if (m.ttl !== undefined) out += `,"ttl":${long(m.ttl)}`;
      if (m.datapoints) {
        const pts = m.datapoints.map((p) => `[${long(p[0])},${value(p[1], p.length === 3 ? p[2] : m.type)}${p.length === 3 ? `,${JSON.stringify(p[2])}` : ''}]`);
        out += `,"datapoints":[${pts.join(',')}]`;
      }
      if (m.timestamp !== undefined) out += `,"timestamp":${long(m.timestamp)}`;
      if (m.value !== undefined) out += `,"value":${value(m.value, m.type)}`;
      return out + '}';
    })
    .join(',')}]`;
}

/** A deterministic mix of every kind of double the writer treats differently. */
function doubles(n: number, seed: number): number[] {
  let x = seed;
  const rnd = (): number => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = rnd();
    const sign = rnd() < 0.3 ? -1 : 1;
    switch (i % 10) {
      case 0: out.push(sign * r * 100); break; // full precision
      case 1: out.push(sign * Math.round(r * 1e6) / 1e3); break; // 3 decimals
      case 2: out.push(sign * Math.round(r * 1e12) / 1e6); break; // 6 decimals, large
      case 3: out.push(sign * Math.round(r * 1e8)); break; // integral doubles
      case 4: out.push(sign * r * 1e-7); break; // exponent form, small
      case 5: out.push(sign * (r + 1) * 1e21); break; // exponent form, large
      case 6: out.push(sign * (2 ** 31 - r)); break; // just below the digit-path limit
      case 7: out.push(sign * (2 ** 31 + r * 1e6)); break; // above it
      case 8: out.push(sign * Math.round(r * 1e7) / 1e7); break; // 7 decimals
      default: out.push([0, -0, 1e-6, 1.5e-6, 0.1, 0.30000000000000004, 5e-324, Number.MAX_VALUE, 2 ** 53, 999999.9999995][i % 10 === 9 ? Math.floor(r * 10) : 0]);
    }
  }
  return out;
}

describe('push serialisation (fast writer)', () => {
  it('writes every kind of double exactly as String() would, across chunk boundaries', () => {
    // More than 4096 points so the batched formatting of hard doubles runs over several chunks.
    const values = doubles(9000, 7);
    const m: KairosPushMetric[] = [{ name: 'd', tags, type: 'double', datapoints: values.map((v, i) => [T + i, v] as [number, number]) }];
    const text = serializePush(m);
    assert.equal(text, reference(m));
    const parsed = JSON.parse(text) as Array<{ datapoints: Array<[number, number]> }>;
    parsed[0].datapoints.forEach((p, i) => assert.ok(Object.is(p[1], values[i]) || (p[1] === 0 && values[i] === 0), `point ${i}: ${p[1]} != ${values[i]}`));
    // Every double keeps a '.', so KairosDB stores it as a double.
    for (const token of text.slice(text.indexOf('"datapoints"')).matchAll(/,(-?[\d.eE+-]+)\]/g)) assert.ok(token[1].includes('.'), token[1]);
  });

  it('matches the plain serialiser for longs, untyped metrics, strings, per-point types, ttl and the single-point form', () => {
    const metrics: KairosPushMetric[] = [
      { name: 'l', tags, type: 'long', datapoints: [[T, 0], [T + 1, -42], [T + 2, 2 ** 62], [T + 3, -(2 ** 60)], [T + 4, Number.MAX_SAFE_INTEGER]] },
      { name: 'u', tags: { a: '1', b: 'x y' }, datapoints: [[T, 3], [T + 1, 2.5], [T + 2, 'text'], [T + 3, 1e21], [T + 4, 7, 'double'], [T + 5, 8, 'long'], [T + 6, 'ö', 'string']] },
      { name: 'ünï "q"\n', tags: { 'k"\\': 'v\u0001€' }, type: 'string', ttl: 3600, datapoints: [[T, 'a\tb'], [T + 1, '😀']] },
      { name: 's', tags, type: 'double', timestamp: T, value: 4, ttl: 0 },
      { name: 'e', tags, type: 'double', datapoints: [] },
    ];
    assert.equal(serializePush(metrics), reference(metrics));
    assert.deepEqual(serializePushToBuffer(metrics), Buffer.from(reference(metrics), 'utf8'));
    assert.equal(serializePush([]), '[]');
  });

  it('gives the same text when called again (the scratch writer is reset) and for large payloads', () => {
    const small: KairosPushMetric[] = [{ name: 'x', tags, type: 'double', datapoints: [[T, 1.25]] }];
    const big: KairosPushMetric[] = [{ name: 'y', tags, type: 'double', datapoints: doubles(200000, 3).map((v, i) => [T + i, v] as [number, number]) }];
    const first = serializePush(small);
    const bigText = serializePush(big);
    assert.equal(serializePush(small), first);
    assert.equal(first, '[{"name":"x","tags":{"host":"plc1"},"type":"double","datapoints":[[1767225600000,1.25]]}]');
    assert.equal(bigText, reference(big));
  });

  it('still refuses values that are not finite numbers or strings, naming the value', () => {
    for (const bad of [NaN, Infinity, true as unknown as number]) {
      assert.throws(() => serializePush([{ name: 'x', tags, type: 'double', datapoints: [[T, bad]] }]), /value/);
    }
  });

  it('writes column series as the plain serialiser would, for every kind of timestamp and double (fixed seeds)', () => {
    // Timestamps where the digit writer changes its split: below 1e4, 1e8, at 2^31, the 13-digit epochs and 2^53 - 1.
    const edges = [1, 9, 10, 9999, 10000, 99999999, 1e8, 1e8 + 1, 2 ** 31 - 1, 2 ** 31, 999999999999, 1e12, T, 1e13 - 1, 1e15 + 12345, Number.MAX_SAFE_INTEGER];
    for (const seed of [1, 42, 2024]) {
      const r = seededRandom(seed);
      const n = 5000 + Math.floor(r() * 5000);
      const values = doubles(n, seed);
      const times = Array.from({ length: n }, (_, i) => (i < edges.length ? edges[i] : r() < 0.5 ? T + i * 1000 : 1 + Math.floor(r() * Number.MAX_SAFE_INTEGER)));
      const columns = { name: 'c', tags, timestamps: Float64Array.from(times), values: Float64Array.from(values), length: n };
      const from = Math.floor(r() * 100);
      const to = n - Math.floor(r() * 100);
      const m: KairosPushMetric[] = [{ name: 'c', tags, type: 'double', datapoints: times.slice(from, to).map((t, i) => [t, values[from + i]] as [number, number]) }];
      assert.equal(serializeColumnsToBuffer([{ columns, from, to }]).toString('latin1'), reference(m), `seed ${seed}`);
    }
  });
});

describe('metricsFromRows fast path', () => {
  it('builds the same series as the general path for numbers, and keeps first-seen series order', () => {
    const rows: Row[] = [
      { Timestamp: T, b: 1, a: 2.5 },
      { a: 3, Timestamp: T + 1000, b: null }, // other key order
      { Timestamp: T + 2000, a: 'text', b: 4 },
    ];
    const out = metricsFromRows(rows, { tags });
    assert.deepEqual(
      out.metrics.map((m) => [m.name, m.type, m.datapoints]),
      [
        ['b', 'double', [[T, 1], [T + 2000, 4]]],
        ['a', 'double', [[T, 2.5], [T + 1000, 3]]],
        ['a', 'string', [[T + 2000, 'text']]],
      ],
    );
    assert.equal(out.rejected, 0);
  });

  it('uses declared types, rejects blank column names and bad timestamps with their row, keeps ISO times', () => {
    const rows: Row[] = [
      { Timestamp: T, n: 5, ' ': 1 },
      { Timestamp: T + 1.5, n: 6 },
      { Timestamp: -5, n: 7 },
      { Timestamp: '2026-01-01T00:00:03Z', n: 8 },
      { Timestamp: null, n: 9 },
    ];
    const out = metricsFromRows(rows, { tags, types: { n: 'long' } });
    assert.deepEqual(out.metrics.map((m) => [m.name, m.type, m.datapoints]), [['n', 'long', [[T, 5], [T + 2, 6], [T + 3000, 8]]]]);
    assert.equal(out.rejected, 3);
    assert.ok(out.errors.some((e) => /metric name: must be a non-empty string/.test(e)), out.errors.join('\n'));
    assert.ok(out.errors.some((e) => /rows\[2\]\.Timestamp/.test(e)), out.errors.join('\n'));
    assert.ok(out.errors.some((e) => /rows\[4\]\.Timestamp.*missing timestamp/.test(e)), out.errors.join('\n'));
  });

  it('rejects every row when the zone is unknown, as the general path does', () => {
    const out = metricsFromRows([{ Timestamp: T, a: 1 }], { tags, zone: 'Mars/Olympus' });
    assert.equal(out.metrics.length, 0);
    assert.equal(out.rejected, 1);
    assert.match(out.errors[0], /zone/);
  });
});

describe('normalizePushArray and splitPush fast paths', () => {
  it('keeps plain numeric points, series order and every per-point message of the general path', () => {
    const out = normalizePushArray([
      { name: 'a', tags, datapoints: [[T, 1], [T + 1, 'x'], [T + 2, 2], [0, 3], [T + 3, NaN], [T + 4, 5, 'long'], [T + 5], null] },
      { name: 'l', tags, type: 'long', datapoints: [[T, 7], [T + 1, 7.5]] },
      { name: 'a', tags, timestamp: T + 9, value: 9 },
    ]);
    assert.deepEqual(
      out.metrics.map((m) => [m.name, m.type, m.datapoints]),
      [
        ['a', 'double', [[T, 1], [T + 2, 2], [T + 9, 9]]],
        ['a', 'string', [[T + 1, 'x']]],
        ['a', 'long', [[T + 4, 5]]],
        ['l', 'long', [[T, 7]]],
      ],
    );
    assert.equal(out.rejected, 5);
    assert.deepEqual(out.errors, [
      'metric "a" datapoints[3][0]: timestamp must be after 1970-01-01T00:00:00Z (got 0)',
      `metric "a" datapoints[4][1] at ${T + 3}: must be a finite number (got NaN)`,
      'metric "a" datapoints[6]: must be [timestamp, value] or [timestamp, value, type] (got array(1))',
      'metric "a" datapoints[7]: timestamp must be epoch milliseconds (a finite number) (got undefined)',
      `metric "l" datapoints[1][1] at ${T + 1}: must be an integer for a long series (got 7.5)`,
    ]);
  });

  it('splits a large metric into consecutive slices without losing or repeating points', () => {
    const datapoints = Array.from({ length: 25_003 }, (_, i) => [T + i, i] as [number, number]);
    const batches = splitPush([{ name: 'x', tags, type: 'double', datapoints }, { name: 'y', tags, type: 'double', datapoints: [[T, 1]] }], 10_000);
    assert.deepEqual(batches.map((b) => b.map((m) => m.datapoints?.length)), [[10_000], [10_000], [5_003, 1]]);
    assert.deepEqual(batches.flat().filter((m) => m.name === 'x').flatMap((m) => m.datapoints), datapoints);
  });
});
