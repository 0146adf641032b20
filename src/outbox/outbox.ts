/**
 * Durable FIFO of push batches in a directory: the store half of store-and-forward.
 *
 * Layout: `seg-<seq>.log` segment files (append-only, framed records, see segment-framing.ts), `state.json`
 * (the ack position, replaced atomically by rename) and `outbox.lock`. append() resolves only after
 * its record is written and fdatasync'd; concurrent appends share one write + sync (group commit),
 * framed into one buffer.
 * A record is removed by moving the ack position past it; a segment file is deleted once fully acked.
 * The ack position is persisted at most once per second (and always before a segment is deleted and
 * on close): a crash can make the last second's delivered batches go out again, which at-least-once
 * delivery allows (KairosDB overwrites identical points), and no request waits for an fsync'd rename.
 * After a crash, open() truncates a torn tail record and resumes from the persisted ack position,
 * so every resolved append is delivered at least once. Points live on disk; the most recently
 * committed batches are also kept in memory up to a bound (CACHE_BYTES of records) so that a
 * consumer keeping up peeks them without reading and parsing them back.
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { ValidationError } from '../errors';
import type { KairosPushMetric, Logger } from '../types';
import { OutboxError } from './outbox-errors';
import { HEADER_BYTES, writeEncodedHeaderInto, writeEncodedRecordInto, writeRecordInto } from './segment-framing';
import { acquireDirLock, type DirLock } from './outbox-lock';
import { assertPushMetrics, countBatchPoints } from '../kairos/push-batches';
import { readSegment } from './segment-reader';
import { positiveInt } from '../util/validate';
import type { BatchStore, DropInfo, OutboxBatch, OutboxStats, OverflowPolicy } from './batch-store';

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
  /** The batch as JSON (serialised in append(), so a batch that cannot be stored fails there); '' with body. */
  json: string;
  /** An encoded push body (appendEncoded): stored and later sent as it is. */
  body?: Buffer;
  payloadBytes: number;
  /** Record bytes: header + payload. */
  bytes: number;
  points: number;
  metrics?: KairosPushMetric[];
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A committed record still held in memory: peek takes it from here instead of disk. */
interface Cached {
  seq: number;
  off: number;
  end: number;
  points: number;
  /** One of the two: the appended metrics, or the encoded body. */
  metrics?: KairosPushMetric[];
  body?: Buffer;
}

interface Removed {
  points: number;
  bytes: number;
  records: number;
}

const STATE_FILE = 'state.json';
const SEGMENT_RE = /^seg-(\d{12})\.log$/;
const DROP_WARN_INTERVAL_MS = 10_000;
/** Acked positions are written at most this often (see the header comment). */
const PERSIST_DELAY_MS = 1000;
/** Record bytes of recent batches kept in memory for peek (about 4× that in heap for one-point batches). */
const CACHE_BYTES = 4 * 1024 * 1024;
/**
 * The bound while the cache holds only encoded bodies: they take their record size in memory (no
 * objects) and were in memory anyway when appended, so a large message (a million points is about
 * 27 MB) goes out without being read back from disk and checksummed again.
 */
