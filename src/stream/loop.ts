/**
 * PollLoop runs any async job on an interval without ever overlapping two runs, backing off on
 * errors. No Node-RED imports.
 */
import { ValidationError } from '../errors';
import { checkTimerMs } from '../time/timer-limits';
import { nonNegativeInt } from '../util/validate';

type TimerHandle = unknown;

export interface PollLoopOptions {
  intervalMs: number;
  /** One poll. Receives a signal that stop() aborts; resolving to true asks for the next run right away (catch-up). */
  run: (signal: AbortSignal) => Promise<void | boolean>;
  /** Called with every failure of run (not with the abort caused by stop()). */
  onError: (err: unknown) => void;
  /** Upper bound of the error backoff. Default max(60000, intervalMs). */
  maxBackoffMs?: number;
  /** How long stop() waits for an aborted run to settle. Default 5000. */
  stopTimeoutMs?: number;
  setTimer?: (fn: () => void, ms: number) => TimerHandle;
  clearTimer?: (handle: TimerHandle) => void;
}

/**
 * Runs `run` every `intervalMs`, measured from when the previous run settled, so runs never overlap.
 * After a failure the wait doubles (up to maxBackoffMs) until a run succeeds again.
 */
export class PollLoop {
  private interval: number;
  private readonly maxBackoffMs: number | undefined;
  private readonly stopTimeoutMs: number;
  private readonly runFn: (signal: AbortSignal) => Promise<void | boolean>;
  private readonly onError: (err: unknown) => void;
  private readonly setTimer: (fn: () => void, ms: number) => TimerHandle;
  private readonly clearTimer: (handle: TimerHandle) => void;
  private running = false;
  private failures = 0;
  private timer: TimerHandle | undefined;
  private controller: AbortController | undefined;
  private inFlight: Promise<void> | undefined;
  /** Bumped by start/stop so a run belonging to an earlier start does not schedule the next one. */
  private generation = 0;

  constructor(opts: PollLoopOptions) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    this.interval = checkTimerMs(opts.intervalMs, 'intervalMs');
    if (typeof opts.run !== 'function') throw new ValidationError('run', opts.run, 'must be a function');
    if (typeof opts.onError !== 'function') throw new ValidationError('onError', opts.onError, 'must be a function');
    this.maxBackoffMs = opts.maxBackoffMs === undefined ? undefined : checkTimerMs(opts.maxBackoffMs, 'maxBackoffMs');
    this.stopTimeoutMs = opts.stopTimeoutMs === undefined ? 5000 : nonNegativeInt(opts.stopTimeoutMs, 'stopTimeoutMs');
    this.runFn = opts.run;
    this.onError = opts.onError;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    // The default timer handle is a Timeout; the injected pair owns its own handle type.
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
  }

  get isRunning(): boolean {
    return this.running;
  }

  get intervalMs(): number {
    return this.interval;
  }

  /** Failures since the last success (0 when healthy). */
  get consecutiveFailures(): number {
    return this.failures;
  }

  /** The wait after the current run: the interval, doubled per consecutive failure, capped. */
  get currentDelayMs(): number {
    if (this.failures === 0) return this.interval;
    const cap = Math.max(this.maxBackoffMs ?? 60000, this.interval);
    return Math.min(cap, this.interval * 2 ** Math.min(this.failures, 30));
  }

  /** Starts polling; the first run happens right away (after any run still settling from before). No-op when running. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.failures = 0;
    const gen = ++this.generation;
    const previous = this.inFlight;
    if (previous) {
      void previous.then(() => {
        if (gen === this.generation) this.schedule(0);
      });
    } else {
      this.schedule(0);
    }
  }

  /** Stops polling: cancels the wait, aborts the run in flight and waits (bounded) for it to settle. */
  async stop(): Promise<void> {
    this.running = false;
    this.generation++;
    if (this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
    }
    this.controller?.abort();
    const pending = this.inFlight;
    if (!pending) return;
    let guard: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((resolve) => {
      guard = setTimeout(resolve, this.stopTimeoutMs);
    });
    try {
      await Promise.race([pending, timeout]);
    } finally {
      clearTimeout(guard);
    }
  }

  /** Changes the interval; a pending wait is restarted with the new delay. */
  changeInterval(ms: number): void {
    this.interval = checkTimerMs(ms, 'intervalMs');
    if (this.running && this.timer !== undefined) {
      this.clearTimer(this.timer);
      this.timer = undefined;
      this.schedule(this.currentDelayMs);
    }
  }

  private schedule(ms: number): void {
    const gen = this.generation;
    this.timer = this.setTimer(() => {
      this.timer = undefined;
      if (gen === this.generation && this.running) this.tick(gen);
    }, ms);
  }

  private tick(gen: number): void {
    const controller = new AbortController();
    this.controller = controller;
    let again = false;
    const settled = Promise.resolve()
      .then(() => this.runFn(controller.signal))
      .then(
        (more) => {
          again = more === true;
          if (gen === this.generation) this.failures = 0;
        },
        (err: unknown) => {
          // An abort caused by stop() is not a failure worth reporting.
          if (gen !== this.generation || controller.signal.aborted) return;
          this.failures++;
          try {
            this.onError(err);
          } catch {
            // onError is the caller's; its own failure must not stop the loop or escape as a rejection.
          }
        },
      )
      .finally(() => {
        if (this.controller === controller) this.controller = undefined;
        if (this.inFlight === settled) this.inFlight = undefined;
        if (gen === this.generation && this.running) this.schedule(again ? 0 : this.currentDelayMs);
      });
    this.inFlight = settled;
  }
}

