/**
 * Aggregator values and timestamps against responses recorded from KairosDB 1.3.0
 * (shared/conformance cases; the data are the pushes of cases 005, 006, 009, 012 and 019).
 */
import assert from 'node:assert/strict';
import { applyAggregators, parseAggregators, aggregatedTypeGroup, type AggregatorContext } from '../../src/server/aggregators/compile';
import { ServerError } from '../../src/server/server-errors';
import type { Points, TypeGroup } from '../../src/server/point-types';

const T0 = 1767225600000; // 2026-01-01T00:00:00Z
const MIN = 60_000;
const Q_START = 1767225540000;
const Q_END = 1767229200000;

/** cf.cpu host=h1 (case 005): one point a minute. */
const H1_VALUES = [5, 3, 8, 1, 9, 2, 7, 4, 6, 10];
/** cf.cpu host=h2 (case 006): doubles, offset 30 s. */
const H2_VALUES = [1.5, 2.5, 0.5, 4.25, 3.0, 6.5, 2.0, 8.75, 1.0, 5.5];

function series(values: Array<number | string>, start = T0, step = MIN): Points {
  return { ts: values.map((_, i) => start + i * step), vs: values.slice() };
}
const h1 = (): Points => series(H1_VALUES);
const h2 = (): Points => series(H2_VALUES, T0 + 30_000);
const h3 = (): Points => series(H1_VALUES.map((_, i) => (i + 1) * 100));

function merge(...parts: Points[]): Points {
  const pairs = parts.flatMap((p) => p.ts.map((t, i) => [t, p.vs[i]] as const));
  pairs.sort((a, b) => a[0] - b[0]);
  return { ts: pairs.map((p) => p[0]), vs: pairs.map((p) => p[1]) };
}

interface Saved {
  name: string;
  tags: Record<string, string>;
  points: Points;
  ttl: number;
}

function context(over: Partial<AggregatorContext> = {}, saved: Saved[] = []): AggregatorContext {
  return {
    queryStart: Q_START,
    queryEnd: Q_END,
    timeZone: 'UTC',
    now: Date.UTC(2030, 0, 1),
    metricName: 'cf.cpu',
    groupTags: { host: ['h1'], dc: ['eu'] },
    groupByTagNames: [],
    saveAs: (name, tags, points, ttl) => saved.push({ name, tags, points, ttl }),
    ...over,
  };
}

function run(aggs: unknown, points: Points, ctx = context(), type: TypeGroup = 'number'): Array<[number, unknown]> {
  const out = applyAggregators(parseAggregators(aggs, 'query.metric[0]'), points, type, ctx);
  assert.equal(out.ts.length, out.vs.length);
  return out.ts.map((t, i) => [t, out.vs[i]]);
}

const twoMin = { value: 2, unit: 'minutes' };
const at = (minutes: number, v: unknown, base = T0): [number, unknown] => [base + minutes * MIN, v];

function assertClose(got: Array<[number, unknown]>, want: Array<[number, number]>, tolerance = 1e-12): void {
  assert.deepEqual(got.map((p) => p[0]), want.map((p) => p[0]));
  got.forEach(([, v], i) => assert.ok(Math.abs((v as number) - want[i][1]) < tolerance, `point ${i}: ${String(v)} != ${want[i][1]}`));
}

