import assert from 'node:assert/strict';
import { IncrementalPoller, PollLoop, type StreamPosition, type TimeRange } from '../../src/stream';
import { ValidationError } from '../../src/errors';
import type { PointValue, Series } from '../../src/types';

/** An in-memory "database": series by column, queried like KairosDB (inclusive range). */
class FakeDb {
  data = new Map<string, Array<[number, PointValue]>>();
  asked: TimeRange[] = [];
  failNext: Error | undefined;

  add(column: string, ...points: Array<[number, PointValue]>): void {
    const list = this.data.get(column) ?? [];
    list.push(...points);
    this.data.set(column, list);
  }

  fetch = async (range: TimeRange): Promise<Series[]> => {
    this.asked.push(range);
    if (this.failNext) {
      const err = this.failNext;
      this.failNext = undefined;
      throw err;
    }
    const out: Series[] = [];
    for (const [column, values] of this.data) {
      // Descending on purpose: the poller must sort.
      const inRange = values.filter(([ts]) => ts >= range.start && ts <= range.end).sort((a, b) => b[0] - a[0]);
      if (inRange.length) out.push({ name: column, column, tags: {}, values: inRange });
    }
    return out;
  };
}

function pointsOf(series: Series[], column: string): Array<[number, PointValue | null]> {
  return series.find((s) => s.column === column)?.values ?? [];
}

