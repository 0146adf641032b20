/** Store-and-forward for the write nodes: durable outbox, in-memory fallback and the coalescing write queue. */
export { Outbox, type OutboxOptions } from './outbox';
export { MemoryStore, type MemoryStoreOptions } from './memory-store';
export { WriteQueue, type WriteQueueOptions, type WriteQueueStatus, type WriteQueueState, type SendFunction, type RetryInfo } from './write-queue';
export { OutboxError, type OutboxErrorCode } from './outbox-errors';
export type { BatchStore, OutboxBatch, OutboxStats, DropInfo, OverflowPolicy } from './batch-store';
export type { RetryOptions } from './backoff';
export { moveOutbox, type MoveOutboxOptions, type MoveOutboxResult } from './move-outbox';
export { coalesceMetrics, splitByPoints, countBatchPoints } from '../kairos/push-batches';
