/** Retry delays for the write queue: exponential growth, capped, with jitter. */

export interface RetryOptions {
  /** First delay. Default 1000 ms. */
  initialMs?: number;
  /** Cap on the computed delay. Default 60000 ms. */
  maxMs?: number;
  /** Growth per failed attempt. Default 2. */
  factor?: number;
}

/** A server's Retry-After is honoured up to this; beyond it a misconfigured proxy could park the queue for days. */
const MAX_RETRY_AFTER_MS = 60 * 60 * 1000;

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly factor: number;
  private readonly random: () => number;

  constructor(opts: RetryOptions = {}, random: () => number = Math.random) {
    this.initialMs = opts.initialMs ?? 1000;
    this.maxMs = opts.maxMs ?? 60_000;
    this.factor = opts.factor ?? 2;
    this.random = random;
  }

  /**
   * Delay before retry number `attempt` (1 = after the first failure). Jitter keeps a fleet of
   * gateways that lost the same link from reconnecting in lockstep; it only shortens (to 50..100 %).
   * A Retry-After from the server is a lower bound.
   */
  delay(attempt: number, retryAfterMs?: number): number {
    const exp = Math.min(this.maxMs, this.initialMs * Math.pow(this.factor, Math.max(0, attempt - 1)));
    const jittered = Math.round(exp * (0.5 + 0.5 * this.random()));
    if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs > 0) {
      return Math.max(jittered, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
    }
    return jittered;
  }

  /** The slow lane (authentication failures): the cap, jittered. */
  slowDelay(): number {
    return Math.round(this.maxMs * (0.5 + 0.5 * this.random()));
  }
}
