import assert from 'node:assert/strict';
import { KairosConnector } from '../../src/kairos/connector';
import { bucketMsFor, budgetedPages, countedPoints, countsPerBucket, planPages, PAGE_POINT_BUDGET, PLAN_BUCKETS } from '../../src/kairos/page-budget';
import type { TimeRange } from '../../src/kairos/range-pager';
import { helper, lastStatus, loadWithOutput, seed, until, useNodeRedAndKairos } from './harness';

const T0 = Date.UTC(2024, 5, 1, 0, 0, 0);
const HOUR = 3_600_000;

describe('paged query: page length by a point budget', function () {
  describe('planPages / countsPerBucket / countedPoints', function () {
    /** Pages are contiguous, ascending, cover [start, end] and never exceed pageMs. */
    function checkCover(pages: TimeRange[], start: number, end: number, pageMs: number): void {
      assert.equal(pages[0].start, start);
      assert.equal(pages[pages.length - 1].end, end);
      pages.forEach((p, i) => {
        assert.ok(p.end >= p.start && p.end - p.start + 1 <= pageMs, `page ${i} ${JSON.stringify(p)}`);
        if (i > 0) assert.equal(p.start, pages[i - 1].end + 1);
      });
    }

    it('merges sparse buckets up to the page size, splits dense buckets evenly, keeps empty stretches in page-size pages', function () {
      // 6 one-hour buckets: empty, empty, 50, 30, 250, 0; budget 100; page size 3 h
      const pages = planPages(0, 6 * HOUR - 1, 3 * HOUR, HOUR, [0, 0, 50, 30, 250, 0], 100);
      assert.deepEqual(pages, [
        { start: 0, end: 3 * HOUR - 1 },
        { start: 3 * HOUR, end: 4 * HOUR - 1 },
        { start: 4 * HOUR, end: 4 * HOUR + 1_200_000 - 1 },
        { start: 4 * HOUR + 1_200_000, end: 4 * HOUR + 2_400_000 - 1 },
        { start: 4 * HOUR + 2_400_000, end: 5 * HOUR - 1 },
        { start: 5 * HOUR, end: 6 * HOUR - 1 },
      ]);
    });

    it('random densities (fixed seeds): pages cover the range, none longer than the page size, none above the budget for evenly spread buckets', function () {
      let seed = 7;
      const rnd = (): number => ((seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32);
      for (let run = 0; run < 120; run++) {
        const start = Math.floor(rnd() * 1e6);
        const end = start + Math.floor(rnd() * 30 * 24 * HOUR);
        const bucketMs = bucketMsFor(start, end);
        const buckets = Math.ceil((end - start + 1) / bucketMs);
        assert.ok(buckets <= PLAN_BUCKETS);
        const counts = Array.from({ length: buckets }, () => (rnd() < 0.3 ? 0 : Math.floor(rnd() ** 3 * 5000)));
        const budget = 1000 + Math.floor(rnd() * 5000);
        const pageMs = 1000 * (1 + Math.floor(rnd() * 48 * 3600));
        const pages = planPages(start, end, pageMs, bucketMs, counts, budget);
        checkCover(pages, start, end, pageMs);
        // points of a page when each bucket's points are spread evenly over it
        for (const p of pages) {
          let pts = 0;
          for (let b = 0; b < buckets; b++) {
            const b0 = start + b * bucketMs;
            const b1 = Math.min(end, b0 + bucketMs - 1);
            const overlap = Math.min(b1, p.end) - Math.max(b0, p.start) + 1;
            if (overlap > 0) pts += (counts[b] * overlap) / (b1 - b0 + 1);
          }
          assert.ok(pts <= budget * 1.01 + 1, `run ${run}: page ${JSON.stringify(p)} holds ~${pts.toFixed(0)} points, budget ${budget}`);
        }
      }
    });

    it('maps count timestamps (bucket start or a point inside) to buckets and sums over queries and groups', function () {
      const resp = { queries: [{ results: [{ name: 'a', values: [[0, 5], [1500, 7], [2999, 1]] as Array<[number, number]> }] }, { results: [{ name: 'b', values: [[1000, 3]] as Array<[number, number]> }] }] };
      assert.deepEqual([...countsPerBucket(resp, 0, 1000, 3)], [5, 10, 1]);
      assert.equal(countedPoints(resp), 16);
    });
  });

  describe('against the local server', function () {
    this.timeout(20_000);
    const env = useNodeRedAndKairos();
    // 10 ms apart: PAGE_POINT_BUDGET × 2.5 points within 1/3 of an hour-long page.
    const points = Math.round(PAGE_POINT_BUDGET * 2.5);
    const end = T0 + (points - 1) * 10;

    before(async function () {
      const datapoints: Array<[number, number]> = [];
      for (let i = 0; i < points; i++) datapoints.push([T0 + i * 10, i]);
      await seed(env.server.url, [{ name: 'pb.dense', tags: { line: 'a' }, datapoints }, { name: 'pb.sparse', tags: { line: 'a' }, datapoints: [[T0, 1], [T0 + HOUR, 2]] }]);
    });

    it('budgetedPages: dense data gets pages within the budget; sparse data keeps the page size; aggregated or refused counts give none', async function () {
      const c = new KairosConnector({ baseUrl: env.server.url });
      try {
        const range = { start: T0, end };
        const dense = await budgetedPages(c, { metrics: 'pb.dense' }, range, HOUR);
        assert.ok(dense && dense.length === 3, `dense: ${JSON.stringify(dense)}`);
        const sparse = await budgetedPages(c, { metrics: 'pb.sparse' }, { start: T0, end: T0 + 2 * HOUR }, HOUR);
        assert.deepEqual(sparse, [
          { start: T0, end: T0 + HOUR - 1 },
          { start: T0 + HOUR, end: T0 + 2 * HOUR - 1 },
          { start: T0 + 2 * HOUR, end: T0 + 2 * HOUR },
        ]);
        assert.equal(await budgetedPages(c, { metrics: 'pb.dense', aggregators: [{ name: 'avg', sampling: { value: 1, unit: 'minutes' } }] }, range, HOUR), undefined);
        assert.equal(await budgetedPages(c, { metrics: [{ name: 'pb.dense', aggregators: [{ name: 'max', sampling: { value: 1, unit: 'minutes' } }] }] }, range, HOUR), undefined);
        const refusing = new KairosConnector({ baseUrl: env.server.url, queryPath: '/api/v1/nothing-here' });
        try {
          assert.equal(await budgetedPages(refusing, { metrics: 'pb.dense' }, range, HOUR), undefined);
        } finally {
          await refusing.close();
        }
      } finally {
        await c.close();
      }
    });

    it('the node splits a dense range into pages of at most about the budget; every point arrives once, in order', async function () {
      const got = await loadWithOutput(env.server.url, {
        id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'pb.dense', metricsType: 'str', start: String(T0), startType: 'num', end: String(end), endType: 'num',
        output: 'rows', tsFormat: 'ms', dropTrailing: true, order: 'asc', aggMode: 'list', aggregators: [], paged: true, pageSize: '1h', wires: [['out']],
      });
      await until(() => lastStatus(helper.getNode('q')).text === 'node-red:common.status.connected', 3000, 'connected');
      helper.getNode('q').receive({});
      await until(() => got.length > 0 && got.length === (got[0].parts as { count: number }).count, 15_000, 'all pages');
      const count = (got[0].parts as { count: number }).count;
      assert.equal(count, 3, 'an hour-long page would have held every point in one message');
      let next = 0;
      for (const [i, msg] of got.entries()) {
        assert.equal((msg.parts as { index: number }).index, i);
        const rows = msg.payload as Array<{ Timestamp: number; 'pb.dense': number }>;
        assert.ok(rows.length <= PAGE_POINT_BUDGET * 1.01, `page ${i} holds ${rows.length} points`);
        for (const r of rows) {
          assert.equal(r['pb.dense'], next, `point ${next}`);
          next++;
        }
      }
      assert.equal(next, points);
    });

    it('an empty first day followed by 10 metrics at 1 Hz: no page holds more than 1.25 × the budget, every point arrives once', async function () {
      this.timeout(120_000);
      const DAY = 24 * HOUR;
      const s0 = T0 + 10 * DAY;
      const metrics = Array.from({ length: 10 }, (_, m) => `pb.hz${m}`);
      const seconds = 12 * 3600;
      // The dense half day starts after an empty first day: 432,000 points in all.
      for (const name of metrics) {
        const datapoints: Array<[number, number]> = [];
        for (let i = 0; i < seconds; i++) datapoints.push([s0 + DAY + i * 1000, i]);
        await seed(env.server.url, [{ name, tags: { line: 'a' }, datapoints }]);
      }
      const got = await loadWithOutput(env.server.url, {
        id: 'q', type: 'proficloud-query', server: 'cfg', metrics: metrics.join(','), metricsType: 'str', start: String(s0), startType: 'num', end: String(s0 + 2 * DAY - 1), endType: 'num',
        output: 'rows', tsFormat: 'ms', dropTrailing: false, order: 'asc', aggMode: 'list', aggregators: [], paged: true, pageSize: '1d', wires: [['out']],
      });
      await until(() => lastStatus(helper.getNode('q')).text === 'node-red:common.status.connected', 3000, 'connected');
      helper.getNode('q').receive({});
      await until(() => got.length > 0 && got.length === (got[0].parts as { count: number }).count, 100_000, 'all pages');
      let total = 0;
      let last = -Infinity;
      for (const [i, msg] of got.entries()) {
        const rows = msg.payload as Array<Record<string, number>>;
        const cells = rows.reduce((n, r) => n + metrics.filter((m) => r[m] !== null && r[m] !== undefined).length, 0);
        assert.ok(cells <= PAGE_POINT_BUDGET * 1.25, `page ${i} of ${got.length} holds ${cells} points (budget ${PAGE_POINT_BUDGET})`);
        for (const r of rows) {
          assert.ok(r.Timestamp > last, 'rows in order, no row twice');
          last = r.Timestamp;
        }
        total += cells;
      }
      assert.equal(total, metrics.length * seconds);
    });
  });
});