describe('IncrementalPoller', () => {
  let db: FakeDb;
  let clock: number;
  const now = (): number => clock;

  beforeEach(() => {
    db = new FakeDb();
    clock = 1_000_000;
  });

  it('asks for the whole window first, then from the last point minus the overlap', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 600_000, overlapMs: 2000, now });
    db.add('temp', [990_000, 1], [995_000, 2]);
    const first = await poller.poll();
    assert.deepEqual(db.asked[0], { start: 400_000, end: 1_000_000 });
    assert.deepEqual(pointsOf(first.series, 'temp'), [[990_000, 1], [995_000, 2]]);
    assert.equal(first.points, 2);

    clock = 1_010_000;
    await poller.poll();
    assert.deepEqual(db.asked[1], { start: 993_000, end: 1_010_000 });
  });

  it('emits every point exactly once across overlapping polls', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 60_000, overlapMs: 5000, now });
    db.add('a', [999_000, 1]);
    const emitted: number[] = [];
    for (let i = 1; i <= 20; i++) {
      const r = await poller.poll();
      emitted.push(...pointsOf(r.series, 'a').map(([ts]) => ts));
      clock += 1000;
      db.add('a', [clock - 500, i]);
    }
    const unique = new Set(emitted);
    assert.equal(unique.size, emitted.length, 'no duplicates');
    assert.equal(emitted.length, 20);
    assert.deepEqual(emitted, [...emitted].sort((x, y) => x - y));
  });

  it('emits a late point that lands inside the overlap, once', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 60_000, overlapMs: 3000, now });
    db.add('a', [998_000, 1], [1_000_000, 2]);
    await poller.poll();
    // Written after the first poll but stamped before the newest point.
    db.add('a', [999_000, 'late']);
    clock = 1_001_000;
    const second = await poller.poll();
    // Older than a point already sent: it comes as late, so a chart can redraw instead of stepping back.
    assert.deepEqual(pointsOf(second.late, 'a'), [[999_000, 'late']]);
    assert.deepEqual(second.series, []);
    assert.equal(second.latePoints, 1);
    clock = 1_002_000;
    const third = await poller.poll();
    assert.equal(third.points, 0);
    assert.deepEqual(third.series, []);
  });

  it('drops a late point older than the overlap instead of re-emitting old ones', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 60_000, overlapMs: 1000, now });
    db.add('a', [990_000, 1], [1_000_000, 2]);
    await poller.poll();
    db.add('a', [995_000, 'too late']);
    clock = 1_001_000;
    const r = await poller.poll();
    assert.equal(r.points, 0);
  });

  it('keeps series independent: a lagging series is not skipped', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 600_000, overlapMs: 1000, now });
    db.add('fast', [1_000_000, 1]);
    db.add('slow', [900_000, 1]);
    await poller.poll();
    db.add('slow', [950_000, 2]);
    db.add('fast', [1_004_000, 2]);
    clock = 1_005_000;
    const r = await poller.poll();
    assert.deepEqual(db.asked[1], { start: 899_000, end: 1_005_000 });
    assert.deepEqual(pointsOf(r.series, 'slow'), [[950_000, 2]]);
    assert.deepEqual(pointsOf(r.series, 'fast'), [[1_004_000, 2]]);
  });

  it('never asks for more than the window', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 10_000, overlapMs: 1000, now });
    db.add('a', [999_000, 1]);
    await poller.poll();
    clock = 2_000_000;
    await poller.poll();
    assert.deepEqual(db.asked[1], { start: 1_990_000, end: 2_000_000 });
    // The silent series fell out of the window and out of the position.
    assert.deepEqual(poller.position.series, {});
  });

  it('resumes from a saved position without repeating or skipping points', async () => {
    const first = new IncrementalPoller({ fetch: db.fetch, windowMs: 60_000, overlapMs: 3000, now });
    db.add('a', [997_000, 1], [999_000, 2]);
    await first.poll();
    const saved = JSON.parse(JSON.stringify(first.position)) as StreamPosition;

    // "Restart": points arrived while down, one of them late inside the overlap.
    db.add('a', [998_000, 'late'], [1_003_000, 3]);
    clock = 1_005_000;
    const second = new IncrementalPoller({ fetch: db.fetch, windowMs: 60_000, overlapMs: 3000, now, position: saved });
    const r = await second.poll();
    assert.deepEqual(pointsOf(r.late, 'a'), [[998_000, 'late']]);
    assert.deepEqual(pointsOf(r.series, 'a'), [[1_003_000, 3]]);
    assert.deepEqual(db.asked[1], { start: 996_000, end: 1_005_000 });
  });

  it('window mode emits the whole window every poll', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 10_000, mode: 'window', now });
    db.add('a', [995_000, 1], [999_000, 2]);
    const r1 = await poller.poll();
    clock = 1_001_000;
    const r2 = await poller.poll();
    assert.deepEqual(db.asked, [
      { start: 990_000, end: 1_000_000 },
      { start: 991_000, end: 1_001_000 },
    ]);
    assert.deepEqual(pointsOf(r1.series, 'a'), [[995_000, 1], [999_000, 2]]);
    assert.deepEqual(pointsOf(r2.series, 'a'), [[995_000, 1], [999_000, 2]]);
  });

  it('leaves the position unchanged when the fetch fails, so the poll can be repeated', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 60_000, now });
    db.add('a', [999_000, 1]);
    await poller.poll();
    const before = poller.position;
    db.add('a', [1_000_500, 2]);
    clock = 1_001_000;
    db.failNext = new Error('boom');
    await assert.rejects(poller.poll(), /boom/);
    assert.deepEqual(poller.position, before);
    const r = await poller.poll();
    assert.deepEqual(pointsOf(r.series, 'a'), [[1_000_500, 2]]);
  });

  it('serialises concurrent polls so nothing is emitted twice', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 60_000, now });
    db.add('a', [999_000, 1], [999_500, 2]);
    const [r1, r2] = await Promise.all([poller.poll(), poller.poll()]);
    assert.equal(r1.points + r2.points, 2);
  });

  it('ignores points outside the asked range and gaps (null)', async () => {
    const poller = new IncrementalPoller({
      fetch: async () => [
        { name: 'a', column: 'a', tags: {}, values: [[5_000_000, 1], [999_000, null], [999_500, 2], [1, 3]] },
      ],
      windowMs: 60_000,
      now,
    });
    const r = await poller.poll();
    assert.deepEqual(pointsOf(r.series, 'a'), [[999_500, 2]]);
    assert.equal(poller.position.series.a.last, 999_500);
  });

  it('bounds the remembered timestamps per series without re-emitting', async () => {
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 60_000, overlapMs: 10_000, now, maxSeenPerSeries: 3 });
    db.add('a', [995_000, 1], [996_000, 2], [997_000, 3], [998_000, 4], [999_000, 5]);
    const r1 = await poller.poll();
    assert.equal(r1.points, 5);
    assert.equal(poller.position.series.a.seen.length, 3);
    clock = 1_001_000;
    const r2 = await poller.poll();
    assert.equal(r2.points, 0);
  });

  it('rejects bad options and damaged positions, naming field and value', () => {
    const f = db.fetch;
    assert.throws(() => new IncrementalPoller({ fetch: f, windowMs: -5 }), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.code, 'EVALIDATION');
      assert.match(e.message, /windowMs.*-5/);
      return true;
    });
    assert.throws(() => new IncrementalPoller({ fetch: f, windowMs: 1000, overlapMs: 5000 }), /overlapMs.*5000/);
    assert.throws(() => new IncrementalPoller({ fetch: f, windowMs: 1000, mode: 'all' as 'window' }), /mode.*"all"/);
    assert.throws(() => new IncrementalPoller({ fetch: 'x' as unknown as typeof f, windowMs: 1000 }), /fetch.*"x"/);
    assert.throws(
      () => new IncrementalPoller({ fetch: f, windowMs: 1000, position: { version: 3 } as unknown as StreamPosition }),
      /position\.version.*3/,
    );
    assert.throws(
      () =>
        new IncrementalPoller({
          fetch: f,
          windowMs: 1000,
          position: { version: 1, series: { a: { last: 'x', seen: [] } } } as unknown as StreamPosition,
        }),
      /position\.series\["a"\]\.last.*"x"/,
    );
  });

  it('with a PollLoop, a writer racing the polls and a restart midway, emits every point exactly once', async () => {
    // Real clock; the writer stamps points up to 30 ms in the past (late arrivals) inside a 200 ms overlap.
    const live = new FakeDb();
    const written: number[] = [];
    const emitted: number[] = [];
    let ts = Date.now() - 1000;
    const writer = setInterval(() => {
      for (let i = 0; i < 3; i++) {
        ts += 1;
        const stamp = Math.min(ts, Date.now()) - (i === 2 ? 30 : 0);
        if (!written.includes(stamp)) {
          written.push(stamp);
          live.add('m', [stamp, stamp]);
        }
      }
    }, 2);
    const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const runLoop = async (position: StreamPosition | undefined, ms: number): Promise<StreamPosition> => {
      const poller = new IncrementalPoller({ fetch: live.fetch, windowMs: 60_000, overlapMs: 200, position });
      const errors: unknown[] = [];
      const loop = new PollLoop({
        intervalMs: 3,
        onError: (e) => errors.push(e),
        run: async (signal) => {
          const r = await poller.poll(signal);
          for (const s of [...r.series, ...r.late]) emitted.push(...s.values.map(([t]) => t));
        },
      });
      loop.start();
      await sleep(ms);
      await loop.stop();
      assert.deepEqual(errors, []);
      // What a node would store in its context and read back after a restart.
      return JSON.parse(JSON.stringify(poller.position)) as StreamPosition;
    };
    try {
      const saved = await runLoop(undefined, 80);
      await runLoop(saved, 80);
    } finally {
      clearInterval(writer);
    }
    // Points stamped more than the overlap before the newest emitted one must all have been emitted.
    assert.equal(new Set(emitted).size, emitted.length, 'no point emitted twice');
    const emittedSet = new Set(emitted);
    const lastPolled = Math.max(...emitted);
    const due = written.filter((t) => t <= lastPolled - 200);
    const missing = due.filter((t) => !emittedSet.has(t));
    assert.deepEqual(missing, [], 'no point skipped');
    assert.ok(emitted.length > 50, `enough traffic to mean something (${emitted.length})`);
  });
});
