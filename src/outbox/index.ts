/** Store-and-forward for the write nodes: durable outbox, in-memory fallback and the coalescing write queue. */
export { Outbox, type OutboxOptions } from './outbox';
export { MemoryStore, type MemoryStoreOptions } from './memory-store';
export { WriteQueue, type WriteQueueOptions, type WriteQueueStatus, type WriteQueueState, type SendFunction } from './write-queue';
export { OutboxError, type OutboxErrorCode } from './errors';
export type { BatchStore, OutboxBatch, OutboxStats, DropInfo, OverflowPolicy } from './store';
export type { RetryOptions } from './backoff';
export { coalesceMetrics, splitByPoints, countBatchPoints } from './points';
