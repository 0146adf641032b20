/**
 * Asynchronous, non-atomic ingest as real KairosDB does it: a push is answered at once, but its points
 * become queryable later, metric by metric and part by part, each part after its own delay. With a
 * seed the delays repeat from run to run (for tests).
 */
import { ValidationError } from '../errors';
import { seededRandom } from './random';
import type { SeriesWrite } from './store';
import { positiveInt } from '../util/validate';

export interface IngestDelayOptions {
  /** Shortest delay before a part becomes visible, ms. */
  minMs: number;
  /** Longest delay, ms. */
  maxMs: number;
  /** Seed of the delays; without it Math.random is used. */
  seed?: number;
  /** Points per part of one series' share of a push. Default 100. */
  partPoints?: number;
}

export function checkIngestDelay(o: IngestDelayOptions): void {
  if (o === null || typeof o !== 'object') throw new ValidationError('ingestDelay', o, 'must be {minMs, maxMs}');
  for (const k of ['minMs', 'maxMs'] as const) {
    if (typeof o[k] !== 'number' || !Number.isFinite(o[k]) || o[k] < 0) throw new ValidationError(`ingestDelay.${k}`, o[k], 'must be a number of milliseconds, 0 or more');
  }
  if (o.maxMs < o.minMs) throw new ValidationError('ingestDelay.maxMs', o.maxMs, `must not be below minMs (${o.minMs})`);
  if (o.partPoints !== undefined) positiveInt(o.partPoints, 'ingestDelay.partPoints');
}

/** "MIN..MAX" (ms) or a single "N" from the command line. */
export function parseIngestDelay(text: string): { minMs: number; maxMs: number } {
  const m = /^\s*(\d+)\s*(?:\.\.\s*(\d+)\s*)?$/.exec(text);
  if (!m) throw new ValidationError('--ingest-delay', text, 'must be MIN..MAX or N (milliseconds)');
  const minMs = Number(m[1]);
  const maxMs = m[2] === undefined ? minMs : Number(m[2]);
  if (maxMs < minMs) throw new ValidationError('--ingest-delay', text, 'MAX must not be below MIN');
  return { minMs, maxMs };
}

/** Holds pushed writes until their delay has passed, then hands them to `apply` (the store). */
export class DelayedIngest {
  private readonly random: () => number;
  private readonly partPoints: number;
  private readonly pending = new Set<{ timer: NodeJS.Timeout; write: SeriesWrite }>();

  constructor(
    private readonly opts: IngestDelayOptions,
    private readonly apply: (w: SeriesWrite) => void,
  ) {
    checkIngestDelay(opts);
    this.random = opts.seed === undefined ? Math.random : seededRandom(opts.seed);
    this.partPoints = opts.partPoints ?? 100;
  }

  /** Schedules every part of every series' share of a push. */
  add(writes: SeriesWrite[]): void {
    for (const w of writes) {
      for (let i = 0; i < w.ts.length; i += this.partPoints) {
        const part: SeriesWrite = { ...w, ts: w.ts.slice(i, i + this.partPoints), vs: w.vs.slice(i, i + this.partPoints) };
        const delay = this.opts.minMs + Math.floor(this.random() * (this.opts.maxMs - this.opts.minMs + 1));
        const entry = {
          write: part,
          timer: setTimeout(() => {
            this.pending.delete(entry);
            this.apply(part);
          }, delay),
        };
        this.pending.add(entry);
      }
    }
  }

  /** Parts not visible yet. */
  get pendingParts(): number {
    return this.pending.size;
  }

  /** Makes everything visible now (closing). */
  flush(): void {
    for (const e of this.pending) {
      clearTimeout(e.timer);
      this.apply(e.write);
    }
    this.pending.clear();
  }
}
