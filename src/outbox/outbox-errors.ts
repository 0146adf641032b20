/**
 * Errors of the outbox. They are not KairosErrors: they describe local storage, never a server answer,
 * and their codes are outside the shared ErrorCode set so Catch nodes can tell them apart.
 */

export type OutboxErrorCode =
  | 'EOUTBOXFULL' // drop-newest policy refused an append, or one batch is larger than maxBytes
  | 'EOUTBOXLOCKED' // another live process (or Outbox instance) holds the directory
  | 'EOUTBOXCLOSED'; // the outbox or queue was used after close()

export class OutboxError extends Error {
  readonly code: OutboxErrorCode;
  /** Storage errors never get better by resending the same request. */
  readonly retryable = false;

  constructor(code: OutboxErrorCode, message: string) {
    super(message);
    this.name = 'OutboxError';
    this.code = code;
  }
}
