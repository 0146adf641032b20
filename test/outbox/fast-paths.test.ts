/**
 * The outbox and queue paths that make many small messages and large batches cheap: peeks served
 * from memory, the ack position persisted at most once a second, large batches appended in slices
 * behind a lane, tables built in slices. Each must behave exactly like the slow path it replaces.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Outbox } from '../../src/outbox/outbox';
import { WriteQueue } from '../../src/outbox/write-queue';
import { metricsFromRows, metricsFromRowsSliced } from '../../src/kairos/push-body';
import type { KairosPushMetric, Row } from '../../src/types';
import { seededRandom as rng } from '../helpers/random';

function one(ts: number, name = 'm'): KairosPushMetric[] {
  return [{ name, tags: { host: 'h1' }, type: 'long', datapoints: [[ts, ts]] }];
}

function timestamps(metrics: KairosPushMetric[]): number[] {
  return metrics.flatMap((m) => (m.datapoints ?? []).map((p) => p[0] as number));
}

describe('outbox and queue fast paths', function () {
  this.timeout(60_000);
  let dir: string;
  const open: Outbox[] = [];
  const openBox = async (opts: Partial<Parameters<typeof Outbox.open>[0]> = {}): Promise<Outbox> => {
    const box = await Outbox.open({ dir, ...opts });
    open.push(box);
    return box;
  };
  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'outbox-fast-'));
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('peeks fresh batches from memory with exactly what a reopened outbox reads from disk', async () => {
    let box = await openBox();
    const random = rng(7);
    const batches: KairosPushMetric[][] = [];
    for (let i = 0; i < 300; i++) {
      const n = 1 + Math.floor(random() * 5);
      const b: KairosPushMetric[] = [{ name: `m${i % 3}`, tags: { host: 'h1', line: String(i % 2) }, type: 'double', datapoints: Array.from({ length: n }, (_, j) => [i * 10 + j, random()] as [number, number]) }];
      batches.push(b);
    }
    await Promise.all(batches.map((b) => box.append(b)));
    const fromMemory: string[] = [];
    for (let b = await box.peek(37); b; b = await box.peek(37)) {
      fromMemory.push(JSON.stringify({ m: b.metrics, p: b.points, r: b.records }));
      if (fromMemory.length === 4) break; // leave the rest for the disk path below
      await box.ack(b.id);
    }
    await box.close();
    open.length = 0;
    box = await openBox();
    const b = await box.peek(37);
    assert.equal(JSON.stringify({ m: b!.metrics, p: b!.points, r: b!.records }), fromMemory[3], 'the batch peeked from memory before the reopen reads back alike from disk');
    let seen = timestamps(b!.metrics);
    await box.ack(b!.id);
    for (let x = await box.peek(1000); x; x = await box.peek(1000)) {
      seen = seen.concat(timestamps(x.metrics));
      await box.ack(x.id);
    }
    const expected = batches.slice(0).flatMap((bb) => timestamps(bb));
    const firstLeft = expected.indexOf(timestamps(JSON.parse(fromMemory[3]).m)[0]);
    assert.deepEqual(seen, expected.slice(firstLeft));
  });

  it('keeps order and counts when the backlog outgrows the in-memory cache', async () => {
    const box = await openBox();
    const total = 60_000; // about 6 MB of records: more than the cache holds
    for (let from = 0; from < total; from += 10_000) {
      await Promise.all(Array.from({ length: 10_000 }, (_, i) => box.append(one(from + i))));
    }
    let next = 0;
    let appended = total;
    const random = rng(11);
    for (let b = await box.peek(1 + Math.floor(random() * 5000)); b; b = await box.peek(1 + Math.floor(random() * 5000))) {
      for (const t of timestamps(b.metrics)) assert.equal(t, next++, 'batches come back once each, in order');
      await box.ack(b.id);
      // Fresh appends while the backlog drains: once the cache has emptied it takes them up again.
      if (appended < total + 2000) await box.append(one(appended++));
    }
    assert.equal(next, appended);
    assert.deepEqual({ points: box.stats().points, batches: box.stats().batches }, { points: 0, batches: 0 });
  });

  it('after a crash resends nothing acked more than a second before it and loses nothing unacked', async function () {
    const fixture = join(__dirname, 'fixtures', 'crash-consumer.ts');
    const count = 2000;
    const early = 700;
    const late = 1400;
    const child = spawn(process.execPath, ['-r', 'tsx/cjs', fixture, dir, String(count), String(early), String(late)], {
      cwd: join(__dirname, '..', '..'),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child too slow: ${err}`)), 40_000);
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('acked\n')) {
          clearTimeout(timer);
          process.kill(child.pid as number, 'SIGKILL');
          resolve();
        }
      });
      void exited.then(() => {
        clearTimeout(timer);
        if (!out.includes('acked\n')) reject(new Error(`child exited early: ${err}`));
      });
    });
    await exited;
    const box = await openBox();
    const left = timestamps((await box.peek(Number.MAX_SAFE_INTEGER))?.metrics ?? []);
    assert.ok(left.length > 0 && left[0] >= early, `acked before the persist delay came back (first left ${left[0]})`);
    assert.ok(left[0] <= late, 'only acked batches are gone');
    assert.deepEqual(left, Array.from({ length: count - left[0] }, (_, i) => left[0] + i), 'everything not acked is there, in order');
  });

  it('appends a large batch in slices behind a lane, keeping the order of the enqueues around it', async () => {
    const box = await openBox();
    const sent: number[] = [];
    const q = new WriteQueue({
      outbox: box,
      maxBatchPoints: 1000,
      maxDelayMs: 5,
      send: async (metrics) => {
        for (const m of metrics) for (const p of m.datapoints ?? []) sent.push(p[0] as number);
        return { written: 0, rejected: 0, errors: [], requests: 1 };
      },
    });
    try {
      const big: KairosPushMetric[] = [{ name: 'big', tags: { host: 'h1' }, type: 'long', datapoints: Array.from({ length: 120_000 }, (_, i) => [1000 + i, i] as [number, number]) }];
      let turns = 0;
      const ticker = setInterval(() => turns++, 0);
      const pending = [q.enqueue(one(0, 'before')), q.enqueue(big), ...Array.from({ length: 50 }, (_, i) => q.enqueue(one(200_000 + i, 'after')))];
      await Promise.all(pending);
      clearInterval(ticker);
      assert.ok(turns > 0, 'the event loop turned while the large batch was appended');
      await q.flush();
      const expected = [0, ...Array.from({ length: 120_000 }, (_, i) => 1000 + i), ...Array.from({ length: 50 }, (_, i) => 200_000 + i)];
      assert.equal(sent.length, expected.length);
      assert.deepEqual(sent, expected);
    } finally {
      await q.close(500);
    }
  });

  it('builds a table in slices to the same points, errors and counts as in one go (random tables, fixed seeds)', async () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = rng(seed);
      const rows: Row[] = [];
      const n = 500 + Math.floor(random() * 3000);
      for (let i = 0; i < n; i++) {
        const r: Row = { Timestamp: random() < 0.02 ? 'not a time' : 1_700_000_000_000 + i * 1000 };
        for (let c = 0; c < 4; c++) {
          const x = random();
          r[`c${c}`] = x < 0.1 ? null : x < 0.15 ? 'text' : x < 0.17 ? '' : x < 0.2 ? true : Math.round(x * 1e6) / 1e3;
        }
        rows.push(random() < 0.01 ? (42 as unknown as Row) : r);
      }
      const opts = { tags: { host: 'h1' }, timestampColumnName: 'Timestamp' };
      const whole = metricsFromRows(rows, opts);
      const sliced = await metricsFromRowsSliced(rows, opts, 1 + Math.floor(random() * 400));
      assert.deepEqual(sliced, whole, `seed ${seed}`);
    }
  });
});
