import assert from 'node:assert/strict';
import { IncrementalPoller } from '../../src/stream';
import { seededRandom } from '../../src/server/random';
import { EmitLog, SimDb } from '../helpers/stream-sim';

describe('stream catch-up in bounded pieces', () => {
  for (const seed of [1, 2, 3, 4]) {
    it(`seed ${seed}: after an outage, polls emit at most maxPoints each and fetch about that much, until caught up; each point once`, async () => {
      const rnd = seededRandom(seed);
      const db = new SimDb();
      db.clock = 50_000_000;
      const maxPoints = 300 + Math.floor(rnd() * 700);
      const poller = new IncrementalPoller({ fetch: db.fetch, count: db.count, windowMs: 3_600_000, horizonMs: 3_600_000, now: () => db.clock, maxPoints });
      const log = new EmitLog();
      db.add('a', db.clock - 1000, 0, 0);
      log.addSeries((await poller.poll()).series);
      // An outage: 40 minutes of three series, some timestamps shared.
      const from = db.clock;
      db.clock += 2_400_000;
      let n = 0;
      for (let ts = from; ts < db.clock; ts += 200 + Math.floor(rnd() * 400)) {
        for (const c of ['a', 'b', 'c']) if (rnd() < 0.8) db.add(c, ts, n++, 0);
      }
      db.fetchedPoints.length = 0;
      const perPoll: number[] = [];
      let polls = 0;
      for (;;) {
        const r = await poller.poll();
        log.addSeries(r.series);
        log.addSeries(r.late);
        perPoll.push(r.points);
        if (!r.more) break;
        assert.ok(++polls < 500, 'catch-up ends');
      }
      assert.deepEqual(log.twice(), []);
      assert.deepEqual(log.missing(db.all()), []);
      // Points sharing the cut timestamp go together: at most two series more than the budget.
      assert.ok(Math.max(...perPoll) <= maxPoints + 2, `largest poll ${Math.max(...perPoll)} > ${maxPoints}`);
      assert.ok(perPoll.length > n / maxPoints, 'the backlog took several polls');
      // Fetches are bounded too (counted first, then ranges sized to the budget), not one huge answer.
      assert.ok(Math.max(...db.fetchedPoints) <= 3 * maxPoints, `largest fetch ${Math.max(...db.fetchedPoints)} for budget ${maxPoints}`);
    });
  }

  it('without a count source the first fetch is whole, but messages are still bounded and later fetches shrink', async () => {
    const db = new SimDb();
    db.clock = 10_000_000;
    for (let i = 0; i < 2000; i++) db.add('x', db.clock - 500_000 + i * 200, i, 0);
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 3_600_000, now: () => db.clock, maxPoints: 250 });
    const log = new EmitLog();
    const sizes: number[] = [];
    for (let i = 0; i < 100; i++) {
      const r = await poller.poll();
      log.addSeries(r.series);
      sizes.push(r.points);
      if (!r.more) break;
    }
    assert.deepEqual(log.missing(db.all()), []);
    assert.deepEqual(log.twice(), []);
    assert.ok(Math.max(...sizes) <= 250);
    assert.ok(Math.max(...db.fetchedPoints.slice(1)) <= 1000, `later fetches ${db.fetchedPoints.slice(1, 6).join(',')}`);
  });
});