describe('aggregators: range aggregators (recorded cases)', () => {
  it('avg over 2-minute buckets, stamped with the first point of each bucket (case 092)', () => {
    assert.deepEqual(run([{ name: 'avg', sampling: twoMin }], h1()), [at(0, 4), at(2, 4.5), at(4, 5.5), at(6, 5.5), at(8, 8)]);
  });

  it('min, max, first and last (cases 094, 095, 097, 098)', () => {
    assert.deepEqual(run([{ name: 'min', sampling: twoMin }], h1()), [at(0, 3), at(2, 1), at(4, 2), at(6, 4), at(8, 6)]);
    assert.deepEqual(run([{ name: 'max', sampling: twoMin }], h1()), [at(0, 5), at(2, 8), at(4, 9), at(6, 7), at(8, 10)]);
    assert.deepEqual(run([{ name: 'first', sampling: twoMin }], h1()), [at(0, 5), at(2, 8), at(4, 9), at(6, 7), at(8, 6)]);
    // last keeps the timestamp of the last point in the bucket.
    assert.deepEqual(run([{ name: 'last', sampling: twoMin }], h1()), [at(1, 3), at(3, 1), at(5, 2), at(7, 4), at(9, 10)]);
  });

  it('last takes the bucket start with align_start_time', () => {
    const got = run([{ name: 'last', sampling: twoMin, align_start_time: true }], h1());
    assert.deepEqual(got[0], at(0, 3));
    assert.deepEqual(got[4], at(8, 10));
  });

  it('least_squares with two points per bucket returns them unchanged (case 100)', () => {
    assert.deepEqual(run([{ name: 'least_squares', sampling: twoMin }], h1()), H1_VALUES.map((v, i) => at(i, v)));
  });

  it('least_squares fits a line through three or more points, at the first and last timestamps', () => {
    const got = run([{ name: 'least_squares', sampling: { value: 1, unit: 'hours' } }], series([1, 2, 4]));
    // y = 1.5x + 0.8333 over x = 0,1,2 (minutes); epoch-ms x values cost KairosDB's doubles ~1e-9 too.
    assertClose(got, [[T0, 5 / 6], [T0 + 2 * MIN, 5 / 6 + 3]], 1e-6);
  });

  it('align_sampling (default) puts 2-minute bucket edges on even minutes for the +30 s series (cases 103, 104, 106)', () => {
    const edges = [at(0.5, 4), at(2.5, 4.75), at(4.5, 9.5), at(6.5, 10.75), at(8.5, 6.5)];
    assert.deepEqual(run([{ name: 'sum', sampling: twoMin, align_sampling: true }], h2()), edges);
    assert.deepEqual(run([{ name: 'max', sampling: twoMin }], h2()).map((p) => p[1]), [2.5, 4.25, 6.5, 8.75, 5.5]);
    assert.deepEqual(run([{ name: 'avg', sampling: twoMin }], h2()).map((p) => p[1]), [2, 2.375, 4.75, 5.375, 3.25]);
  });

  it('align_sampling false cuts buckets from the query start instead', () => {
    // Query start 23:59:00: buckets [23:59,00:01), [00:01,00:03) ...
    const got = run([{ name: 'sum', sampling: twoMin, align_sampling: false }], h1());
    assert.deepEqual(got.slice(0, 2), [at(0, 5), at(1, 11)]);
  });

  it('align_start_time and align_end_time stamp the bucket start / end (case 107)', () => {
    assert.deepEqual(run([{ name: 'sum', sampling: twoMin, align_start_time: true }], h2()), [
      at(0, 4), at(2, 4.75), at(4, 9.5), at(6, 10.75), at(8, 6.5),
    ]);
    assert.deepEqual(run([{ name: 'sum', sampling: twoMin, align_end_time: true }], h2()).map((p) => p[0]), [
      T0 + 2 * MIN, T0 + 4 * MIN, T0 + 6 * MIN, T0 + 8 * MIN, T0 + 10 * MIN,
    ]);
  });

  it('an aggregator start_time is re-aligned to midnight by default (case 109)', () => {
    const got = run([{ name: 'sum', sampling: twoMin, start_time: 1767225630000 }], h1());
    assert.deepEqual(got, [at(0, 8), at(2, 9), at(4, 11), at(6, 11), at(8, 16)]);
  });

  it('an unaligned aggregator start_time moves the bucket origin', () => {
    const got = run([{ name: 'sum', sampling: twoMin, start_time: T0 + MIN, align_sampling: false }], h1());
    // The first point lies before the origin 00:01; Joda's truncation puts it into [00:01, 00:03).
    assert.deepEqual(got.slice(0, 2), [at(0, 16), at(3, 10)]);
  });

  it('avg of all three series in one hour (case 110) and no sampling gives the raw points (case 112)', () => {
    const got = run([{ name: 'avg', sampling: { value: 1, unit: 'hours' } }], merge(h1(), h2(), h3()));
    assertClose(got, [[T0, 186.35]]);
    assert.deepEqual(run([{ name: 'avg' }], h1()), H1_VALUES.map((v, i) => at(i, v)));
  });

  it('dev is the sample standard deviation (case 113), pos_sd/neg_sd add dev_count deviations', () => {
    assert.deepEqual(run([{ name: 'dev', sampling: twoMin, return_type: 'value' }], h1()).map((p) => p[1]), [
      1.4142135623730951, 4.949747468305833, 4.949747468305833, 2.1213203435596424, 2.8284271247461903,
    ]);
    const pos = run([{ name: 'dev', sampling: twoMin, return_type: 'pos_sd', dev_count: 2 }], h1());
    assert.ok(Math.abs((pos[0][1] as number) - (4 + 2 * Math.SQRT2)) < 1e-12);
    const neg = run([{ name: 'dev', sampling: twoMin, return_type: 'neg_sd' }], h1());
    assert.ok(Math.abs((neg[0][1] as number) - (4 - Math.SQRT2)) < 1e-12);
    // Upper case is not recognised and silently falls back to the deviation itself.
    assert.equal(run([{ name: 'dev', sampling: twoMin, return_type: 'POS_SD' }], h1())[0][1], 1.4142135623730951);
    // One point has no sample deviation: KairosDB turns NaN into 0.
    assert.deepEqual(run([{ name: 'dev', sampling: twoMin }], series([7])), [at(0, 0)]);
  });

  it('percentile 0.5 and 0.95 (cases 121, 122)', () => {
    assert.deepEqual(run([{ name: 'percentile', sampling: { value: 5, unit: 'minutes' }, percentile: 0.5 }], h1()), [
      at(0, 5), at(5, 6),
    ]);
    assert.deepEqual(run([{ name: 'percentile', sampling: { value: 1, unit: 'hours' }, percentile: 0.95 }], h1()), [at(0, 10)]);
    // Interpolates between neighbours: pos = 0.25 * 5 = 1.25 -> 1 + 0.25 * (2 - 1)
    assert.deepEqual(run([{ name: 'percentile', sampling: { value: 1, unit: 'hours' }, percentile: 0.25 }], series([4, 1, 3, 2])), [
      at(0, 1.25),
    ]);
  });

  it('count counts text points too and makes the group numeric', () => {
    const text = series(['hello', 'world'], T0, 1000);
    assert.deepEqual(run([{ name: 'count', sampling: { value: 1, unit: 'hours' } }], text, context(), 'text'), [at(0, 2)]);
    const aggs = parseAggregators([{ name: 'count', sampling: { value: 1, unit: 'hours' } }, { name: 'scale', factor: 3 }], 'q');
    assert.equal(aggregatedTypeGroup(aggs, 'text'), 'number');
    assert.deepEqual(applyAggregators(aggs, text, 'text', context()).vs, [6]);
  });

  it('sum on text passes the strings through (case 144)', () => {
    const text = series(['hello', 'world'], T0, 1000);
    assert.deepEqual(run([{ name: 'sum' }], text, context(), 'text'), [[T0, 'hello'], [T0 + 1000, 'world']]);
  });

  it('a 1-day and a 1-month bucket holds the whole range (cases 138, 139, 141)', () => {
    const all = merge(h1(), h2(), h3());
    for (const unit of ['days', 'months', 'weeks', 'years']) {
      assertClose(run([{ name: 'sum', sampling: { value: 1, unit } }], all), [[T0, 5590.5]]);
    }
  });

  it('days buckets follow the time zone: Berlin midnight is 23:00 UTC (case 073 and beyond)', () => {
    // Two points either side of Berlin midnight (2026-01-01T23:00Z) go to different day buckets.
    const p: Points = { ts: [Date.UTC(2026, 0, 1, 22, 30), Date.UTC(2026, 0, 1, 23, 30)], vs: [1, 2] };
    const ctx = context({ timeZone: 'Europe/Berlin', queryStart: Date.UTC(2026, 0, 1, 0, 0) });
    assert.deepEqual(run([{ name: 'sum', sampling: { value: 1, unit: 'days' }, align_start_time: true }], p, ctx), [
      [Date.UTC(2025, 11, 31, 23), 1],
      [Date.UTC(2026, 0, 1, 23), 2],
    ]);
    // In UTC both fall on 2026-01-01.
    assert.deepEqual(run([{ name: 'sum', sampling: { value: 1, unit: 'days' } }], p, context({ queryStart: p.ts[0] })).length, 1);
  });

  it('month buckets are calendar months in the zone and weeks start on Monday', () => {
    const p: Points = {
      ts: [Date.UTC(2026, 0, 31, 12), Date.UTC(2026, 1, 1, 12), Date.UTC(2026, 1, 28, 12), Date.UTC(2026, 2, 1, 0)],
      vs: [1, 2, 3, 4],
    };
    const ctx = context({ queryStart: Date.UTC(2026, 0, 15) });
    assert.deepEqual(run([{ name: 'sum', sampling: { value: 1, unit: 'months' }, align_start_time: true }], p, ctx), [
      [Date.UTC(2026, 0, 1), 1],
      [Date.UTC(2026, 1, 1), 5],
      [Date.UTC(2026, 2, 1), 4],
    ]);
    // 2026-01-01 is a Thursday: the aligned week starts Monday 2025-12-29.
    assert.deepEqual(run([{ name: 'count', sampling: { value: 1, unit: 'weeks' }, align_start_time: true }], h1()), [
      [Date.UTC(2025, 11, 29), 10],
    ]);
  });

  it('gaps marks empty buckets from the aligned query start to the end (case 101)', () => {
    const got = run([{ name: 'gaps', sampling: twoMin }], h1());
    assert.deepEqual(got[0], [1767225480000, null]);
    assert.deepEqual(got.slice(1, 11), H1_VALUES.map((v, i) => at(i, v)));
    assert.deepEqual(got[11], [1767226200000, null]);
    assert.deepEqual(got[got.length - 1], [Q_END, null]);
    assert.equal(got.length, 37);
  });

  it('gaps at 1 minute and 30 s (cases 124, 125)', () => {
    const un = series([1, 2, 3]);
    const g1 = run([{ name: 'gaps', sampling: { value: 1, unit: 'minutes' } }], un);
    assert.deepEqual(g1.slice(0, 5), [[Q_START, null], at(0, 1), at(1, 2), at(2, 3), at(3, null)]);
    assert.equal(g1.length, 62);
    const g30 = run([{ name: 'gaps', sampling: { value: 30, unit: 'seconds' } }], h1());
    assert.deepEqual(g30.slice(0, 4), [[Q_START, null], [Q_START + 30_000, null], at(0, 5), at(0.5, null)]);
    assert.equal(g30.length, 123);
  });

  it('gaps stops at now when the query end lies in the future, and trim drops the empty edges', () => {
    const got = run([{ name: 'gaps', sampling: twoMin }], h1(), context({ now: T0 + 12 * MIN, queryEnd: Number.MAX_SAFE_INTEGER }));
    assert.deepEqual(got[got.length - 1], at(12, null));
    const trimmed = run([{ name: 'gaps', sampling: { value: 30, unit: 'seconds' }, trim: true }], h1());
    assert.deepEqual(trimmed[0], at(0, 5));
    assert.deepEqual(trimmed[trimmed.length - 1], at(9, 10));
    assert.equal(trimmed.length, 19);
  });

  it('a number-only aggregator after gaps fails like KairosDB (500)', () => {
    assert.throws(
      () => run([{ name: 'gaps', sampling: twoMin }, { name: 'sum', sampling: { value: 1, unit: 'hours' } }], h1()),
      (e: unknown) =>
        e instanceof ServerError &&
        e.status === 500 &&
        e.errors[0] === 'No aggregator can be chained after org.kairosdb.core.aggregator.DataGapsMarkingAggregator',
    );
  });

  it('sampling value 0 is a 500 "/ by zero" once there is data (case 154)', () => {
    const aggs = parseAggregators([{ name: 'sum', sampling: { value: 0, unit: 'minutes' } }], 'query.metric[0]');
    assert.throws(() => applyAggregators(aggs, h1(), 'number', context()), (e: unknown) => e instanceof ServerError && e.status === 500 && e.errors[0] === '/ by zero');
  });

  it('NaN output (avg over gap markers only) is refused with a 500', () => {
    const p: Points = { ts: [T0], vs: [null] };
    assert.throws(() => run([{ name: 'avg' }], p), (e: unknown) => e instanceof ServerError && e.status === 500 && /^NaN or Infinity:NaN/.test(e.errors[0]));
  });

  // One pass: a quadratic path would not finish 200k points within the test's timeout (speed itself is bench/'s job).
  it('handles 200k points in one pass', () => {
    const n = 200_000;
    const p: Points = { ts: new Array<number>(n), vs: new Array<number>(n) };
    for (let i = 0; i < n; i++) {
      p.ts[i] = T0 + i * 1000;
      p.vs[i] = i % 100;
    }
    const got = run([{ name: 'avg', sampling: { value: 1, unit: 'hours' } }], p, context({ queryStart: T0 }));
    assert.equal(got.length, Math.ceil(n / 3600));
  });
});

