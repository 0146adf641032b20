/**
 * Outage episodes: one warning per distinct cause while a link is in trouble, and one summary when it
 * is over. A flapping link (every second request fails) is one episode, not one per success: the
 * episode ends only after failures have stayed away for `quietMs` following a success.
 *
 * Used by the write path (delivery failures) and the stream node (poll failures); no Node-RED imports.
 */

export interface EpisodeSummary {
  /** Failures counted during the episode. */
  failures: number;
  /** The distinct causes, in the order they first appeared. */
  causes: string[];
  /** From the first failure to the success that began the quiet period. */
  durationMs: number;
}

export interface EpisodeOptions {
  /** How long a success must go without a new failure before the episode ends. Default 30000 ms. */
  quietMs?: number;
  /** Clock, for tests. Timers are the global ones, so fake timers drive them too. */
  now?: () => number;
  /** The episode is over: say so once (see formatRecovery). */
  onRecovered?: (summary: EpisodeSummary) => void;
}

export const DEFAULT_EPISODE_QUIET_MS = 30_000;

export class Episodes {
  private readonly quietMs: number;
  private readonly now: () => number;
  private readonly onRecovered?: (summary: EpisodeSummary) => void;
  private readonly causes = new Set<string>();
  private failures = 0;
  private startedAt = 0;
  private recoveredAt = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(opts: EpisodeOptions = {}) {
    const q = opts.quietMs ?? DEFAULT_EPISODE_QUIET_MS;
    if (typeof q !== 'number' || !Number.isFinite(q) || q < 0) throw new RangeError(`quietMs must be a number >= 0 (got ${String(q)})`);
    this.quietMs = q;
    this.now = opts.now ?? Date.now;
    this.onRecovered = opts.onRecovered;
  }

  /** True while failures are being counted (from the first failure until the episode ends). */
  get active(): boolean {
    return this.failures > 0;
  }

  /**
   * Counts a failure. Returns true when `cause` is new in this episode: the caller warns then, and
   * stays quiet for repeats of the same cause until the episode has ended.
   */
  failure(cause: string): boolean {
    this.cancelTimer();
    if (this.failures === 0) this.startedAt = this.now();
    this.failures++;
    if (this.causes.has(cause)) return false;
    this.causes.add(cause);
    return true;
  }

  /** A success: the episode ends once no failure follows within quietMs. No-op outside an episode. */
  success(): void {
    if (this.failures === 0 || this.timer) return;
    this.recoveredAt = this.now();
    if (this.quietMs === 0) {
      this.end();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = null;
      this.end();
    }, this.quietMs);
    this.timer.unref?.();
  }

  /** Stops the quiet timer without a summary (node closing). */
  close(): void {
    this.cancelTimer();
  }

  private end(): void {
    const summary: EpisodeSummary = { failures: this.failures, causes: [...this.causes], durationMs: Math.max(0, this.recoveredAt - this.startedAt) };
    this.failures = 0;
    this.causes.clear();
    this.onRecovered?.(summary);
  }

  private cancelTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** "recovered after 16 failures in 31 s" (the causes were warned about when they first appeared). */
export function formatRecovery(s: EpisodeSummary): string {
  const secs = s.durationMs < 10_000 ? Math.round(s.durationMs / 100) / 10 : Math.round(s.durationMs / 1000);
  return `recovered after ${s.failures} failure${s.failures === 1 ? '' : 's'} in ${secs} s`;
}
