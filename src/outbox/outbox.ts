/**
 * Durable FIFO of push batches in a directory: the store half of store-and-forward.
 *
 * Layout: `seg-<seq>.log` segment files (append-only, framed records, see framing.ts), `state.json`
 * (the ack position, replaced atomically by rename) and `outbox.lock`. append() resolves only after
 * its record is written and fdatasync'd; concurrent appends share one write + sync (group commit).
 * A record is removed by moving the ack position past it; a segment file is deleted once fully acked.
 * After a crash, open() truncates a torn tail record and resumes from the persisted ack position,
 * so every resolved append is delivered at least once. Points live on disk: memory holds counters
 * and one entry per segment, whatever the backlog.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../errors';
import type { KairosPushMetric, Logger } from '../types';
import { OutboxError } from './errors';
import { encodeRecord } from './framing';
import { acquireDirLock, type DirLock } from './lock';
import { assertPushMetrics, countBatchPoints } from './points';
import { readSegment } from './segment-reader';
import type { BatchStore, DropInfo, OutboxBatch, OutboxStats, OverflowPolicy } from './store';

export interface OutboxOptions {
  dir: string;
  /** Bound on waiting record bytes. Default 256 MiB. */
  maxBytes?: number;
  /** What to do when full. Default 'drop-oldest'. */
  overflow?: OverflowPolicy;
  /** A new segment file is started once the current one reaches this size. Default 8 MiB. */
  segmentBytes?: number;
  logger?: Logger;
  /** Called for every overflow drop (logger.warn is rate-limited, this is not). */
  onDrop?: (info: DropInfo) => void;
}

interface Segment {
  seq: number;
  /** Bytes of complete, synced records; readers never look past it. */
  size: number;
}

interface Pos {
  seq: number;
  off: number;
}

interface Pending {
  buf: Buffer;
  points: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Removed {
  points: number;
  bytes: number;
  records: number;
}

const STATE_FILE = 'state.json';
const SEGMENT_RE = /^seg-(\d{12})\.log$/;
const DROP_WARN_INTERVAL_MS = 10_000;

export class Outbox implements BatchStore {
  readonly durable = true;
  readonly dir: string;
  private readonly maxBytes: number;
  private readonly overflow: OverflowPolicy;
  private readonly segmentBytes: number;
  private readonly logger?: Logger;
  private readonly onDrop?: (info: DropInfo) => void;

  private segments: Segment[] = [];
  private head: Pos = { seq: 1, off: 0 };
  private writer: { seg: Segment; fh: FileHandle } | null = null;
  private forceRotate = false;
  private lock: DirLock | null = null;

  private points = 0;
  private bytes = 0;
  private batches = 0;
  private dropped = 0;
  private appended = 0;
  private removed = 0;

  private pending: Pending[] = [];
  /** Bytes accepted by append() but not yet committed (counted against maxBytes for drop-newest). */
  private uncommittedBytes = 0;
  private flushing: Promise<void> | null = null;
  private mutex: Promise<unknown> = Promise.resolve();
  private closed = false;
  private closing: Promise<void> | null = null;
  private lastDropWarn = -Infinity;
  private unwarnedDrops = { points: 0, batches: 0 };

  private constructor(opts: OutboxOptions) {
    this.dir = opts.dir;
    this.maxBytes = opts.maxBytes ?? 256 * 1024 * 1024;
    this.overflow = opts.overflow ?? 'drop-oldest';
    this.segmentBytes = opts.segmentBytes ?? 8 * 1024 * 1024;
    this.logger = opts.logger;
    this.onDrop = opts.onDrop;
  }

  static async open(opts: OutboxOptions): Promise<Outbox> {
    validateOptions(opts);
    const box = new Outbox(opts);
    await fs.mkdir(opts.dir, { recursive: true });
    box.lock = await acquireDirLock(opts.dir, (n) => join(opts.dir, n));
    try {
      await box.recover();
    } catch (err) {
      await box.writer?.fh.close().catch(() => undefined);
      await box.lock.release().catch(() => undefined);
      throw err;
    }
    return box;
  }

