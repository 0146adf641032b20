import assert from 'node:assert/strict';
import { EmittedIndex, IncrementalPoller, decodeRuns, encodeRuns, type IncrementalPollerOptions, type PollResult, type StreamPosition } from '../../src/stream';
import { seededRandom } from '../../src/server/random';
import { EmitLog, SimDb } from '../helpers/stream-sim';

const HOUR = 3600_000;
const STEP = 5000;

interface Run {
  log: EmitLog;
  /** Newest on-time timestamp sent per column: on-time points must never go back. */
  newest: Map<string, number>;
  results: PollResult[];
  backwards: string[];
  lateNotBehind: string[];
}

function record(run: Run, r: PollResult): void {
  run.results.push(r);
  run.log.addSeries(r.series);
  run.log.addSeries(r.late);
  for (const s of r.series) {
    for (const [ts] of s.values) {
      if (ts <= (run.newest.get(s.column) ?? -Infinity)) run.backwards.push(`${s.column}@${ts}`);
      run.newest.set(s.column, ts);
    }
  }
  for (const s of r.late) for (const [ts] of s.values) if (!(ts < (run.newest.get(s.column) ?? -Infinity))) run.lateNotBehind.push(`${s.column}@${ts}`);
}

describe('stream late-data horizon: late points (seconds to hours) emitted once, marked late', () => {
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`seed ${seed}: random late points, backlogs, outages and restarts over 90 simulated minutes`, async () => {
      const rnd = seededRandom(seed);
      const db = new SimDb();
      const t0 = 1_700_000_000_000;
      db.clock = t0;
      const opts: IncrementalPollerOptions = {
        fetch: db.fetch,
        count: db.count,
        windowMs: 600_000,
        horizonMs: HOUR,
        now: () => db.clock,
        checkEveryMs: 30_000,
        maxPoints: 60 + Math.floor(rnd() * 2) * 400,
      };
      let poller = new IncrementalPoller(opts);
      const run: Run = { log: new EmitLog(), newest: new Map(), results: [], backwards: [], lateNotBehind: [] };
      const columns = ['c0', 'c1', 'c2'];
      const expected: Array<{ column: string; ts: number }> = [];
      let value = 0;
      const end = t0 + 1.5 * HOUR;
      let restarts = 0;
      let outageLeft = 0;
      let failed = 0;
      while (db.clock < end) {
        for (const c of columns) {
          if (rnd() < 0.1) continue;
          db.add(c, db.clock - Math.floor(rnd() * 300), value++, db.clock + Math.floor(rnd() * 2 * STEP));
        }
        const roll = rnd();
        if (roll < 0.04) {
          // One late point: 5 s to 50 min behind.
          const lateBy = [5000, 30_000, 120_000, 600_000, 3_000_000][Math.floor(rnd() * 5)] + Math.floor(rnd() * 1000);
          db.add(columns[Math.floor(rnd() * 3)], db.clock - lateBy, value++, db.clock);
        } else if (roll < 0.05) {
          // A gateway's backlog: minutes of one-second points arriving at once, into a busy series.
          const from = db.clock - Math.floor(rnd() * 40) * 60_000 - 300_000;
          const c = columns[Math.floor(rnd() * 3)];
          for (let ts = from; ts < from + 300_000; ts += 1000 + 7) db.add(c, ts, value++, db.clock + Math.floor(rnd() * STEP));
        }
        if (rnd() < 0.01) {
          // An outage of a few polls: every query fails, the position stays where it was.
          db.failing = new Error('server down');
          outageLeft = 1 + Math.floor(rnd() * 6);
        }
        if (outageLeft > 0 && --outageLeft === 0) db.failing = undefined;
        if (rnd() < 0.01) {
          // Restart from the persisted (JSON) position.
          const saved = JSON.parse(JSON.stringify(poller.position)) as StreamPosition;
          poller = new IncrementalPoller({ ...opts, position: saved });
          restarts++;
        }
        try {
          record(run, await poller.poll());
        } catch (err) {
          assert.equal((err as Error).message, 'server down');
          failed++;
        }
        db.clock += STEP;
      }
      db.failing = undefined;
      // Quiet until every check has run over everything.
      for (let i = 0; i < 40; i++) {
        record(run, await poller.poll());
        db.clock += STEP;
      }
      // Late points count from the first whole check bucket (1 min here) after the stream's start.
      const first = Math.ceil(run.results[0].range.start / 60_000) * 60_000;
      for (const [column, list] of db.data) {
        // Expected: points from the stream's start that became visible no later than 50 min after their timestamp.
        for (const p of list) if (p.ts >= first && p.visibleAt - p.ts <= 3_100_000) expected.push({ column, ts: p.ts });
      }
      assert.deepEqual(run.log.twice(), [], 'no point twice');
      assert.deepEqual(run.log.missing(expected), [], 'every point within the horizon emitted');
      assert.deepEqual(run.backwards, [], 'on-time points never go back in time');
      assert.deepEqual(run.lateNotBehind, [], 'late points are behind a point sent before');
      assert.ok(run.results.some((r) => r.latePoints > 0), 'the run had late points');
      assert.equal(run.results.reduce((n, r) => n + r.unresolved, 0), 0);
      assert.ok(poller.trackedTimestamps <= 200_000);
      assert.ok(restarts >= 0 && failed >= 0);
    });
  }

  it('a snapshot now and then plus each poll\'s delta (a journal) restores exactly the live position', async () => {
    const rnd = seededRandom(99);
    const db = new SimDb();
    db.clock = 1_750_000_000_000;
    const opts: IncrementalPollerOptions = { fetch: db.fetch, count: db.count, windowMs: 600_000, horizonMs: 3_600_000, checkEveryMs: 20_000, maxTracked: 3000, now: () => db.clock };
    const live = new IncrementalPoller(opts);
    live.startJournal();
    let snapshot = JSON.stringify(live.position);
    let journal: string[] = [];
    let deltaBytes = 0;
    let v = 0;
    for (let tick = 0; tick < 800; tick++) {
      for (const c of ['a', 'b']) db.add(c, db.clock - Math.floor(rnd() * 50), v++, db.clock + Math.floor(rnd() * 3000));
      if (rnd() < 0.05) db.add('a', db.clock - Math.floor(rnd() * 2_000_000), v++, db.clock);
      await live.poll();
      const d = live.takeDelta();
      if (tick % 97 === 0 || d.needsSnapshot) {
        snapshot = JSON.stringify(live.position);
        journal = [];
      } else {
        const line = JSON.stringify(d);
        deltaBytes = Math.max(deltaBytes, line.length);
        journal.push(line);
      }
      db.clock += 5000;
    }
    const restored = new IncrementalPoller({ ...opts, position: JSON.parse(snapshot) as StreamPosition });
    restored.replay(journal.map((l) => JSON.parse(l) as ReturnType<IncrementalPoller['takeDelta']>));
    assert.deepEqual(restored.position, live.position);
    assert.ok(deltaBytes < snapshot.length / 4, `a delta (${deltaBytes} B) is much smaller than the snapshot (${snapshot.length} B)`);
  });

  it('horizon 0 keeps the old behaviour: points later than the overlap are not emitted', async () => {
    const db = new SimDb();
    db.clock = 1_000_000;
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 600_000, now: () => db.clock });
    const log = new EmitLog();
    db.add('a', db.clock - 1000, 1, db.clock);
    log.addSeries((await poller.poll()).series);
    db.clock += 10_000;
    db.add('a', db.clock - 500, 2, db.clock);
    db.add('a', db.clock - 14_000, 3, db.clock);
    const r = await poller.poll();
    log.addSeries(r.series);
    assert.equal(r.latePoints, 0);
    assert.deepEqual(log.missing(db.all()), ['a@996000']);
  });

  it('a late point in a bucket holding only counts is still found when it is the one missing; more are reported unresolved', async () => {
    const idx = new EmittedIndex(60_000, 2);
    for (const ts of [60_000, 61_000, 62_000]) idx.add('a', ts);
    idx.prune(0);
    assert.equal(idx.trackedTimestamps, 0, 'folded: over the budget');
    assert.deepEqual(idx.newIn('a', 60_000, [60_000, 61_000, 61_500, 62_000]), { fresh: [61_500], unresolved: 0 });
    assert.deepEqual(idx.newIn('a', 60_000, [60_000, 60_500, 61_000, 61_500, 62_000]), { fresh: [], unresolved: 2 });
    assert.deepEqual(idx.newIn('b', 60_000, [60_100]), { fresh: [60_100], unresolved: 0 });
    assert.equal(idx.has('a', 61_500), true, 'a folded bucket never lets the regular poll emit again');
  });

  it('with the bookkeeping over its bound, a difference that cannot be resolved is reported once, and nothing is sent twice', async () => {
    const db = new SimDb();
    db.clock = 2_000_000_000_000;
    const poller = new IncrementalPoller({ fetch: db.fetch, count: db.count, windowMs: 600_000, horizonMs: 3_600_000, checkEveryMs: 0, maxTracked: 10, now: () => db.clock });
    const log = new EmitLog();
    const step = async (): Promise<number> => {
      const r = await poller.poll();
      log.addSeries(r.series);
      log.addSeries(r.late);
      db.clock += 1000;
      return r.unresolved;
    };
    for (let i = 0; i < 200; i++) {
      db.add('a', db.clock, i, db.clock);
      await step();
    }
    assert.ok(poller.trackedTimestamps <= 10);
    // Two late points in one old, folded bucket: the counts say two are missing, the sum cannot say which.
    db.add('a', db.clock - 150_000 + 500, 'x', db.clock);
    db.add('a', db.clock - 150_000 + 700, 'y', db.clock);
    let unresolved = 0;
    for (let i = 0; i < 5; i++) unresolved += await step();
    assert.equal(unresolved, 2, 'reported once');
    // One late point in another folded bucket: found by the sum.
    db.add('a', db.clock - 100_000 + 300, 'z', db.clock);
    for (let i = 0; i < 3; i++) unresolved += await step();
    assert.equal(unresolved, 2);
    assert.equal(log.seen.get(`a@${db.clock - 3000 - 100_000 + 300}`), 1);
    assert.deepEqual(log.twice(), []);
  });

  it('timestamps persist as runs: regular sampling costs three numbers per bucket', () => {
    const ts = Array.from({ length: 60 }, (_, i) => 1_000_000 + i * 1000);
    assert.deepEqual(encodeRuns(ts), [1_000_000, 1000, 60]);
    const odd = [1, 2, 3, 10, 20, 21];
    assert.deepEqual(decodeRuns(encodeRuns(odd)), odd);
    assert.throws(() => decodeRuns([1, 2]), /runs/);
  });

  it('rejects a horizon over 7 days or without a count source, naming the field', () => {
    const f = async (): Promise<[]> => [];
    assert.throws(() => new IncrementalPoller({ fetch: f, windowMs: 1000, horizonMs: 8 * 24 * HOUR, count: async () => new Map() }), /horizonMs/);
    assert.throws(() => new IncrementalPoller({ fetch: f, windowMs: 1000, horizonMs: HOUR }), /count/);
  });
});
