import assert from 'node:assert/strict';
import { KairosConnector } from '../../src/connector';
import { budgetedPageMs, countedPoints, pageMsForBudget, PAGE_POINT_BUDGET } from '../../nodes/lib/page-budget';
import { helper, lastStatus, loadWithOutput, seed, until, useNodeRedAndKairos } from './harness';

const T0 = Date.UTC(2024, 5, 1, 0, 0, 0);
const HOUR = 3_600_000;

describe('paged query: page length by a point budget', function () {
  describe('pageMsForBudget / countedPoints', function () {
    it('keeps the configured length when the counted points fit, shortens in proportion when not', function () {
      assert.equal(pageMsForBudget(HOUR, 1000, HOUR, 1000), HOUR);
      assert.equal(pageMsForBudget(HOUR, 0, HOUR, 1000), HOUR);
      assert.equal(pageMsForBudget(HOUR, 4000, HOUR, 1000), HOUR / 4);
      // Counted over a range shorter than a page: the rate is what counts. Whole seconds.
      assert.equal(pageMsForBudget(24 * HOUR, 10_000, HOUR, 1000), 360_000);
      assert.equal(pageMsForBudget(HOUR, 3 * 1000, 10_000, 1000), 3000);
      assert.equal(pageMsForBudget(HOUR, 1e9, 1000, 10), 1);
    });

    it('sums counts over queries, groups and buckets', function () {
      const resp = { queries: [{ results: [{ name: 'a', values: [[1, 5], [2, 7]] as Array<[number, number]> }] }, { results: [{ name: 'b', values: [[1, 3]] as Array<[number, number]> }] }] };
      assert.equal(countedPoints(resp), 15);
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

    it('budgetedPageMs: dense data gets shorter pages; sparse, aggregated or refused counts keep the page size', async function () {
      const c = new KairosConnector({ baseUrl: env.server.url });
      try {
        const range = { start: T0, end };
        const dense = await budgetedPageMs(c, { metrics: 'pb.dense' }, range, HOUR);
        assert.equal(dense, Math.floor((PAGE_POINT_BUDGET * (end - T0 + 1)) / points / 1000) * 1000);
        assert.equal(await budgetedPageMs(c, { metrics: 'pb.sparse' }, { start: T0, end: T0 + 2 * HOUR }, HOUR), HOUR);
        assert.equal(await budgetedPageMs(c, { metrics: 'pb.dense', aggregators: [{ name: 'avg', sampling: { value: 1, unit: 'minutes' } }] }, range, HOUR), HOUR);
        assert.equal(await budgetedPageMs(c, { metrics: [{ name: 'pb.dense', aggregators: [{ name: 'max', sampling: { value: 1, unit: 'minutes' } }] }] }, range, HOUR), HOUR);
        const refusing = new KairosConnector({ baseUrl: env.server.url, queryPath: '/api/v1/nothing-here' });
        try {
          assert.equal(await budgetedPageMs(refusing, { metrics: 'pb.dense' }, range, HOUR), HOUR);
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
  });
});