  /** Resolves once the batch is on disk (written and synced). An empty array is a no-op. */
  append(metrics: KairosPushMetric[]): Promise<void> {
    if (this.closed) return Promise.reject(new OutboxError('EOUTBOXCLOSED', `outbox ${this.dir} is closed`));
    try {
      assertPushMetrics(metrics);
    } catch (err) {
      return Promise.reject(err);
    }
    if (metrics.length === 0) return Promise.resolve();
    let payload: Buffer;
    try {
      payload = Buffer.from(JSON.stringify(metrics), 'utf8');
    } catch (err) {
      return Promise.reject(new ValidationError('metrics', metrics, `cannot be stored as JSON: ${(err as Error).message}`));
    }
    const points = countBatchPoints(metrics);
    const buf = encodeRecord(payload, points);
    if (buf.length > this.maxBytes) {
      return Promise.reject(new OutboxError('EOUTBOXFULL', `outbox ${this.dir}: one batch of ${buf.length} bytes (${points} points) is larger than maxBytes ${this.maxBytes}`));
    }
    if (this.overflow === 'drop-newest' && this.bytes + this.uncommittedBytes + buf.length > this.maxBytes) {
      return Promise.reject(
        new OutboxError('EOUTBOXFULL', `outbox ${this.dir} is full (${this.bytes} of ${this.maxBytes} bytes waiting, overflow drop-newest): batch of ${points} points refused`),
      );
    }
    this.uncommittedBytes += buf.length;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ buf, points, resolve, reject });
      this.kickFlush();
    });
  }

  /** The oldest waiting batches, merged up to maxPoints (always at least one batch); null when empty. */
  peek(maxPoints: number): Promise<OutboxBatch | null> {
    if (!Number.isInteger(maxPoints) || maxPoints < 1) return Promise.reject(new ValidationError('maxPoints', maxPoints, 'must be a positive integer'));
    return this.exclusive(async () => {
      this.assertNotReleased();
      if (this.batches === 0) return null;
      const start = { ...this.head };
      const metrics: KairosPushMetric[] = [];
      let points = 0;
      let bytes = 0;
      let records = 0;
      let end = start;
      await this.scan(start, (rec) => {
        if (records > 0 && points + rec.points > maxPoints) return false;
        if (rec.payload) {
          try {
            for (const m of JSON.parse(rec.payload.toString('utf8')) as KairosPushMetric[]) metrics.push(m);
          } catch {
            this.logger?.warn(`outbox ${this.dir}: record at seg ${rec.seq} offset ${rec.off} is not valid JSON; skipped`);
          }
        }
        points += rec.points;
        bytes += rec.end - rec.off;
        records++;
        end = { seq: rec.seq, off: rec.end };
        return true;
      });
      if (records === 0) return null;
      const id = [start.seq, start.off, end.seq, end.off, points, bytes, records].join('.');
      return { id, metrics, points, records };
    });
  }

  /** Removes a peeked batch for good (state persisted before this resolves). Acking twice is harmless. */
  ack(id: string): Promise<void> {
    const m = typeof id === 'string' ? /^(\d+)\.(\d+)\.(\d+)\.(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(id) : null;
    if (!m) return Promise.reject(new ValidationError('id', id, 'is not a batch id from peek() of this outbox'));
    const [startSeq, startOff, endSeq, endOff, points, bytes, records] = m.slice(1).map(Number);
    const start = { seq: startSeq, off: startOff };
    const end = { seq: endSeq, off: endOff };
    return this.exclusive(async () => {
      this.assertNotReleased();
      if (this.cmp(end, this.head) <= 0) return; // acked before, or dropped by overflow meanwhile
      const last = this.segments[this.segments.length - 1];
      if (this.cmp(end, { seq: last.seq, off: last.size }) > 0 || this.cmp(start, end) > 0) {
        throw new ValidationError('id', id, 'points past the end of this outbox');
      }
      if (this.cmp(start, this.head) === 0) {
        this.head = end;
        this.subtract({ points, bytes, records });
      } else {
        // Overflow dropped the front of this batch while it was in flight: count the rest from disk.
        await this.advanceWhile((rec) => this.cmp({ seq: rec.seq, off: rec.end }, end) <= 0);
      }
      await this.persistState();
      await this.releaseConsumed();
    });
  }

  stats(): OutboxStats {
    return {
      points: this.points,
      bytes: this.bytes,
      batches: this.batches,
      dropped: this.dropped,
      appendedBatches: this.appended,
      removedBatches: this.removed,
    };
  }

  /** Commits pending appends, persists the ack position and releases the directory. Idempotent. */
  close(): Promise<void> {
    if (!this.closing) {
      this.closed = true;
      this.closing = (async () => {
        while (this.flushing) await this.flushing;
        await this.exclusive(async () => {
          try {
            await this.persistState();
          } finally {
            await this.writer?.fh.close().catch(() => undefined);
            this.writer = null;
            await this.lock?.release();
            this.lock = null;
          }
        });
      })();
    }
    return this.closing;
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  private kickFlush(): void {
    if (this.flushing) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = null;
      if (this.pending.length) this.kickFlush();
    });
  }

  /** Never rejects: failures go to the appends of the group that failed. */
  private async flushLoop(): Promise<void> {
    while (this.pending.length) {
      const group = this.pending;
      this.pending = [];
      const groupBytes = group.reduce((n, p) => n + p.buf.length, 0);
      try {
        await this.commit(group);
        for (const p of group) p.resolve();
      } catch (err) {
        for (const p of group) p.reject(err);
      } finally {
        this.uncommittedBytes -= groupBytes;
      }
    }
  }

  private async commit(group: Pending[]): Promise<void> {
    let groupBytes = group.reduce((n, p) => n + p.buf.length, 0);
    // drop-newest never gets here over the limit: append() already counted uncommitted bytes.
    if (this.overflow === 'drop-oldest' && this.bytes + groupBytes > this.maxBytes) {
      // Free at least 1 % of the budget at once: under sustained overflow that turns a drop (a disk
      // scan and a state write) per group commit into one per hundredth of the outbox.
      const need = Math.max(this.bytes + groupBytes - this.maxBytes, Math.floor(this.maxBytes / 100));
      await this.exclusive(async () => {
        const removed = await this.advanceWhile((_rec, freed) => freed < need);
        if (removed.records) {
          await this.persistState();
          await this.releaseConsumed();
          this.noteDrop(removed);
        }
      });
      // The group alone is over the limit: its own oldest members go, as the policy says.
      const dropped: Removed = { points: 0, bytes: 0, records: 0 };
      while (group.length > 1 && this.bytes + groupBytes > this.maxBytes) {
        const p = group.shift() as Pending;
        groupBytes -= p.buf.length;
        dropped.points += p.points;
        dropped.bytes += p.buf.length;
        dropped.records++;
        this.appended++;
        this.removed++;
        p.resolve();
      }
      if (dropped.records) this.noteDrop(dropped);
    }

    if (!this.writer || this.forceRotate || this.writer.seg.size >= this.segmentBytes) await this.rotate();
    const w = this.writer as { seg: Segment; fh: FileHandle };
    const buf = group.length === 1 ? group[0].buf : Buffer.concat(group.map((p) => p.buf), groupBytes);
    const at = w.seg.size;
    try {
      await writeAll(w.fh, buf, at);
      await w.fh.datasync();
    } catch (err) {
      // Leave no partial record in the middle of a segment: later records would be unreachable.
      await w.fh.truncate(at).catch(() => undefined);
      this.forceRotate = true;
      throw err;
    }
    w.seg.size = at + buf.length;
    for (const p of group) this.points += p.points;
    this.bytes += groupBytes;
    this.batches += group.length;
    this.appended += group.length;
  }

  private async rotate(): Promise<void> {
    const prev = this.writer;
    this.writer = null;
    if (prev) await prev.fh.close().catch(() => undefined);
    const seq = this.segments.length ? this.segments[this.segments.length - 1].seq + 1 : this.head.seq;
    const fh = await fs.open(this.segPath(seq), 'wx');
    const seg: Segment = { seq, size: 0 };
    this.segments.push(seg);
    this.writer = { seg, fh };
    this.forceRotate = false;
    await syncDir(this.dir);
  }

  // -------------------------------------------------------------------------------------------
  // Reading, acking, dropping

  /**
   * Visits committed records from `from` on, in order, until `visit` returns false. A damaged stretch
   * (possible only through disk faults after open) is reported once as a record without payload
   * covering the rest of its segment, so the queue can move past it instead of stalling.
   */
  private async scan(from: Pos, visit: (rec: { seq: number; off: number; end: number; points: number; payload?: Buffer }) => boolean): Promise<void> {
    for (const seg of this.segments.slice()) {
      if (seg.seq < from.seq) continue;
      const start = seg.seq === from.seq ? from.off : 0;
      const limit = seg.size;
      if (start >= limit) continue;
      const fh = await fs.open(this.segPath(seg.seq), 'r');
      try {
        for await (const rec of readSegment(fh, start, limit)) {
          if (rec.kind === 'bad') {
            this.logger?.warn(`outbox ${this.dir}: segment ${seg.seq} unreadable from offset ${rec.off} (${rec.reason}); ${limit - rec.off} bytes skipped`);
            if (!visit({ seq: seg.seq, off: rec.off, end: limit, points: 0 })) return;
            break;
          }
          if (!visit({ seq: seg.seq, off: rec.off, end: rec.end, points: rec.points, payload: rec.payload })) return;
        }
      } finally {
        await fh.close();
      }
    }
  }

  /** Moves the head past records while `more(record, bytesFreedSoFar)` holds; counts what it removed. */
  private async advanceWhile(more: (rec: { seq: number; end: number }, freed: number) => boolean): Promise<Removed> {
    const removed: Removed = { points: 0, bytes: 0, records: 0 };
    await this.scan(this.head, (rec) => {
      if (!more(rec, removed.bytes)) return false;
      removed.points += rec.points;
      removed.bytes += rec.end - rec.off;
      removed.records++;
      this.head = { seq: rec.seq, off: rec.end };
      return true;
    });
    this.subtract(removed);
    return removed;
  }

  private subtract(r: Removed): void {
    this.points = Math.max(0, this.points - r.points);
    this.bytes = Math.max(0, this.bytes - r.bytes);
    this.batches = Math.max(0, this.batches - r.records);
    this.removed += r.records;
  }

  private noteDrop(r: Removed): void {
    this.dropped += r.points;
    const reason = `outbox ${this.dir} full (maxBytes ${this.maxBytes}, overflow drop-oldest): dropped the oldest ${r.records} batch(es), ${r.points} points`;
    this.onDrop?.({ points: r.points, batches: r.records, reason });
    this.unwarnedDrops.points += r.points;
    this.unwarnedDrops.batches += r.records;
    const now = Date.now();
    if (now - this.lastDropWarn >= DROP_WARN_INTERVAL_MS) {
      this.lastDropWarn = now;
      const u = this.unwarnedDrops;
      this.logger?.warn(`outbox ${this.dir} full (maxBytes ${this.maxBytes}, overflow drop-oldest): dropped the oldest ${u.batches} batch(es), ${u.points} points`);
      this.unwarnedDrops = { points: 0, batches: 0 };
    }
  }

  /** Deletes segments the head has passed (never the one being written), after persisting the head. */
  private async releaseConsumed(): Promise<void> {
    const gone: Segment[] = [];
    let i = 0;
    while (i < this.segments.length - 1) {
      const seg = this.segments[i];
      if (seg === this.writer?.seg) break;
      const passed = seg.seq < this.head.seq || (seg.seq === this.head.seq && this.head.off >= seg.size);
      if (!passed) break;
      gone.push(seg);
      i++;
    }
    if (!gone.length) return;
    if (this.head.seq <= gone[gone.length - 1].seq) {
      this.head = { seq: this.segments[i].seq, off: 0 };
      await this.persistState();
    }
    this.segments = this.segments.slice(i);
    for (const seg of gone) await fs.rm(this.segPath(seg.seq), { force: true });
  }

  /** Orders positions; the end of a finished segment equals the start of the next one. */
  private cmp(a: Pos, b: Pos): number {
    const na = this.normalize(a);
    const nb = this.normalize(b);
    return na.seq - nb.seq || na.off - nb.off;
  }

  private normalize(p: Pos): Pos {
    let cur = p;
    for (let i = 0; i < this.segments.length - 1; i++) {
      const seg = this.segments[i];
      if (seg.seq === cur.seq && cur.off >= seg.size) cur = { seq: this.segments[i + 1].seq, off: 0 };
    }
    return cur;
  }

  /** peek/ack still work while close() drains (an in-flight send may finish), not after the lock is gone. */
  private assertNotReleased(): void {
    if (!this.lock) throw new OutboxError('EOUTBOXCLOSED', `outbox ${this.dir} is closed`);
  }

  /** Runs `fn` with no other reader/acker/dropper active (segments may be deleted under them). */
  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.mutex.then(fn, fn);
    this.mutex = run.catch(() => undefined);
    return run;
  }

  // -------------------------------------------------------------------------------------------
  // State and recovery

  private async persistState(): Promise<void> {
    const tmp = join(this.dir, `${STATE_FILE}.tmp`);
    const fh = await fs.open(tmp, 'w');
    try {
      await fh.writeFile(JSON.stringify({ version: 1, head: this.head }));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await fs.rename(tmp, join(this.dir, STATE_FILE));
    await syncDir(this.dir);
  }

  private async readState(): Promise<Pos | null> {
    let text: string;
    try {
      text = await fs.readFile(join(this.dir, STATE_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    try {
      const parsed = JSON.parse(text) as { head?: { seq?: unknown; off?: unknown } };
      const { seq, off } = parsed.head ?? {};
      if (Number.isInteger(seq) && Number.isInteger(off)) return { seq: seq as number, off: off as number };
    } catch {
      // fall through: resending from the oldest segment is safe (KairosDB overwrites identical points)
    }
    this.logger?.warn(`outbox ${this.dir}: ${STATE_FILE} is unreadable; resending everything still on disk`);
    return null;
  }

  private async recover(): Promise<void> {
    const names = await fs.readdir(this.dir);
    const seqs = names
      .map((n) => SEGMENT_RE.exec(n))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const state = await this.readState();
    let head: Pos = state ?? { seq: seqs[0] ?? 1, off: 0 };

    // Segments wholly before the head were acked; a crash between persisting and unlinking leaves them.
    for (const seq of seqs.filter((s) => s < head.seq)) await fs.rm(this.segPath(seq), { force: true });
    const live = seqs.filter((s) => s >= head.seq);
    if (live.length && live[0] !== head.seq) head = { seq: live[0], off: 0 };

    for (let i = 0; i < live.length; i++) {
      const seq = live[i];
      const isLast = i === live.length - 1;
      const fh = await fs.open(this.segPath(seq), isLast ? 'r+' : 'r');
      let keep = false;
      try {
        const { size: fileSize } = await fh.stat();
        let validEnd = 0;
        for await (const rec of readSegment(fh, 0, fileSize)) {
          if (rec.kind === 'bad') {
            this.logger?.warn(
              isLast
                ? `outbox ${this.dir}: torn record at the end of segment ${seq} (offset ${rec.off}, ${rec.reason}); ${fileSize - rec.off} bytes from an interrupted write discarded`
                : `outbox ${this.dir}: segment ${seq} damaged at offset ${rec.off} (${rec.reason}); ${fileSize - rec.off} bytes after it cannot be read`,
            );
            break;
          }
          validEnd = rec.end;
          if (seq === head.seq && rec.off < head.off) continue;
          this.points += rec.points;
          this.bytes += rec.end - rec.off;
          this.batches++;
        }
        if (seq === head.seq && head.off > validEnd) head = { seq, off: validEnd };
        if (isLast && validEnd < fileSize) {
          await fh.truncate(validEnd);
          await fh.datasync();
        }
        this.segments.push({ seq, size: validEnd });
        if (isLast && validEnd < this.segmentBytes) {
          this.writer = { seg: this.segments[this.segments.length - 1], fh };
          keep = true;
        }
      } finally {
        if (!keep) await fh.close();
      }
    }
    this.head = head;
    this.appended = this.batches;
    if (!this.segments.length) {
      this.head = { seq: head.seq, off: 0 };
      await this.rotate();
    }
    await this.persistState();
    await this.releaseConsumed();
    if (this.batches) this.logger?.debug?.(`outbox ${this.dir}: ${this.batches} batch(es), ${this.points} points waiting from before`);
  }

  private segPath(seq: number): string {
    return join(this.dir, `seg-${String(seq).padStart(12, '0')}.log`);
  }
}

function validateOptions(opts: OutboxOptions): void {
  if (!opts || typeof opts.dir !== 'string' || opts.dir === '') throw new ValidationError('dir', opts?.dir, 'must be a non-empty directory path');
  if (opts.maxBytes !== undefined && !(Number.isInteger(opts.maxBytes) && opts.maxBytes > 0)) {
    throw new ValidationError('maxBytes', opts.maxBytes, 'must be a positive integer number of bytes');
  }
  if (opts.segmentBytes !== undefined && !(Number.isInteger(opts.segmentBytes) && opts.segmentBytes > 0)) {
    throw new ValidationError('segmentBytes', opts.segmentBytes, 'must be a positive integer number of bytes');
  }
  if (opts.overflow !== undefined && opts.overflow !== 'drop-oldest' && opts.overflow !== 'drop-newest') {
    throw new ValidationError('overflow', opts.overflow, "must be 'drop-oldest' or 'drop-newest'");
  }
}

async function writeAll(fh: FileHandle, buf: Buffer, position: number): Promise<void> {
  let done = 0;
  while (done < buf.length) {
    const { bytesWritten } = await fh.write(buf, done, buf.length - done, position + done);
    done += bytesWritten;
  }
}

/** Makes a created, renamed or deleted directory entry durable (Linux needs the directory itself synced). */
export async function syncDir(dir: string): Promise<void> {
  let fh: FileHandle | undefined;
  try {
    fh = await fs.open(dir, 'r');
    await fh.sync();
  } catch (err) {
    // Some platforms (Windows) cannot open or sync a directory; the file data itself is still synced.
    if (!['EISDIR', 'EPERM', 'EINVAL', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await fh?.close();
  }
}
