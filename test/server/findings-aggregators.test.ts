// Hidden corpus cases 093-143 reconstructed from FINDINGS.md and their neighbours: range aggregators,
// alignment, gaps variants, per-point aggregators, chains, calendar sampling and text values.
import assert from 'node:assert/strict';
import type { LocalServer } from '../../src/server';
import { corpusServer, H1, query, T0, WINDOW } from './findings-fixture';

type Values = Array<[number, number | string | null]>;
const H1_TAGS = { dc: ['eu'], host: ['h1'] };
const H2_TAGS = { dc: ['us'], host: ['h2'] };
const ALL_TAGS = { dc: ['eu', 'us'], host: ['h1', 'h2', 'h3'], rack: ['r1'] };
const MIN = 60_000;

/** Equal within the corpus replay's tolerance (1e-9 relative) for numbers, exactly otherwise. */
function close(actual: Values, expected: Values, what: string): void {
  assert.equal(actual.length, expected.length, `${what}: ${JSON.stringify(actual)}`);
  actual.forEach(([t, v], i) => {
    const [et, ev] = expected[i];
    assert.equal(t, et, `${what}[${i}] timestamp`);
    if (typeof v === 'number' && typeof ev === 'number') assert.ok(Math.abs(v - ev) <= 1e-9 * Math.max(1, Math.abs(ev)), `${what}[${i}]: ${v} != ${ev}`);
    else assert.equal(v, ev, `${what}[${i}]`);
  });
}

interface One {
  sample_size: number;
  results: Array<{ name: string; group_by: unknown; tags: unknown; values: Values }>;
}

