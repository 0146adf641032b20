import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sinon from 'sinon';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { Outbox } from '../../src/outbox/outbox';
import type { KairosPushMetric } from '../../src/types';

function batch(from: number, n = 1, name = 'm'): KairosPushMetric[] {
  const datapoints: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) datapoints.push([from + i, from + i]);
  return [{ name, tags: { host: 'h1' }, type: 'long', datapoints }];
}

function range(from: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => from + i);
}

/** Every timestamp currently waiting in the outbox, read through peek without acking. */
async function waitingTimestamps(box: Outbox): Promise<number[]> {
  const b = await box.peek(Number.MAX_SAFE_INTEGER);
  if (!b) return [];
  return b.metrics.flatMap((m) => (m.datapoints ?? []).map((p) => p[0]));
}

async function segmentFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((n) => n.startsWith('seg-')).sort();
}

function collectLogger(): { warns: string[]; warn(m: string): void } {
  const warns: string[] = [];
  return { warns, warn: (m: string) => warns.push(m) };
}

describe('Outbox', function () {
  let dir: string;
  const open: Outbox[] = [];
  const openBox = async (opts: Partial<Parameters<typeof Outbox.open>[0]> = {}): Promise<Outbox> => {
    const box = await Outbox.open({ dir, ...opts });
    open.push(box);
    return box;
  };
  /** Bytes of one record of `points` points (test timestamps all have 4 digits, so records are equal); leaves no outbox behind. */
  const recordBytesOf = async (points: number): Promise<number> => {
    const probe = await openBox();
    await probe.append(batch(1000, points));
    const bytes = probe.stats().bytes;
    await probe.close();
    open.splice(open.indexOf(probe), 1);
    await fs.rm(dir, { recursive: true });
    return bytes;
  };

  beforeEach(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'outbox-test-'));
  });
  afterEach(async () => {
    for (const b of open.splice(0)) await b.close();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('keeps FIFO order, merges batches up to maxPoints and removes them on ack', async () => {
    const box = await openBox();
    await box.append(batch(0, 2));
    await box.append(batch(2, 2));
    await box.append(batch(4, 3));
    assert.deepEqual(box.stats(), { points: 7, bytes: box.stats().bytes, batches: 3, dropped: 0, appendedBatches: 3, removedBatches: 0 });

    const first = await box.peek(4);
    assert.ok(first);
    assert.equal(first.points, 4);
    assert.equal(first.records, 2);
    assert.deepEqual(first.metrics.flatMap((m) => m.datapoints?.map((p) => p[0])), [0, 1, 2, 3]);
    // peek without ack is repeatable
    assert.equal((await box.peek(4))?.id, first.id);

    await box.ack(first.id);
    await box.ack(first.id); // acking twice is harmless
    assert.equal(box.stats().points, 3);
    const second = await box.peek(1); // one batch always comes back even if it is over maxPoints
    assert.equal(second?.points, 3);
    await box.ack(second!.id);
    assert.equal(await box.peek(10), null);
    assert.deepEqual({ ...box.stats(), bytes: 0 }, { points: 0, bytes: 0, batches: 0, dropped: 0, appendedBatches: 3, removedBatches: 3 });
  });

  it('survives close and reopen, including the ack position', async () => {
    let box = await openBox();
    for (let i = 0; i < 5; i++) await box.append(batch(i * 10, 2));
    const b = await box.peek(4);
    await box.ack(b!.id);
    await box.close();
    open.length = 0;

    box = await openBox();
    assert.deepEqual(await waitingTimestamps(box), [20, 21, 30, 31, 40, 41]);
    assert.equal(box.stats().points, 6);
    assert.equal(box.stats().batches, 3);
    await box.append(batch(50, 1));
    assert.deepEqual(await waitingTimestamps(box), [20, 21, 30, 31, 40, 41, 50]);
  });

  it('group-commits many concurrent small appends (a few syncs, not one each) and keeps their order', async () => {
    const box = await openBox();
    // Count the syncs on every file handle: a busy machine makes the groups bigger, never the count larger.
    const probe = await fs.open(__filename, 'r');
    const handleProto = Object.getPrototypeOf(probe) as { datasync(): Promise<void>; sync(): Promise<void> };
    await probe.close();
    const datasync = sinon.spy(handleProto, 'datasync');
    const sync = sinon.spy(handleProto, 'sync');
    try {
      await Promise.all(Array.from({ length: 20_000 }, (_, i) => box.append(batch(i))));
    } finally {
      datasync.restore();
      sync.restore();
    }
    const syncs = datasync.callCount + sync.callCount;
    assert.ok(syncs >= 1 && syncs <= 200, `${syncs} syncs for 20,000 appends`);
    const ts = await waitingTimestamps(box);
    assert.equal(ts.length, 20_000);
    assert.ok(ts.every((t, i) => t === i), 'order kept');
  });

  it('rolls segments and deletes them once fully acked', async () => {
    const box = await openBox({ segmentBytes: 2048 });
    for (let i = 0; i < 60; i++) await box.append(batch(i * 10, 5));
    assert.ok((await segmentFiles(dir)).length >= 4, 'several segments written');
    let b;
    let seen = 0;
    while ((b = await box.peek(50))) {
      seen += b.points;
      await box.ack(b.id);
    }
    assert.equal(seen, 300);
    assert.equal((await segmentFiles(dir)).length, 1, 'only the segment being written remains');
    await box.append(batch(9999));
    assert.deepEqual(await waitingTimestamps(box), [9999]);
  });

  it('detects a torn tail record on open, skips it and keeps appending after it', async () => {
    let box = await openBox();
    for (let i = 0; i < 3; i++) await box.append(batch(i));
    await box.close();
    open.length = 0;
    const [seg] = await segmentFiles(dir);
    const path = join(dir, seg);
    const { size } = await fs.stat(path);
    await fs.truncate(path, size - 7); // the third record loses its last bytes

    const logger = collectLogger();
    box = await openBox({ logger });
    assert.deepEqual(await waitingTimestamps(box), [0, 1]);
    assert.equal(box.stats().batches, 2);
    assert.match(logger.warns.join('\n'), /torn record at the end of segment/);
    await box.append(batch(7));
    await box.close();
    open.length = 0;
    box = await openBox();
    assert.deepEqual(await waitingTimestamps(box), [0, 1, 7]);
  });

  it('treats a zero-filled or garbage tail as torn', async () => {
    let box = await openBox();
    await box.append(batch(1));
    await box.close();
    open.length = 0;
    const [seg] = await segmentFiles(dir);
    await fs.appendFile(join(dir, seg), Buffer.alloc(4096));
    box = await openBox();
    assert.deepEqual(await waitingTimestamps(box), [1]);
    await box.close();
    open.length = 0;
    // A record whose payload bytes changed after the header was written: the checksum catches it.
    const path = join(dir, seg);
    const buf = await fs.readFile(path);
    buf[buf.length - 3] ^= 0xff;
    await fs.writeFile(path, buf);
    box = await openBox();
    assert.deepEqual(await waitingTimestamps(box), []);
  });

  it('loses no resolved append when the writing process is SIGKILLed', async function () {
    this.timeout(30_000);
    const fixture = join(__dirname, 'fixtures', 'crash-writer.ts');
    const acknowledged = new Set<number>();
    for (let round = 0; round < 3; round++) {
      const killAfter = 200 + round * 350;
      const child = spawn(process.execPath, ['-r', 'tsx/cjs', fixture, dir, String(round * 1_000_000)], {
        cwd: join(__dirname, '..', '..'),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      let seenThisRound = 0;
      let partial = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`child too slow: ${stderr}`)), 20_000);
        child.stdout.on('data', (d: Buffer) => {
          const lines = (partial + d.toString()).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            if (line === 'ready' || line === '') continue;
            acknowledged.add(Number(line));
            if (++seenThisRound === killAfter) {
              clearTimeout(timer);
              process.kill(child.pid as number, 'SIGKILL');
              resolve();
            }
          }
        });
        void exited.then(() => {
          clearTimeout(timer);
          if (seenThisRound < killAfter) reject(new Error(`child exited early: ${stderr}`));
        });
      });
      await exited;
    }
    // The killed process left its lock behind: it must be taken over, and every acknowledged point be there.
    const box = await openBox();
    const stored = new Set(await waitingTimestamps(box));
    const missing = [...acknowledged].filter((i) => !stored.has(i));
    assert.deepEqual(missing, [], `${missing.length} acknowledged appends lost`);
    assert.ok(acknowledged.size >= 200 + 550 + 900);
  });

  it('drop-oldest discards whole oldest batches, counts and reports them', async () => {
    const logger = collectLogger();
    const drops: number[] = [];
    const recordBytes = await recordBytesOf(10);

    const box = await openBox({ maxBytes: recordBytes * 3, logger, onDrop: (d) => drops.push(d.points) });
    for (let i = 0; i < 5; i++) await box.append(batch(1000 + i * 100, 10));
    assert.equal(box.stats().batches, 3);
    assert.equal(box.stats().points, 30);
    assert.equal(box.stats().dropped, 20);
    assert.ok(box.stats().bytes <= recordBytes * 3);
    assert.deepEqual(drops, [10, 10]);
    assert.match(logger.warns[0], /full .*drop-oldest.*dropped the oldest 1 batch\(es\), 10 points/);
    const ts = await waitingTimestamps(box);
    assert.deepEqual([ts[0], ts[ts.length - 1]], [1200, 1409]);
  });

  it('under sustained overflow stays within maxBytes on disk and accounts for every point', async () => {
    const maxBytes = 64 * 1024;
    const box = await openBox({ maxBytes, segmentBytes: 16 * 1024 });
    let appended = 0;
    for (let round = 0; round < 40; round++) {
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => {
          appended += 3;
          return box.append(batch(10_000 + (round * 50 + i) * 3, 3));
        }),
      );
      assert.ok(box.stats().bytes <= maxBytes, `round ${round}: ${box.stats().bytes} bytes waiting`);
    }
    const s = box.stats();
    assert.equal(s.points + s.dropped, appended);
    assert.ok(s.dropped > 0);
    let onDisk = 0;
    for (const f of await segmentFiles(dir)) onDisk += (await fs.stat(join(dir, f))).size;
    assert.ok(onDisk <= maxBytes + 2 * 16 * 1024, `${onDisk} bytes of segments on disk`);
    const ts = await waitingTimestamps(box);
    assert.equal(ts[ts.length - 1], 10_000 + 2000 * 3 - 1, 'the newest point is kept');
    assert.equal(ts.length, s.points);
  });

  it('acks a batch whose front was dropped by overflow while it was in flight', async () => {
    const recordBytes = await recordBytesOf(10);

    const box = await openBox({ maxBytes: recordBytes * 3 });
    for (let i = 0; i < 3; i++) await box.append(batch(1000 + i * 100, 10));
    const inFlight = await box.peek(20); // batches 1000 and 1100
    await box.append(batch(1300, 10)); // drops batch 1000
    await box.ack(inFlight!.id); // removes batch 1100, the part still there
    const ts = await waitingTimestamps(box);
    assert.deepEqual(ts, [...range(1200, 10), ...range(1300, 10)]);
    assert.equal(box.stats().points, 20);
    assert.equal(box.stats().batches, 2);
  });

  it('drop-newest refuses the append with EOUTBOXFULL and keeps what is stored', async () => {
    const recordBytes = await recordBytesOf(5);

    const box = await openBox({ maxBytes: recordBytes * 2 + 10, overflow: 'drop-newest' });
    await box.append(batch(1000, 5));
    await box.append(batch(1005, 5));
    await assert.rejects(box.append(batch(1010, 5)), (err: Error & { code?: string }) => {
      assert.equal(err.code, 'EOUTBOXFULL');
      assert.match(err.message, /full .*drop-newest.*5 points refused/);
      return true;
    });
    assert.equal(box.stats().points, 10);
    assert.equal(box.stats().dropped, 0);
    const b = await box.peek(100);
    await box.ack(b!.id);
    await box.append(batch(1010, 5)); // room again
    assert.deepEqual(await waitingTimestamps(box), range(1010, 5));
  });

  it('refuses one batch larger than maxBytes whatever the policy', async () => {
    const box = await openBox({ maxBytes: 200 });
    await assert.rejects(box.append(batch(0, 100)), { code: 'EOUTBOXFULL', message: /larger than maxBytes 200/ });
  });

  it('rejects bad input and bad options naming the field and value', async () => {
    const box = await openBox();
    await assert.rejects(box.append('x' as unknown as KairosPushMetric[]), { code: 'EVALIDATION', message: /^metrics: must be an array.*got "x"/ });
    await assert.rejects(box.append([{ name: '', tags: {} }]), { code: 'EVALIDATION', message: /metrics\[0\]\.name: must be a non-empty string/ });
    await assert.rejects(box.ack('nope'), { code: 'EVALIDATION', message: /^id: .*got "nope"/ });
    await assert.rejects(box.peek(0), { code: 'EVALIDATION', message: /maxPoints/ });
    await assert.rejects(Outbox.open({ dir, maxBytes: -1 }), { code: 'EVALIDATION', message: /^maxBytes: .*got -1/ });
    await assert.rejects(Outbox.open({ dir: join(dir, 'x'), overflow: 'drop-all' as 'drop-oldest' }), { code: 'EVALIDATION', message: /^overflow: .*"drop-all"/ });
  });

  describe('directory lock', () => {
    it('refuses a second open while the first is open, and allows it after close', async () => {
      const box = await openBox();
      await assert.rejects(Outbox.open({ dir }), { code: 'EOUTBOXLOCKED', message: new RegExp(`in use by process ${process.pid}`) });
      await box.close();
      open.length = 0;
      await (await openBox()).close();
      open.length = 0;
    });

    it('lets exactly one of several concurrent opens of the same directory win', async () => {
      const results = await Promise.allSettled([Outbox.open({ dir }), Outbox.open({ dir: join(dir, '.') }), Outbox.open({ dir })]);
      const won = results.filter((r): r is PromiseFulfilledResult<Outbox> => r.status === 'fulfilled');
      for (const w of won) open.push(w.value);
      assert.equal(won.length, 1);
      for (const r of results) if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'EOUTBOXLOCKED');
    });

    it('refuses a lock held by another live process and takes over one left by a dead process', async () => {
      const sleeper = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 20000)'], { stdio: 'ignore' });
      const boot = await fs.readFile('/proc/sys/kernel/random/boot_id', 'utf8').then((s) => s.trim(), () => undefined);
      try {
        await fs.writeFile(join(dir, 'outbox.lock'), JSON.stringify({ pid: sleeper.pid, boot }));
        await assert.rejects(Outbox.open({ dir }), { code: 'EOUTBOXLOCKED', message: new RegExp(`process ${sleeper.pid}`) });
      } finally {
        process.kill(sleeper.pid as number, 'SIGKILL');
        await new Promise((r) => sleeper.once('exit', r));
      }
      // Now the pid is dead: the lock is stale.
      const box = await openBox();
      await box.append(batch(1));
      assert.deepEqual(JSON.parse(await fs.readFile(join(dir, 'outbox.lock'), 'utf8')).pid, process.pid);
    });
  });

  it('keeps memory bounded while a large backlog builds up and drains', async function () {
    this.timeout(20_000);
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const box = await openBox({ segmentBytes: 1024 * 1024 });
    const big = batch(0, 1000); // ~15 KB of JSON per batch
    gc();
    const before = process.memoryUsage().heapUsed;
    // ~25 MB on disk, in bounded rounds of concurrent appends.
    for (let round = 0; round < 40; round++) {
      await Promise.all(Array.from({ length: 64 }, () => box.append(big)));
    }
    gc();
    const afterAppend = process.memoryUsage().heapUsed;
    assert.equal(box.stats().points, 40 * 64 * 1000);
    assert.ok(box.stats().bytes > 20 * 1024 * 1024, `backlog ${box.stats().bytes} bytes`);
    const growth = (afterAppend - before) / 1024 / 1024;
    assert.ok(growth < 8, `heap grew ${growth.toFixed(1)} MiB with a ${(box.stats().bytes / 1048576).toFixed(0)} MiB backlog`);
    let drained = 0;
    for (let i = 0; i < 1000; i++) {
      const b = await box.peek(5000);
      if (!b) break;
      drained += b.points;
      await box.ack(b.id);
    }
    assert.equal(drained, 40 * 64 * 1000);
  });
});
