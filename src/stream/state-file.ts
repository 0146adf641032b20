/**
 * A stream's position on disk, durable across crashes and power loss.
 *
 * Each poll: `beginSend(end)` writes a small in-flight marker (fsync'd) before the poll's messages go
 * out, `commit(state)` then replaces the state file (temp file, fsync, rename, fsync of the directory)
 * and removes the marker. After a crash the state is the last committed one, so at most the in-flight
 * poll's points are emitted again, and the marker says up to which timestamp they may be repeats.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { ParseError } from '../errors';
import { syncDir } from '../outbox/outbox';

export interface LoadedState<T> {
  /** The last committed state, when there is one. */
  state?: T;
  /** Set when the process stopped while a poll's messages were being sent: points up to this timestamp may be sent again. */
  inFlightEnd?: number;
}

export class StateFile<T> {
  private readonly file: string;
  private readonly marker: string;
  private lastText: string | undefined;
  /** Writes run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string, name: string) {
    this.file = join(dir, `${name}.json`);
    this.marker = join(dir, `${name}.inflight`);
  }

  get path(): string {
    return this.file;
  }

  async load(): Promise<LoadedState<T>> {
    const out: LoadedState<T> = {};
    const text = await readIfExists(this.file);
    if (text !== undefined) {
      try {
        out.state = JSON.parse(text) as T;
      } catch (e) {
        throw new ParseError(`stream state file ${this.file} is damaged: ${(e as Error).message}`);
      }
      this.lastText = text;
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
      if (text !== this.lastText) {
        await writeDurably(this.file, text);
        this.lastText = text;
      }
      await fs.rm(this.marker, { force: true });
    });
  }

  /** Forgets the state (new metrics describe other series). */
  clear(): Promise<void> {
    return this.serial(async () => {
      await fs.rm(this.file, { force: true });
      await fs.rm(this.marker, { force: true });
      this.lastText = undefined;
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
