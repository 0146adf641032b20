/** The contract between the write queue and whatever holds its backlog (disk outbox or memory). */
import type { KairosPushMetric } from '../types';

export interface OutboxBatch {
  /** Opaque; hand it back to ack() once the batch is delivered or definitively rejected. */
  id: string;
  /**
   * The stored batches concatenated in arrival order (not yet coalesced). For a batch with `bodies`
   * they are parsed from them on first access only.
   */
  readonly metrics: KairosPushMetric[];
  /** Set when every record of the batch is an encoded push body (appendEncoded): one per record, in order. */
  bodies?: Buffer[];
  points: number;
  /** How many appended batches this covers. */
  records: number;
}

export interface OutboxStats {
  /** Points waiting (appended, not acked, not dropped). */
  points: number;
  /** Bytes they take on disk (memory store: serialised size estimate). */
  bytes: number;
  /** Appended batches waiting. */
  batches: number;
  /** Points discarded by the overflow policy since open. */
  dropped: number;
  /** Batches appended since open, counting the backlog found at open; with removedBatches lets callers wait for "everything so far". */
  appendedBatches: number;
  /** Batches acked or dropped since open. */
  removedBatches: number;
}

export interface DropInfo {
  points: number;
  batches: number;
  reason: string;
}

export type OverflowPolicy = 'drop-oldest' | 'drop-newest';

export interface BatchStore {
  /** `checked`: the caller already ran assertPushMetrics on this batch (the write queue does). */
  append(metrics: KairosPushMetric[], checked?: boolean): Promise<void>;
  /**
   * Stores a push body as the connector's encoder made it (a JSON array of metrics, checked and typed),
   * to be sent as it is. Optional: a store without it gets the metrics through append().
   */
  appendEncoded?(body: Buffer, points: number): Promise<void>;
  peek(maxPoints: number): Promise<OutboxBatch | null>;
  ack(id: string): Promise<void>;
  stats(): OutboxStats;
  /** False for the memory store: its backlog dies with the process. */
  readonly durable: boolean;
}
