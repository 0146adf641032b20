import assert from 'node:assert/strict';
import { IncrementalPoller, RowAssembler, type HeldRows, type StreamPosition } from '../../src/stream';
import { seededRandom } from '../../src/server/random';
import { tableFromSeries } from '../../src/table';
import type { Series } from '../../src/types';
import { EmitLog, SimDb } from '../helpers/stream-sim';

const INTERVAL = 1000;

/** Rows the stream node would send for released series (a stream never drops trailing rows). */
function rowCells(series: Series[], log: EmitLog): number {
  if (series.length === 0) return 0;
  const t = tableFromSeries(series, { dropTrailingNa: false });
  const [tsName, ...cols] = t.columns;
  for (const r of t.rows) for (const c of cols) if (r[c] !== null) log.add(c, r[tsName] as number);
  return t.rows.length;
}

function newestOf(p: IncrementalPoller): Map<string, number> {
  return new Map(Object.entries(p.position.series).map(([c, s]) => [c, s.last]));
}

describe('stream rows: no point lost when metrics of one moment become visible in different polls', () => {
  it('the issue\'s reproduction: A@T+2s arrives with B@T+1s, B@T+2s a poll later; all six points in rows', async () => {
    const db = new SimDb();
    const T = 1_000_000;
    db.clock = T + 100;
    const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 600_000, now: () => db.clock });
    const rows = new RowAssembler(3 * INTERVAL);
    const log = new EmitLog();
    const step = async (): Promise<void> => {
      const r = await poller.poll();
      rows.add(r.series, db.clock);
      rowCells(rows.release(db.clock, newestOf(poller)), log);
      db.clock += INTERVAL;
    };
    db.add('A', T, 1, db.clock);
    db.add('B', T, 2, db.clock);
    await step();
    for (let i = 0; i < 3; i++) await step();
    db.add('A', T + 1000, 3, db.clock);
    db.add('A', T + 2000, 5, db.clock);
    db.add('B', T + 1000, 4, db.clock);
    for (let i = 0; i < 3; i++) await step();
    db.add('B', T + 2000, 6, db.clock);
    for (let i = 0; i < 6; i++) await step();
    assert.deepEqual(log.missing(db.all()), []);
    assert.deepEqual(log.twice(), []);
  });

  // Metrics written at shared moments, some cells missing, each metric's part of a push visible after
  // its own random delay (in time order per metric), polls every second, a random grace.
  for (const seed of [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]) {
    it(`seed ${seed}: every point in exactly one row, across restarts and failed polls`, async () => {
      const rnd = seededRandom(seed);
      const db = new SimDb();
      const start = 5_000_000;
      db.clock = start;
      const metrics = ['m0', 'm1', 'm2', 'm3'].slice(0, 2 + Math.floor(rnd() * 3));
      const grace = Math.floor(rnd() * 4) * INTERVAL;
      const opts = { fetch: db.fetch, windowMs: 600_000, overlapMs: 2000, now: () => db.clock };
      let poller = new IncrementalPoller(opts);
      let rows = new RowAssembler(grace);
      const log = new EmitLog();
      const visibleFrom = new Map<string, number>();
      let rowCount = 0;
      for (let tick = 0; tick < 60; tick++) {
        // A push of the moments since the last tick.
        if (rnd() < 0.7) {
          const ts = db.clock - Math.floor(rnd() * 500);
          for (const m of metrics) {
            if (rnd() < 0.15) continue; // this metric has no point at this moment
            const delay = Math.floor(rnd() * rnd() * 4000);
            const at = Math.max(visibleFrom.get(m) ?? 0, db.clock + delay);
            visibleFrom.set(m, at);
            db.add(m, ts, tick, at);
          }
        }
        if (rnd() < 0.05) {
          // Restart: position and held rows from their JSON, as the node saves them.
          const saved = JSON.parse(JSON.stringify({ position: poller.position, held: rows.held })) as { position: StreamPosition; held: HeldRows };
          poller = new IncrementalPoller({ ...opts, position: saved.position });
          rows = new RowAssembler(grace, saved.held);
        }
        if (rnd() < 0.05) {
          db.failing = new Error('down');
          await assert.rejects(poller.poll(), /down/);
          db.failing = undefined;
        }
        const r = await poller.poll();
        rows.add(r.series, db.clock);
        rowCount += rowCells(rows.release(db.clock, newestOf(poller)), log);
        db.clock += INTERVAL;
      }
      // Quiet time: everything becomes visible, every held row comes due.
      for (let tick = 0; tick < 10; tick++) {
        const r = await poller.poll();
        rows.add(r.series, db.clock);
        rowCount += rowCells(rows.release(db.clock, newestOf(poller)), log);
        db.clock += INTERVAL;
      }
      assert.equal(rows.heldPoints, 0, 'nothing left held');
      assert.deepEqual(log.missing(db.all()), [], 'every stored point emitted');
      assert.deepEqual(log.twice(), [], 'no point in two rows');
      assert.ok(rowCount > 0);
    });
  }

  it('control: the trailing drop of tables (the old rows output) loses points on the same data', async () => {
    let lost = 0;
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const rnd = seededRandom(seed);
      const db = new SimDb();
      db.clock = 5_000_000;
      const poller = new IncrementalPoller({ fetch: db.fetch, windowMs: 600_000, now: () => db.clock });
      const log = new EmitLog();
      for (let tick = 0; tick < 40; tick++) {
        const ts = db.clock;
        db.add('a', ts, tick, db.clock);
        db.add('b', ts, tick, db.clock + Math.floor(rnd() * 2500));
        const r = await poller.poll();
        if (r.series.length) {
          const t = tableFromSeries(r.series, { dropTrailingNa: true });
          for (const row of t.rows) for (const c of t.columns.slice(1)) if (row[c] !== null) log.add(c, row.Timestamp as number);
        }
        db.clock += INTERVAL;
      }
      lost += log.missing(db.all().filter((p) => p.ts < db.clock - 5000)).length;
    }
    assert.ok(lost > 0, 'the old behaviour loses points here, so the tests above can fail');
  });

  it('held rows survive a restart through their JSON form; a damaged form names the field', () => {
    const a = new RowAssembler(1000);
    a.add([{ name: 'x', column: 'x', tags: {}, values: [[5, 1]] }], 0);
    const b = new RowAssembler(1000, JSON.parse(JSON.stringify(a.held)));
    assert.equal(b.heldPoints, 1);
    assert.deepEqual(b.release(0, new Map([['x', 5], ['y', 2]])), []);
    assert.deepEqual(b.release(1000, new Map([['x', 5], ['y', 2]]))[0].values, [[5, 1]]);
    assert.throws(() => new RowAssembler(1000, { version: 1, rows: [['x', 1, []]] } as never), /held\.rows\[0\]/);
    assert.throws(() => new RowAssembler(-1), /rowGraceMs.*-1/);
  });
});