describe('findings: aggregators on the corpus data (cases 093-143)', () => {
  let s: LocalServer;
  before(async () => {
    s = await corpusServer();
  });
  after(() => s.close());

  /** Runs one aggregated query on cf.cpu (filtered by host when given) and checks one number result. */
  async function agg(aggregators: unknown[], host: string | null, sampleSize: number, tags: unknown, expected: Values, what: string, type = 'number'): Promise<void> {
    const metric: Record<string, unknown> = { name: 'cf.cpu', aggregators };
    if (host) metric.tags = { host: [host] };
    const r = await query(s, { ...WINDOW, metrics: [metric] });
    assert.equal(r.status, 200, `${what}: ${r.text}`);
    const q = (r.body as { queries: One[] }).queries[0];
    assert.equal(q.sample_size, sampleSize, what);
    assert.equal(q.results.length, 1, what);
    assert.deepEqual(q.results[0].group_by, [{ name: 'type', type }], what);
    assert.deepEqual(q.results[0].tags, tags, what);
    close(q.results[0].values, expected, what);
  }
  const two = { value: 2, unit: 'minutes' };
  // Buckets aligned to midnight: (T0, T0+1m), (T0+2m, T0+3m), ... stamped with their first point.
  const pairs = (f: (a: number, b: number) => number): Values => [0, 2, 4, 6, 8].map((i) => [H1[i][0], f(H1[i][1], H1[i + 1][1])]);
  const sd = (a: number, b: number): number => Math.abs(a - b) / Math.SQRT2;

  it('093 sum, 096 count, 099 dev over 2-minute buckets', async () => {
    await agg([{ name: 'sum', sampling: two }], 'h1', 10, H1_TAGS, pairs((a, b) => a + b), 'sum');
    await agg([{ name: 'count', sampling: two }], 'h1', 10, H1_TAGS, pairs(() => 2), 'count');
    await agg([{ name: 'dev', sampling: two }], 'h1', 10, H1_TAGS, pairs(sd), 'dev');
  });

  it('114: dev return_type pos_sd and neg_sd are the mean plus/minus one sample deviation', async () => {
    await agg([{ name: 'dev', sampling: two, return_type: 'pos_sd' }], 'h1', 10, H1_TAGS, pairs((a, b) => (a + b) / 2 + sd(a, b)), 'pos_sd');
    await agg([{ name: 'dev', sampling: two, return_type: 'neg_sd' }], 'h1', 10, H1_TAGS, pairs((a, b) => (a + b) / 2 - sd(a, b)), 'neg_sd');
  });

  it('102: align_sampling false counts buckets from the query start', async () => {
    const start = T0 - MIN;
    await agg([{ name: 'sum', sampling: two, align_sampling: false }], 'h2', 10, H2_TAGS, [
      [start + 90_000, 1.5],
      [start + 150_000, 3],
      [start + 270_000, 7.25],
      [start + 390_000, 8.5],
      [start + 510_000, 9.75],
      [start + 630_000, 5.5],
    ], 'unaligned sum');
  });

  it('105: avg with align_sampling true equals the default (bucket stamped with its first point)', async () => {
    const expected: Values = [
      [T0 + 30_000, 2],
      [T0 + 150_000, 2.375],
      [T0 + 270_000, 4.75],
      [T0 + 390_000, 5.375],
      [T0 + 510_000, 3.25],
    ];
    await agg([{ name: 'avg', sampling: two, align_sampling: true }], 'h2', 10, H2_TAGS, expected, 'aligned avg');
    await agg([{ name: 'avg', sampling: two }], 'h2', 10, H2_TAGS, expected, 'default avg');
  });

  it('108: align_end_time stamps each bucket with its end', async () => {
    const sums = [4, 4.75, 9.5, 10.75, 6.5];
    await agg([{ name: 'sum', sampling: two, align_end_time: true }], 'h2', 10, H2_TAGS, sums.map((v, i) => [T0 + (i + 1) * 2 * MIN, v]), 'end');
  });

  it('111: sum and count over all three series in one hour bucket', async () => {
    await agg([{ name: 'sum', sampling: { value: 1, unit: 'hours' } }], null, 30, ALL_TAGS, [[T0, 5590.5]], 'sum all');
    await agg([{ name: 'count', sampling: { value: 1, unit: 'hours' } }], null, 30, ALL_TAGS, [[T0, 30]], 'count all');
  });

  it('117 scale, 120 sampler: per point, sampler drops the first point', async () => {
    await agg([{ name: 'scale', factor: 2 }], 'h1', 10, H1_TAGS, H1.map(([t, v]) => [t, v * 2]), 'scale');
    await agg([{ name: 'sampler', unit: 'minutes' }], 'h1', 10, H1_TAGS, H1.slice(1), 'sampler per minute');
    await agg([{ name: 'sampler', unit: 'seconds' }], 'h1', 10, H1_TAGS, H1.slice(1).map(([t, v]) => [t, v / 60]), 'sampler per second');
  });

  it('123: gaps with 1-minute sampling: nulls from the aligned start to the query end', async () => {
    const expected: Values = [[T0 - MIN, null], ...H1];
    for (let t = T0 + 10 * MIN; t <= T0 + 60 * MIN; t += MIN) expected.push([t, null]);
    await agg([{ name: 'gaps', sampling: { value: 1, unit: 'minutes' } }], 'h1', 10, H1_TAGS, expected, 'gaps 1 min');
  });

  it('126: gaps with trim keeps only the buckets from the first to the last point', async () => {
    const expected: Values = [];
    H1.forEach((p, i) => {
      if (i > 0) expected.push([p[0] - 30_000, null]);
      expected.push(p);
    });
    await agg([{ name: 'gaps', sampling: { value: 30, unit: 'seconds' }, trim: true }], 'h1', 10, H1_TAGS, expected, 'gaps trim');
  });

  it('129 trim both, 134 filter lte (removes <= 5)', async () => {
    await agg([{ name: 'trim', trim: 'both' }], 'h1', 10, H1_TAGS, H1.slice(1, -1), 'trim both');
    await agg([{ name: 'filter', filter_op: 'lte', threshold: 5 }], 'h1', 10, H1_TAGS, H1.filter(([, v]) => v > 5), 'filter lte');
    await agg([{ name: 'filter', filter_op: 'ne', threshold: 5 }], 'h1', 10, H1_TAGS, [H1[0]], 'filter ne');
  });

  it('137: chained aggregators run in order (filter then count, diff then sum)', async () => {
    await agg([{ name: 'filter', filter_op: 'gt', threshold: 5 }, { name: 'count', sampling: { value: 1, unit: 'hours' } }], 'h1', 10, H1_TAGS, [[T0, 5]], 'filter+count');
    await agg([{ name: 'diff' }, { name: 'sum', sampling: { value: 1, unit: 'hours' } }], 'h1', 10, H1_TAGS, [[T0 + MIN, 5]], 'diff+sum');
  });

  it('140: weeks and years sampling put the whole hour into one bucket stamped with its first point', async () => {
    for (const unit of ['weeks', 'years']) {
      await agg([{ name: 'sum', sampling: { value: 1, unit }, align_sampling: true }], null, 30, ALL_TAGS, [[T0, 5590.5]], unit);
    }
  });

  it('143: count on text values gives numbers, 1 per point or per bucket', async () => {
    for (const [aggregators, expected] of [
      [[{ name: 'count' }], [[T0, 1], [T0 + 1000, 1]]],
      [[{ name: 'count', sampling: { value: 1, unit: 'hours' } }], [[T0, 2]]],
    ] as Array<[unknown[], Values]>) {
      const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.str', aggregators }] });
      assert.deepEqual(r.body, { queries: [{ sample_size: 2, results: [{ name: 'cf.str', group_by: [{ name: 'type', type: 'number' }], tags: { host: ['h1'] }, values: expected }] }] });
    }
  });

  it('number-only aggregators pass text through unchanged; avg over mixed ints and doubles', async () => {
    const r = await query(s, { ...WINDOW, metrics: [{ name: 'cf.str', aggregators: [{ name: 'avg', sampling: { value: 1, unit: 'hours' } }] }] });
    assert.deepEqual(r.body, { queries: [{ sample_size: 2, results: [{ name: 'cf.str', group_by: [{ name: 'type', type: 'text' }], tags: { host: ['h1'] }, values: [[T0, 'hello'], [T0 + 1000, 'world']] }] }] });
  });
});
