/**
 * Durability for the local server's data directory: every accepted change is appended to a
 * write-ahead log (one JSON line per request) and fdatasync'ed before the request is answered;
 * concurrent requests share one sync (group commit). The log is folded into a snapshot on close and
 * whenever it outgrows a threshold. On start the snapshot is loaded and the log replayed; a torn
 * last record (a crash mid-write) is dropped and cut off the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { StoredType } from './point-types';
import type { Store, SeriesWrite, TagMap } from './store';
import type { MetadataStore } from './metadata';

export type LogRecord =
  /** Points: [metric, tags, type, timestamps, values]. */
  | { p: Array<[string, TagMap, StoredType, number[], Array<number | string>]> }
  /** Deleted ranges: [metric, tags, type, start, end]. */
  | { dr: Array<[string, TagMap, StoredType, number, number]> }
  /** A deleted metric. */
  | { dm: string }
  /** Metadata: [service, serviceKey, key, value]; a null value deletes. */
  | { md: [string, string, string, string | null] };

export function pointsRecord(writes: SeriesWrite[]): LogRecord {
  return { p: writes.map((w) => [w.metric, w.tags, w.type, w.ts, w.vs]) };
}

const SNAPSHOT = 'snapshot.jsonl';
const LOG = 'wal.jsonl';

export class DataDir {
  private fd: number | null = null;
  private logBytes = 0;
  private pending: string[] = [];
  private waiters: Array<{ resolve: () => void; reject: (e: Error) => void }> = [];
  private flushing = false;
  private closed = false;

  constructor(
    readonly dir: string,
    private readonly store: Store,
    private readonly metadata: MetadataStore,
    private readonly compactBytes = 64 * 1024 * 1024,
  ) {}

  /** Loads the snapshot and replays the log; returns how many log records were replayed. */
  open(): number {
    fs.mkdirSync(this.dir, { recursive: true });
    const snap = path.join(this.dir, SNAPSHOT);
    if (fs.existsSync(snap)) {
      for (const line of fs.readFileSync(snap, 'utf8').split('\n')) {
        if (line) this.apply(JSON.parse(line) as LogRecord);
      }
    }
    const logPath = path.join(this.dir, LOG);
    let replayed = 0;
    if (fs.existsSync(logPath)) {
      const buf = fs.readFileSync(logPath);
      let offset = 0;
      let good = 0;
      while (offset < buf.length) {
        const nl = buf.indexOf(0x0a, offset);
        if (nl < 0) break; // torn: the record never got its newline
        let rec: LogRecord;
        try {
          rec = JSON.parse(buf.toString('utf8', offset, nl)) as LogRecord;
        } catch {
          break; // torn or corrupt: nothing after it can be trusted
        }
        this.apply(rec);
        replayed++;
        offset = nl + 1;
        good = offset;
      }
      if (good < buf.length) fs.truncateSync(logPath, good);
      this.logBytes = good;
    }
    this.fd = fs.openSync(logPath, 'a');
    return replayed;
  }

  private apply(rec: LogRecord): void {
    if ('p' in rec) {
      for (const [metric, tags, type, ts, vs] of rec.p) this.store.write({ metric, tags, type, ts, vs });
    } else if ('dr' in rec) {
      for (const [metric, tags, type, start, end] of rec.dr) this.store.deleteRange(this.store.series(metric, tags, type), start, end);
    } else if ('dm' in rec) {
      this.store.deleteMetric(rec.dm);
    } else if ('md' in rec) {
      const [service, serviceKey, key, value] = rec.md;
      if (value === null) this.metadata.delete(service, serviceKey, key);
      else this.metadata.set(service, serviceKey, key, value);
    }
  }

  /** Resolves once the record is on disk. */
  append(rec: LogRecord): Promise<void> {
    if (this.closed || this.fd === null) return Promise.reject(new Error('data directory is closed'));
    this.pending.push(JSON.stringify(rec) + '\n');
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      if (!this.flushing) {
        this.flushing = true;
        setImmediate(() => this.flush());
      }
    });
  }

  private flush(): void {
    const fd = this.fd;
    const data = this.pending.join('');
    const waiters = this.waiters;
    this.pending = [];
    this.waiters = [];
    const done = (err: Error | null): void => {
      for (const w of waiters) {
        if (err) w.reject(err);
        else w.resolve();
      }
      if (!err && this.logBytes > this.compactBytes) {
        try {
          this.compact();
        } catch {
          // the log stays valid; compaction is retried after the next write
        }
      }
      if (this.pending.length > 0) setImmediate(() => this.flush());
      else this.flushing = false;
    };
    if (fd === null) return done(new Error('data directory is closed'));
    try {
      this.logBytes += fs.writeSync(fd, data);
    } catch (e) {
      return done(e as Error);
    }
    fs.fdatasync(fd, (err) => done(err));
  }

  /** Writes a snapshot of everything and empties the log. */
  compact(): void {
    const tmp = path.join(this.dir, SNAPSHOT + '.tmp');
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const s of this.store.allSeries()) {
        this.store.normalize(s);
        const rec: LogRecord = { p: [[s.metric, s.tags, s.type, s.ts, this.store.loggedValues(s)]] };
        fs.writeSync(fd, JSON.stringify(rec) + '\n');
      }
      for (const [service, serviceKey, key, value] of this.metadata.entries()) {
        fs.writeSync(fd, JSON.stringify({ md: [service, serviceKey, key, value] }) + '\n');
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, path.join(this.dir, SNAPSHOT));
    if (this.fd !== null) fs.ftruncateSync(this.fd, 0);
    this.logBytes = 0;
  }

  /** Waits for pending writes, compacts and closes the log. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setTimeout(r, 2));
    this.closed = true;
    this.compact();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