const CACHE_BYTES_ENCODED = 32 * 1024 * 1024;
/** Record bytes framed into one write (see flushLoop). */
const COMMIT_BYTES = 4 * 1024 * 1024;
/** Encoded bodies at least this large are written from their own buffer (see frameGroup). */
const OWN_BUFFER_BYTES = 64 * 1024;
/** Buffers per writev call: the usual IOV_MAX. */
const MAX_IOVECS = 1024;
/** Appends settled per event-loop turn after a group commit. */
const SETTLE_SLICE = 2000;

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
  private persistTimer: NodeJS.Timeout | null = null;
  /** Consecutive committed records, oldest first from cacheStart; never a gap between entries. */
  private cache: Cached[] = [];
  private cacheStart = 0;
  private cacheBytes = 0;
  /** Cached records that hold metrics (objects), not encoded bodies: the cache then keeps to CACHE_BYTES. */
  private cacheObjects = 0;
  /** Set when the cache was full: later records go to disk only until the cache has drained. */
  private cacheSuspended = false;
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

  /**
   * Resolves once the batch is on disk (written and synced). An empty array is a no-op. The outbox
   * keeps a reference to `metrics` until the batch is acked (peek hands it out without a disk read):
   * do not change it after appending. `checked`: the caller already ran assertPushMetrics on it.
   */
  append(metrics: KairosPushMetric[], checked = false): Promise<void> {
    if (this.closed) return Promise.reject(new OutboxError('EOUTBOXCLOSED', `outbox ${this.dir} is closed`));
    if (!checked) {
      try {
        assertPushMetrics(metrics);
      } catch (err) {
        return Promise.reject(err);
      }
    }
    if (metrics.length === 0) return Promise.resolve();
    let json: string;
    try {
      json = JSON.stringify(metrics);
    } catch (err) {
      return Promise.reject(new ValidationError('metrics', metrics, `cannot be stored as JSON: ${(err as Error).message}`));
    }
    return this.enqueuePending(json, undefined, Buffer.byteLength(json, 'utf8'), countBatchPoints(metrics), metrics);
  }

  /**
   * append() for a push body the connector's encoder made from a batch (see BatchStore.appendEncoded):
   * stored as a KOB2 record and handed back by peek() in `bodies`, so it is sent without being parsed
   * or serialised again. The outbox keeps a reference to `body` until it is acked: do not change it.
   */
  appendEncoded(body: Buffer, points: number): Promise<void> {
    if (this.closed) return Promise.reject(new OutboxError('EOUTBOXCLOSED', `outbox ${this.dir} is closed`));
    if (!Buffer.isBuffer(body) || body.length < 2) return Promise.reject(new ValidationError('body', body, 'must be an encoded push body (a JSON array in a Buffer)'));
    if (!Number.isSafeInteger(points) || points < 0) return Promise.reject(new ValidationError('points', points, 'must be an integer >= 0'));
    return this.enqueuePending('', body, body.length, points, undefined);
  }

  private enqueuePending(json: string, body: Buffer | undefined, payloadBytes: number, points: number, metrics: KairosPushMetric[] | undefined): Promise<void> {
    const bytes = HEADER_BYTES + payloadBytes;
    if (bytes > this.maxBytes) {
      return Promise.reject(new OutboxError('EOUTBOXFULL', `outbox ${this.dir}: one batch of ${bytes} bytes (${points} points) is larger than maxBytes ${this.maxBytes}`));
    }
    if (this.overflow === 'drop-newest' && this.bytes + this.uncommittedBytes + bytes > this.maxBytes) {
      return Promise.reject(
        new OutboxError('EOUTBOXFULL', `outbox ${this.dir} is full (${this.bytes} of ${this.maxBytes} bytes waiting, overflow drop-newest): batch of ${points} points refused`),
      );
    }
    this.uncommittedBytes += bytes;
    return new Promise<void>((resolve, reject) => {
      this.pending.push({ json, body, payloadBytes, bytes, points, metrics, resolve, reject });
      this.kickFlush();
    });
  }

  /** The oldest waiting batches, merged up to maxPoints (always at least one batch); null when empty. */
  peek(maxPoints: number): Promise<OutboxBatch | null> {
    if (!Number.isInteger(maxPoints) || maxPoints < 1) return Promise.reject(new ValidationError('maxPoints', maxPoints, 'must be an integer >= 1'));
    return this.exclusive(async () => {
      this.assertNotReleased();
      if (this.batches === 0) return null;
      const cached = this.peekCached(maxPoints);
      if (cached) return cached;
      const start = { ...this.head };
      const parts: Array<{ payload: Buffer; encoded: boolean; seq: number; off: number }> = [];
      let points = 0;
      let bytes = 0;
      let records = 0;
      let end = start;
      await this.scan(start, (rec) => {
        if (records > 0 && points + rec.points > maxPoints) return false;
        // The chunk a payload lies in is read per call, so the subarray is not overwritten later.
        if (rec.payload) parts.push({ payload: rec.payload, encoded: rec.encoded === true, seq: rec.seq, off: rec.off });
        points += rec.points;
        bytes += rec.end - rec.off;
        records++;
        end = { seq: rec.seq, off: rec.end };
        return true;
      });
      if (records === 0) return null;
      const id = [start.seq, start.off, end.seq, end.off, points, bytes, records].join('.');
      if (parts.length === records && parts.every((p) => p.encoded)) return encodedBatch(id, parts.map((p) => p.payload), points, records);
      const metrics: KairosPushMetric[] = [];
      for (const p of parts) {
        try {
          for (const m of JSON.parse(p.payload.toString('utf8')) as KairosPushMetric[]) metrics.push(m);
        } catch {
          this.logger?.warn(`outbox ${this.dir}: record at seg ${p.seq} offset ${p.off} is not valid JSON; skipped`);
        }
      }
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
      this.trimCache();
      // A passed segment is deleted only after the position is persisted; otherwise persist soon.
      if (!(await this.releaseConsumed())) this.persistSoon();
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
        if (this.persistTimer) clearTimeout(this.persistTimer);
        this.persistTimer = null;
        await this.exclusive(async () => {
          try {
            await this.persistState();
          } finally {
            await this.writer?.fh.close().catch(() => undefined);
            this.writer = null;
            await this.lock?.release();
            this.lock = null;
            this.cache = [];
            this.cacheStart = 0;
            this.cacheBytes = 0;
            this.cacheObjects = 0;
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
    // The commit starts in the next turn, so the appends of this one (a burst of messages) share its
    // write and fdatasync instead of the first going alone.
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.flushLoop()).finally(() => {
      this.flushing = null;
      if (this.pending.length) this.kickFlush();
    });
  }

  /** Never rejects: failures go to the appends of the group that failed. */
  private async flushLoop(): Promise<void> {
    while (this.pending.length) {
      // At most COMMIT_BYTES per write (one record at least): framing and checksumming a 25 MB backlog
      // in one go would hold the event loop for tens of milliseconds.
      let take = 0;
      let taken = 0;
      while (take < this.pending.length && (take === 0 || taken + this.pending[take].bytes <= COMMIT_BYTES)) taken += this.pending[take++].bytes;
      const group = take === this.pending.length ? this.pending : this.pending.slice(0, take);
      this.pending = take === this.pending.length ? [] : this.pending.slice(take);
      const groupBytes = group.reduce((n, p) => n + p.bytes, 0);
      let error: unknown;
      let ok = false;
      try {
        await this.commit(group);
        ok = true;
      } catch (err) {
        error = err;
      } finally {
        this.uncommittedBytes -= groupBytes;
      }
      // Settle a large group in slices, one event-loop turn each: every settled append resumes its
      // caller (a Node-RED message's done(), say), and 100,000 of those at once would block the loop.
      for (let i = 0; i < group.length; i += SETTLE_SLICE) {
        if (i > 0) await new Promise((r) => setImmediate(r));
        const end = Math.min(group.length, i + SETTLE_SLICE);
        for (let j = i; j < end; j++) {
          if (ok) group[j].resolve();
          else group[j].reject(error);
        }
      }
    }
  }

  private async commit(group: Pending[]): Promise<void> {
    let groupBytes = group.reduce((n, p) => n + p.bytes, 0);
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
        groupBytes -= p.bytes;
        dropped.points += p.points;
        dropped.bytes += p.bytes;
        dropped.records++;
        this.appended++;
        this.removed++;
        p.resolve();
      }
      if (dropped.records) this.noteDrop(dropped);
    }

    if (!this.writer || this.forceRotate || this.writer.seg.size >= this.segmentBytes) await this.rotate();
    const w = this.writer as { seg: Segment; fh: FileHandle };
    const parts = frameGroup(group);
    const at = w.seg.size;
    try {
      await writeAll(w.fh, parts, at);
      await w.fh.datasync();
    } catch (err) {
      // Leave no partial record in the middle of a segment: later records would be unreachable.
      await w.fh.truncate(at).catch(() => undefined);
      this.forceRotate = true;
      throw err;
    }
    w.seg.size = at + groupBytes;
    let off = at;
    for (const p of group) {
      this.points += p.points;
      this.cacheAdd({ seq: w.seg.seq, off, end: off + p.bytes, points: p.points, metrics: p.metrics, body: p.body });
      off += p.bytes;
    }
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
  private async scan(from: Pos, visit: (rec: { seq: number; off: number; end: number; points: number; payload?: Buffer; encoded?: boolean }) => boolean): Promise<void> {
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
          if (!visit({ seq: seg.seq, off: rec.off, end: rec.end, points: rec.points, payload: rec.payload, encoded: rec.encoded })) return;
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
    this.trimCache();
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

  /** Deletes segments the head has passed (never the one being written), after persisting the head. True if it did. */
  private async releaseConsumed(): Promise<boolean> {
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
    if (!gone.length) return false;
    if (this.head.seq <= gone[gone.length - 1].seq) this.head = { seq: this.segments[i].seq, off: 0 };
    // Durable before the files go: a stale position pointing into a deleted segment would lose the
    // batches after it in the next one.
    await this.persistState();
    this.segments = this.segments.slice(i);
    for (const seg of gone) await fs.rm(this.segPath(seg.seq), { force: true });
    return true;
  }

  /** Persists the ack position within PERSIST_DELAY_MS (one fsync'd rename per second at most, not per ack). */
  private persistSoon(): void {
    if (this.persistTimer || this.closed) return;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = null;
      this.exclusive(async () => {
        if (this.lock) await this.persistState();
      }).catch((err: unknown) => this.logger?.warn(`outbox ${this.dir}: saving the ack position failed (${(err as Error).message}); retrying`));
    }, PERSIST_DELAY_MS);
    // Not worth keeping a process alive for: a lost position only means resending, and close() persists.
    this.persistTimer.unref();
  }

  // -------------------------------------------------------------------------------------------
  // Cache of recently committed records

  private cacheAdd(e: Cached): void {
    if (this.cacheSuspended) {
      if (this.cacheStart < this.cache.length) return;
      this.cacheSuspended = false;
    }
    const bytes = e.end - e.off;
    if (!e.body) this.cacheObjects++;
    if (this.cacheBytes + bytes > (this.cacheObjects > 0 ? CACHE_BYTES : CACHE_BYTES_ENCODED)) {
      if (!e.body) this.cacheObjects--;
      this.cacheSuspended = true;
      return;
    }
    this.cache.push(e);
    this.cacheBytes += bytes;
  }

  /** Forgets cached records the head has passed (acked or dropped). */
  private trimCache(): void {
    while (this.cacheStart < this.cache.length) {
      const e = this.cache[this.cacheStart];
      if (this.cmp({ seq: e.seq, off: e.end }, this.head) > 0) break;
      this.cacheBytes -= e.end - e.off;
      if (!e.body) this.cacheObjects--;
      this.cacheStart++;
    }
    if (this.cacheStart === this.cache.length) {
      this.cache = [];
      this.cacheStart = 0;
      this.cacheBytes = 0;
      this.cacheObjects = 0;
    } else if (this.cacheStart > 1024 && this.cacheStart * 2 > this.cache.length) {
      this.cache = this.cache.slice(this.cacheStart);
      this.cacheStart = 0;
    }
  }

  /** peek() from memory when the cache starts right at the head; null to read from disk. */
  private peekCached(maxPoints: number): OutboxBatch | null {
    if (this.cacheStart >= this.cache.length) return null;
    const first = this.cache[this.cacheStart];
    if (this.cmp({ seq: first.seq, off: first.off }, this.head) !== 0) return null;
    let points = 0;
    let bytes = 0;
    let records = 0;
    let last = first;
    let encoded = true;
    for (let i = this.cacheStart; i < this.cache.length; i++) {
      const e = this.cache[i];
      if (records > 0 && points + e.points > maxPoints) break;
      if (!e.body) encoded = false;
      points += e.points;
      bytes += e.end - e.off;
      records++;
      last = e;
    }
    const id = [this.head.seq, this.head.off, last.seq, last.end, points, bytes, records].join('.');
    const end = this.cacheStart + records;
    if (encoded) return encodedBatch(id, this.cache.slice(this.cacheStart, end).map((e) => e.body as Buffer), points, records);
    const metrics: KairosPushMetric[] = [];
    for (let i = this.cacheStart; i < end; i++) {
      const e = this.cache[i];
      if (e.metrics) for (const m of e.metrics) metrics.push(m);
      else if (e.body) for (const m of parseBody(e.body)) metrics.push(m);
    }
    return { id, metrics, points, records };
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

/** A batch of encoded records: sent as its bodies; its metrics are parsed only if someone asks (moveOutbox, a refusal). */
function encodedBatch(id: string, bodies: Buffer[], points: number, records: number): OutboxBatch {
  let metrics: KairosPushMetric[] | undefined;
  return {
    id,
    points,
    records,
    bodies,
    get metrics(): KairosPushMetric[] {
      if (!metrics) {
        metrics = [];
        for (const b of bodies) for (const m of parseBody(b)) metrics.push(m);
      }
      return metrics;
    },
  };
}

/** The metrics of an encoded body (a push array the encoder wrote); an unreadable one yields none. */
function parseBody(body: Buffer): KairosPushMetric[] {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    return Array.isArray(parsed) ? (parsed as KairosPushMetric[]) : [];
  } catch {
    return [];
  }
}

function validateOptions(opts: OutboxOptions): void {
  if (!opts || typeof opts.dir !== 'string' || opts.dir === '') throw new ValidationError('dir', opts?.dir, 'must be a non-empty directory path');
  if (opts.maxBytes !== undefined) positiveInt(opts.maxBytes, 'maxBytes');
  if (opts.segmentBytes !== undefined) positiveInt(opts.segmentBytes, 'segmentBytes');
  if (opts.overflow !== undefined && opts.overflow !== 'drop-oldest' && opts.overflow !== 'drop-newest') {
    throw new ValidationError('overflow', opts.overflow, "must be 'drop-oldest' or 'drop-newest'");
  }
}

/**
 * A group commit's records as the buffers to write, in order. Records are framed together into one
 * buffer, except that a large encoded body is written from its own Buffer behind its header: copying
 * a million points' bodies into commit buffers cost as much as checksumming them.
 */
function frameGroup(group: readonly Pending[]): Buffer[] {
  let framed = 0;
  for (const p of group) framed += p.body && p.body.length >= OWN_BUFFER_BYTES ? HEADER_BYTES : p.bytes;
  const buf = Buffer.allocUnsafe(framed);
  const parts: Buffer[] = [];
  let pos = 0;
  let from = 0;
  for (const p of group) {
    if (!p.body) {
      pos = writeRecordInto(buf, pos, p.json, p.payloadBytes, p.points);
    } else if (p.body.length < OWN_BUFFER_BYTES) {
      pos = writeEncodedRecordInto(buf, pos, p.body, p.points);
    } else {
      pos = writeEncodedHeaderInto(buf, pos, p.body, p.points);
      parts.push(buf.subarray(from, pos), p.body);
      from = pos;
    }
  }
  if (pos > from) parts.push(buf.subarray(from, pos));
  return parts;
}

/** Writes the buffers one after another from `position`, however the system splits the writes. */
async function writeAll(fh: FileHandle, parts: Buffer[], position: number): Promise<void> {
  let i = 0;
  while (i < parts.length) {
    const batch = i === 0 && parts.length <= MAX_IOVECS ? parts : parts.slice(i, i + MAX_IOVECS);
    let { bytesWritten } = await fh.writev(batch, position);
    position += bytesWritten;
    // Skip what was written; a part written in part is continued from where it stopped.
    while (i < parts.length && bytesWritten >= parts[i].length) bytesWritten -= parts[i++].length;
    if (bytesWritten > 0) parts[i] = parts[i].subarray(bytesWritten);
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