describe('aggregators: per-point aggregators (recorded cases)', () => {
  it('diff drops the first point (case 115)', () => {
    assert.deepEqual(run([{ name: 'diff' }], h1()), [-2, 5, -7, 8, -7, 5, -3, 2, 4].map((v, i) => at(i + 1, v)));
  });

  it('div and scale (case 116)', () => {
    assert.deepEqual(run([{ name: 'div', divisor: 2 }], h1()).map((p) => p[1]), [2.5, 1.5, 4, 0.5, 4.5, 1, 3.5, 2, 3, 5]);
    assert.deepEqual(run([{ name: 'scale', factor: -0.5 }], h1()).map((p) => p[1]), H1_VALUES.map((v) => v * -0.5));
  });

  it('rate per second and per minute (cases 118, 119)', () => {
    const perSecond = [-0.03333333333333333, 0.08333333333333333, -0.11666666666666667, 0.13333333333333333,
      -0.11666666666666667, 0.08333333333333333, -0.05, 0.03333333333333333, 0.06666666666666667];
    assert.deepEqual(run([{ name: 'rate', unit: 'seconds' }], h1()), perSecond.map((v, i) => at(i + 1, v)));
    assert.deepEqual(run([{ name: 'rate', unit: 'MINUTES' }], h1()).map((p) => p[1]), [-2, 5, -7, 8, -7, 5, -3, 2, 4]);
    assert.deepEqual(run([{ name: 'rate', sampling: { value: 2, unit: 'minutes' } }], h1()).map((p) => p[1]).slice(0, 2), [-4, 10]);
  });

  it('rate on equal timestamps is a 500', () => {
    const p: Points = { ts: [T0, T0], vs: [1, 2] };
    assert.throws(() => run([{ name: 'rate', unit: 'seconds' }], p), (e: unknown) =>
      e instanceof ServerError && e.status === 500 && e.errors[0].startsWith('The rate aggregator cannot compute rate for data points with the same time stamp.'));
  });

  it('sampler gives v1 per unit over the interval', () => {
    assert.deepEqual(run([{ name: 'sampler', unit: 'minutes' }], h1()).map((p) => p[1]).slice(0, 3), [3, 8, 1]);
  });

  it('sma averages the last `size` points, output from the size-th point on', () => {
    assert.deepEqual(run([{ name: 'sma', size: 3 }], h1()).map((p) => p[1]).slice(0, 3), [16 / 3, 4, 6]);
    assert.equal(run([{ name: 'sma', size: 3 }], h1())[0][0], T0 + 2 * MIN);
  });

  it('filter removes the points the comparison holds for (cases 133, 135), ops ignore case', () => {
    assert.deepEqual(run([{ name: 'filter', filter_op: 'gt', threshold: 5 }], h1()).map((p) => p[1]), [5, 3, 1, 2, 4]);
    assert.deepEqual(run([{ name: 'filter', filter_op: 'equal', threshold: 5 }], h1()).map((p) => p[1]), [3, 8, 1, 9, 2, 7, 4, 6, 10]);
    assert.deepEqual(run([{ name: 'filter', filter_op: 'LTE', threshold: 5 }], h1()).map((p) => p[1]), [8, 9, 7, 6, 10]);
    assert.deepEqual(run([{ name: 'filter', filter_op: 'ne', threshold: 5 }], h1()).map((p) => p[1]), [5]);
  });

  it('filter compares strings with a string threshold and drops points of the other type', () => {
    const text = series(['apple', 'melon', 'zebra']);
    assert.deepEqual(run([{ name: 'filter', filter_op: 'lt', threshold: 'melon' }], text, context(), 'text').map((p) => p[1]), ['melon', 'zebra']);
    assert.deepEqual(run([{ name: 'filter', filter_op: 'lt', threshold: 0 }], text, context(), 'text'), []);
    assert.deepEqual(run([{ name: 'filter', filter_op: 'lt', threshold: '0' }], h1()), []);
  });

  it('trim first, last and both (cases 127, 128)', () => {
    assert.deepEqual(run([{ name: 'trim', trim: 'first' }], h1()), H1_VALUES.slice(1).map((v, i) => at(i + 1, v)));
    assert.deepEqual(run([{ name: 'trim', trim: 'last' }], h1()), H1_VALUES.slice(0, -1).map((v, i) => at(i, v)));
    assert.deepEqual(run([{ name: 'trim', trim: 'Both' }], h1()).map((p) => p[1]), H1_VALUES.slice(1, -1));
    assert.deepEqual(run([{ name: 'trim', trim: 'both' }], series([1])), []);
  });

  it('score counts the thresholds each value exceeds; a value equal to a superior threshold does not exceed it', () => {
    const thresholds = [{ value: 5, boundary: 'inferior' }, { value: 2 }, { value: 8 }];
    assert.deepEqual(run([{ name: 'score', thresholds }], h1()).map((p) => p[1]), [2, 1, 2, 0, 3, 0, 2, 1, 2, 3]);
    assert.deepEqual(run([{ name: 'score', thresholds, order: 'descending' }], h1()).map((p) => p[1]), [1, 2, 1, 3, 0, 3, 1, 2, 1, 0]);
  });

  it('chained sum then div (case 136)', () => {
    assertClose(run([{ name: 'sum', sampling: twoMin }, { name: 'div', divisor: 10 }], h1()), [
      [T0, 0.8], [T0 + 2 * MIN, 0.9], [T0 + 4 * MIN, 1.1], [T0 + 6 * MIN, 1.1], [T0 + 8 * MIN, 1.6],
    ]);
  });
});

