import assert from 'node:assert/strict';
import { ChartFeed, IncrementalPoller, type IncrementalPollerOptions, type StreamPosition } from '../../src/stream';
import { seededRandom } from '../../src/server/random';
import { SimDb } from '../helpers/stream-sim';
import { UiChartModel } from '../helpers/ui-chart-model';

const WINDOW = 600_000;
const STEP = 2000;

describe('stream chart output: a ui-chart fed by it holds each point once, lines never step back', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]) {
    it(`seed ${seed}: visibility delays, late points, restarts (redeploys), window mode`, async () => {
      const rnd = seededRandom(seed);
      const db = new SimDb();
      db.clock = 1_800_000_000_000;
      const windowMode = seed % 5 === 0;
      const opts: IncrementalPollerOptions = {
        fetch: db.fetch,
        count: db.count,
        windowMs: WINDOW,
        horizonMs: 3600_000,
        checkEveryMs: 10_000,
        mode: windowMode ? 'window' : 'incremental',
        now: () => db.clock,
        maxPoints: 50 + Math.floor(rnd() * 200),
      };
      let poller = new IncrementalPoller(opts);
      let feed = new ChartFeed(WINDOW, windowMode, 120);
      const chart = new UiChartModel();
      let value = 0;
      let replacesAfterStart = 0;
      let firstAfterStart = true;
      const onMessage = (m: { action: string; payload: unknown }): void => {
        if (firstAfterStart) {
          assert.equal(m.action, 'replace', 'the first chart message after a start replaces');
          replacesAfterStart++;
          firstAfterStart = false;
        }
        chart.feed(m);
      };
      for (let tick = 0; tick < 400; tick++) {
        for (const c of ['a', 'b']) {
          if (rnd() < 0.2) continue;
          db.add(c, db.clock - Math.floor(rnd() * 100), value++, db.clock + Math.floor(rnd() * rnd() * 8000));
        }
        if (rnd() < 0.05) db.add(rnd() < 0.5 ? 'a' : 'b', db.clock - Math.floor(rnd() * 900_000), value++, db.clock);
        if (rnd() < 0.03) {
          // Redeploy or restart: a new node, position from its state; ui-chart keeps its data.
          const saved = JSON.parse(JSON.stringify(poller.position)) as StreamPosition;
          poller = new IncrementalPoller({ ...opts, position: saved });
          feed = new ChartFeed(WINDOW, windowMode, 120);
          firstAfterStart = true;
        }
        let r = await poller.poll({ full: feed.wantsFull });
        let msgs = feed.messages(r);
        if (msgs === 'full') {
          r = await poller.poll({ full: true });
          msgs = feed.messages(r, true);
          assert.ok(msgs !== 'full');
        }
        for (const m of msgs) onMessage(m);
        db.clock += STEP;
      }
      // Quiet: let everything become visible and the checks run.
      for (let i = 0; i < 10; i++) {
        let r = await poller.poll({ full: feed.wantsFull });
        let msgs = feed.messages(r);
        if (msgs === 'full') msgs = feed.messages((r = await poller.poll({ full: true })), true) as Exclude<typeof msgs, 'full'>;
        for (const m of msgs) onMessage(m);
        db.clock += STEP;
      }
      assert.deepEqual(chart.duplicates, [], 'no point drawn twice');
      assert.deepEqual(chart.backwards, [], 'no line steps backwards');
      const end = db.clock - STEP;
      const missing = db.all().filter((p) => p.ts >= end - WINDOW + 60_000 && p.ts <= end && !chart.has(p.column, p.ts));
      assert.deepEqual(missing, [], 'the chart shows every stored point of the window');
      assert.ok(replacesAfterStart >= 1);
    });
  }

  it('a window larger than maxPoints: the replacement carries all of it and later polls append only newer points', async () => {
    const db = new SimDb();
    db.clock = 20_000_000;
    for (let i = 0; i < 500; i++) db.add('a', db.clock - 500_000 + i * 1000, i, 0);
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: WINDOW, now: () => db.clock, maxPoints: 100 });
    const feed = new ChartFeed(WINDOW, false, 100);
    const chart = new UiChartModel();
    for (let i = 0; i < 5; i++) {
      db.add('a', db.clock, 1000 + i, 0);
      const msgs = feed.messages(await poller.poll({ full: feed.wantsFull }));
      assert.ok(msgs !== 'full');
      msgs.forEach((m) => chart.feed(m));
      db.clock += 1000;
    }
    assert.deepEqual(chart.duplicates, []);
    assert.deepEqual(chart.backwards, []);
    assert.equal(chart.lines.get('a')!.length, 505);
  });

  it('control: appending the first poll after a redeploy (the old behaviour) draws points twice', async () => {
    const db = new SimDb();
    db.clock = 1_000_000;
    db.add('a', 990_000, 1, 0);
    const chart = new UiChartModel();
    for (let deploy = 0; deploy < 2; deploy++) {
      const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: WINDOW, now: () => db.clock });
      const r = await poller.poll();
      chart.feed({ action: 'append', payload: r.series.flatMap((s) => s.values.map(([x, y]) => ({ series: s.column, x, y }))) });
    }
    assert.deepEqual(chart.duplicates, ['a@990000']);
  });

  it('a large replacement is one replace and then appends, in time order, each at most maxPoints', async () => {
    const db = new SimDb();
    db.clock = 10_000_000;
    for (let i = 0; i < 25; i++) for (const c of ['x', 'y']) db.add(c, db.clock - 100_000 + i * 1000, i, 0);
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: WINDOW, now: () => db.clock });
    const feed = new ChartFeed(WINDOW, false, 20);
    const msgs = feed.messages(await poller.poll({ full: feed.wantsFull }));
    assert.ok(msgs !== 'full');
    assert.deepEqual(msgs.map((m) => [m.action, m.payload.length]), [['replace', 20], ['append', 20], ['append', 10]]);
    const chart = new UiChartModel();
    msgs.forEach((m) => chart.feed(m));
    assert.deepEqual(chart.backwards, []);
    assert.equal(feed.wantsFull, false);
    // An empty window still replaces on a start: the chart is cleared of what an earlier deploy drew.
    const empty = new ChartFeed(WINDOW, false, 20).messages(await new IncrementalPoller({ fetch: async () => [], windowMs: WINDOW, now: () => db.clock }).poll({ full: true }));
    assert.deepEqual(empty, [{ action: 'replace', payload: [] }]);
  });
});
