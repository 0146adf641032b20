/**
 * A stream's position on disk, durable across crashes and power loss.
 *
 * Each poll: `beginSend(end)` writes a small in-flight marker (fsync'd) before the poll's messages go
 * out; then either `commit(state)` replaces the state file (temp file, fsync, rename, fsync of the
 * directory) and empties the journal, or `append(record)` adds one line to the journal (fsync'd), which
 * costs what changed rather than the whole state; both remove the marker. After a crash the state is
 * the last snapshot plus the journal's complete lines, so at most the in-flight poll's points are
 * emitted again, and the marker says up to which timestamp they may be repeats.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { ParseError } from '../errors';
import { syncDir } from '../outbox/outbox';

export interface LoadedState<T, J = unknown> {
  /** The last committed state, when there is one. */
  state?: T;
  /** Journal records appended after it, in order (a torn last line is left out). */
  journal: J[];
  /** Set when the process stopped while a poll's messages were being sent: points up to this timestamp may be sent again. */
  inFlightEnd?: number;
}

export class StateFile<T, J = unknown> {
  private readonly file: string;
  private readonly marker: string;
  private readonly journalFile: string;
  private lastText: string | undefined;
  private journalSize = 0;
  /** Writes run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, name: string) {
    this.file = join(dir, `${name}.json`);
    this.marker = join(dir, `${name}.inflight`);
    this.journalFile = join(dir, `${name}.journal`);
  }

  /** Bytes in the journal since the last snapshot. */
  get journalBytes(): number {
    return this.journalSize;
  }

  /** Bytes of the last snapshot written or read. */
  get snapshotBytes(): number {
    return this.lastText?.length ?? 0;
  }

  get path(): string {
    return this.file;
  }

  async load(): Promise<LoadedState<T, J>> {
    const out: LoadedState<T, J> = { journal: [] };
    const text = await readIfExists(this.file);
    if (text !== undefined) {
      try {
        out.state = JSON.parse(text) as T;
      } catch (e) {
        throw new ParseError(`stream state file ${this.file} is damaged: ${(e as Error).message}`);
      }
      this.lastText = text;
    }
    const journal = await readIfExists(this.journalFile);
    if (journal !== undefined && out.state !== undefined) {
      this.journalSize = Buffer.byteLength(journal);
      for (const line of journal.split('\n')) {
        if (line === '') continue;
        try {
          out.journal.push(JSON.parse(line) as J);
        } catch {
          // A line torn by a crash ends the journal: that poll was in flight (its marker is still there).
          break;
        }
      }
    }
    const marker = await readIfExists(this.marker);
    if (marker !== undefined) {
      let end = NaN;
      try {
        end = Number((JSON.parse(marker) as { end?: unknown }).end);
      } catch {
        // torn by the crash: handled below
      }
      // A marker torn by the crash still means "a poll was in flight": assume everything up to now.
      out.inFlightEnd = Number.isFinite(end) ? end : Date.now();
    }
    return out;
  }

  /** Before a poll's messages are sent: records that points up to `end` are on their way. */
  beginSend(end: number): Promise<void> {
    return this.serial(() => writeDurably(this.marker, JSON.stringify({ end })));
  }

  /** After the messages were sent: the new state, durably; unchanged states are not written again. */
  commit(state: T): Promise<void> {
    const text = JSON.stringify(state);
    return this.serial(async () => {
      if (text !== this.lastText || this.journalSize > 0) {
        await writeDurably(this.file, text);
        this.lastText = text;
        // The snapshot holds everything the journal said.
        await fs.rm(this.journalFile, { force: true });
        this.journalSize = 0;
      }
      await fs.rm(this.marker, { force: true });
    });
  }

  /** After the messages were sent: one journal record (the change since the last commit or append), durably. */
  append(record: J): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    return this.serial(async () => {
      const fh = await fs.open(this.journalFile, 'a');
      try {
        await fh.writeFile(line, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      if (this.journalSize === 0) await syncDir(dirname(this.journalFile));
      this.journalSize += Buffer.byteLength(line);
      await fs.rm(this.marker, { force: true });
    });
  }

  /** Forgets the state (new metrics describe other series). */
  clear(): Promise<void> {
    return this.serial(async () => {
      await fs.rm(this.file, { force: true });
      await fs.rm(this.journalFile, { force: true });
      await fs.rm(this.marker, { force: true });
      this.lastText = undefined;
      this.journalSize = 0;
    });
  }

  private serial(job: () => Promise<void>): Promise<void> {
    const run = this.queue.then(job);
    this.queue = run.catch(() => undefined);
    return run;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Temp file, fsync, rename over the target, fsync the directory: the target is the old or the new text, never a torn one. */
async function writeDurably(path: string, text: string): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const tmp = `${path}.tmp`;
  const fh = await fs.open(tmp, 'w');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, path);
  await syncDir(dir);
}
