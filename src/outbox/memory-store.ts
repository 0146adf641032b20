/**
 * In-memory backlog for a WriteQueue without an Outbox. NOT crash-safe: whatever it holds is lost when
 * the process stops, restarts or is redeployed. Bounded by points, with the same overflow policies as
 * the disk outbox so memory cannot grow without limit during a long outage.
 */
import { ValidationError } from '../errors';
import type { KairosPushMetric, Logger } from '../types';
import { OutboxError } from './outbox-errors';
import { countBatchPoints } from '../kairos/push-batches';
import { positiveIntOrDefault } from '../util/validate';
import type { BatchStore, DropInfo, OutboxBatch, OutboxStats, OverflowPolicy } from './batch-store';

export interface MemoryStoreOptions {
  /** Default 100,000 points. */
  maxPoints?: number;
  overflow?: OverflowPolicy;
  onDrop?: (info: DropInfo) => void;
  logger?: Logger;
}

interface Entry {
  seq: number;
  metrics: KairosPushMetric[];
  points: number;
  bytes: number;
}

export class MemoryStore implements BatchStore {
  readonly durable = false;
  private readonly maxPoints: number;
  private readonly overflow: OverflowPolicy;
  private readonly onDrop?: (info: DropInfo) => void;
  private readonly logger?: Logger;
  private entries: Entry[] = [];
  private head = 0;
  private nextSeq = 1;
  private points = 0;
  private bytes = 0;
  private dropped = 0;
  private appended = 0;
  private removed = 0;

  constructor(opts: MemoryStoreOptions = {}) {
    this.maxPoints = positiveIntOrDefault(opts.maxPoints, 'maxPoints', 100_000);
    this.overflow = opts.overflow ?? 'drop-oldest';
    this.onDrop = opts.onDrop;
    this.logger = opts.logger;
  }

  async append(metrics: KairosPushMetric[]): Promise<void> {
    const points = countBatchPoints(metrics);
    if (points > this.maxPoints) {
      throw new OutboxError('EOUTBOXFULL', `memory queue: a batch of ${points} points exceeds maxPoints ${this.maxPoints}`);
    }
    if (this.points + points > this.maxPoints) {
      if (this.overflow === 'drop-newest') {
        throw new OutboxError('EOUTBOXFULL', `memory queue full (${this.points} of ${this.maxPoints} points waiting); batch of ${points} points refused`);
      }
      this.dropOldest(this.points + points - this.maxPoints);
    }
    // Rough size only (for stats); measuring exactly would mean serialising every batch twice.
    const bytes = 64 + points * 24;
    this.entries.push({ seq: this.nextSeq++, metrics, points, bytes });
    this.points += points;
    this.bytes += bytes;
    this.appended++;
  }

  async peek(maxPoints: number): Promise<OutboxBatch | null> {
    if (this.head >= this.entries.length) return null;
    const first = this.entries[this.head];
    const metrics: KairosPushMetric[] = [];
    let points = 0;
    let i = this.head;
    while (i < this.entries.length) {
      const e = this.entries[i];
      if (i > this.head && points + e.points > maxPoints) break;
      for (const m of e.metrics) metrics.push(m);
      points += e.points;
      i++;
    }
    return { id: `${first.seq}-${this.entries[i - 1].seq}`, metrics, points, records: i - this.head };
  }

  async ack(id: string): Promise<void> {
    const m = /^(\d+)-(\d+)$/.exec(id);
    if (!m) throw new ValidationError('id', id, 'is not a batch id from peek() of this memory queue');
    const last = Number(m[2]);
    // Entries already dropped by overflow are simply gone; ack what is still there up to `last`.
    while (this.head < this.entries.length && this.entries[this.head].seq <= last) this.removeHead();
    this.compact();
  }

  stats(): OutboxStats {
    return {
      points: this.points,
      bytes: this.bytes,
      batches: this.entries.length - this.head,
      dropped: this.dropped,
      appendedBatches: this.appended,
      removedBatches: this.removed,
    };
  }

  private removeHead(): Entry {
    const e = this.entries[this.head++];
    this.points -= e.points;
    this.bytes -= e.bytes;
    this.removed++;
    return e;
  }

  private dropOldest(needPoints: number): void {
    let points = 0;
    let batches = 0;
    while (points < needPoints && this.head < this.entries.length) {
      points += this.removeHead().points;
      batches++;
    }
    this.compact();
    this.dropped += points;
    const reason = `memory queue full (maxPoints ${this.maxPoints}): dropped the oldest ${batches} batch(es), ${points} points`;
    this.logger?.warn(reason);
    this.onDrop?.({ points, batches, reason });
  }

  /** Keeps the array from growing forever while still making removal O(1). */
  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
  }
}