describe('aggregators: save_as (cases 131, 132)', () => {
  it('saves the input under saved_from + its tags and returns it unchanged', () => {
    const saved: Saved[] = [];
    const got = run([{ name: 'save_as', metric_name: 'cf.saved', tags: { src: 'agg' } }], h1(), context({}, saved));
    assert.deepEqual(got, H1_VALUES.map((v, i) => at(i, v)));
    assert.equal(saved.length, 1);
    assert.equal(saved[0].name, 'cf.saved');
    assert.deepEqual(saved[0].tags, { saved_from: 'cf.cpu', src: 'agg' });
    assert.deepEqual(saved[0].points.vs, H1_VALUES);
    assert.equal(saved[0].ttl, 0);
  });

  it('keeps a source tag only when it is a group_by tag with one value; add_saved_from false drops saved_from', () => {
    const saved: Saved[] = [];
    const ctx = context({ groupByTagNames: ['host', 'rack'], groupTags: { host: ['h1'], dc: ['eu'], rack: ['r1', 'r2'] } }, saved);
    run([{ name: 'save_as', metric_name: 'x', add_saved_from: false, ttl: 60 }], h1(), ctx);
    assert.deepEqual(saved[0].tags, { host: 'h1' });
    assert.equal(saved[0].ttl, 60);
  });

  it('a user tag named like a kept tag is a 500 (Guava duplicate key)', () => {
    assert.throws(() => run([{ name: 'save_as', metric_name: 'x', tags: { saved_from: 'me' } }], h1()), (e: unknown) =>
      e instanceof ServerError && e.status === 500 && /Multiple entries with same key: saved_from/.test(e.errors[0]));
  });
});
