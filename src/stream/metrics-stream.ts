/** MetricsStream / MetricsStreamIO: the seed's stream classes, built from IncrementalPoller and PollLoop. */
import { ValidationError } from '../errors';
import type { Series, TagFilter } from '../types';
import { PollLoop } from './loop';
import { IncrementalPoller, type PollResult, type StreamMode, type StreamPosition, type TimeRange } from './poller';

/** Options both seed stream classes share. */
export interface MetricsStreamBaseOptions {
  metrics: string | string[];
  /** Poll interval in ms (the seed's interval); changeInterval() changes it while running. */
  intervalMs: number;
  /** Buffer window in ms: the oldest data a poll asks for. */
  windowMs: number;
  /** 'incremental' (default) emits each point once; 'window' re-sends the whole window, as the seed did. */
  mode?: StreamMode;
  overlapMs?: number;
  /** A position saved from an earlier run (stream.position), to resume without repeats. */
  position?: StreamPosition;
  /** Called once per poll with the new points; incremental polls without new points are skipped. */
  onData: (result: PollResult) => void | Promise<void>;
  /** Called with each failed poll; the stream backs off and keeps going. Default: kept in lastError only. */
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** The connector side MetricsStream needs (a KairosConnector, or a TSD/EWIMA preset). */
export interface SeriesQuerySource {
  querySeries(opts: { metrics: string[]; startAbsolute: number; endAbsolute: number; tags?: TagFilter }, signal?: AbortSignal): Promise<Series[]>;
}

/** The client side MetricsStreamIO needs (a ProficloudIOMetrics). */
export interface IOSeriesSource {
  querySeries(q: { endpointIds: string[]; metrics: string[]; from: number; to: number }): Promise<Series[]>;
}

export interface MetricsStreamOptions extends MetricsStreamBaseOptions {
  connector: SeriesQuerySource;
  tags?: TagFilter;
}

export interface MetricsStreamIOOptions extends MetricsStreamBaseOptions {
  client: IOSeriesSource;
  /** Device UUIDs (proficloud.io endpoint ids). */
  endpointIds: string | string[];
}

function nameList(value: unknown, field: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) throw new ValidationError(field, value, 'must be a non-empty string or array of strings');
  list.forEach((v, i) => {
    if (typeof v !== 'string' || v.trim() === '') throw new ValidationError(`${field}[${i}]`, v, 'must be a non-empty string');
  });
  return [...(list as string[])];
}

abstract class PollingStream {
  protected metrics: string[];
  private poller: IncrementalPoller;
  private readonly loop: PollLoop;
  private readonly base: MetricsStreamBaseOptions;
  /** The most recent poll failure, cleared by the next success. */
  lastError: unknown;

  constructor(opts: MetricsStreamBaseOptions) {
    if (opts === null || typeof opts !== 'object') throw new ValidationError('options', opts, 'must be an object');
    if (typeof opts.onData !== 'function') throw new ValidationError('onData', opts.onData, 'must be a function');
    if (opts.onError !== undefined && typeof opts.onError !== 'function') throw new ValidationError('onError', opts.onError, 'must be a function');
    this.base = opts;
    this.metrics = nameList(opts.metrics, 'metrics');
    this.poller = this.makePoller(opts.position);
    const onError = opts.onError;
    this.loop = new PollLoop({
      intervalMs: opts.intervalMs,
      run: (signal) => this.runOnce(signal),
      onError: (err) => {
        this.lastError = err;
        onError?.(err);
      },
    });
  }

  protected abstract fetch(range: TimeRange, signal?: AbortSignal): Promise<Series[]>;

  private makePoller(position?: StreamPosition): IncrementalPoller {
    const o = this.base;
    return new IncrementalPoller({
      fetch: (range, signal) => this.fetch(range, signal),
      windowMs: o.windowMs,
      ...(o.overlapMs !== undefined ? { overlapMs: o.overlapMs } : {}),
      ...(o.mode !== undefined ? { mode: o.mode } : {}),
      ...(position !== undefined ? { position } : {}),
      ...(o.now !== undefined ? { now: o.now } : {}),
    });
  }

  /** One poll; true when it stopped at the point budget and the next should follow at once. */
  private async runOnce(signal?: AbortSignal): Promise<boolean> {
    const current = this.poller;
    const result = await current.poll(signal);
    // changeMetrics() during the poll: this result describes the old metrics.
    if (signal?.aborted || current !== this.poller) return false;
    this.lastError = undefined;
    if (result.points === 0 && this.base.mode !== 'window') return result.more;
    await this.base.onData(result);
    return result.more;
  }

  /** Starts polling at once, then every interval. */
  start(): void {
    this.loop.start();
  }

  /** Stops polling and aborts a poll in flight. */
  stop(): Promise<void> {
    return this.loop.stop();
  }

  /** One poll outside the loop (onData is called as usual); errors are thrown, not reported. */
  pollOnce(signal?: AbortSignal): Promise<void> {
    return this.runOnce(signal).then(() => undefined);
  }

  /** The seed's changeInterval. */
  changeInterval(ms: number): void {
    this.loop.changeInterval(ms);
  }

  /** New metrics start from a fresh position: the old one describes other series. */
  changeMetrics(metrics: string | string[]): void {
    this.metrics = nameList(metrics, 'metrics');
    this.poller = this.makePoller();
  }

  get isRunning(): boolean {
    return this.loop.isRunning;
  }

  /** Save this (JSON) and pass it as `position` to resume after a restart. */
  get position(): StreamPosition {
    return this.poller.position;
  }
}

/** The seed's MetricsStream: polls a KairosDB connector for `metrics` over a buffer window. */
export class MetricsStream extends PollingStream {
  private readonly connector: SeriesQuerySource;
  private readonly tags: TagFilter | undefined;

  constructor(opts: MetricsStreamOptions) {
    super(opts);
    if (!opts.connector || typeof opts.connector.querySeries !== 'function') {
      throw new ValidationError('connector', opts.connector, 'must be a KairosConnector (something with querySeries)');
    }
    this.connector = opts.connector;
    this.tags = opts.tags;
  }

  protected fetch(range: TimeRange, signal?: AbortSignal): Promise<Series[]> {
    const q = { metrics: this.metrics, startAbsolute: range.start, endAbsolute: range.end, ...(this.tags ? { tags: this.tags } : {}) };
    return this.connector.querySeries(q, signal);
  }
}

/** The seed's MetricsStreamIO: polls proficloud.io for `metrics` of the devices in `endpointIds`. */
export class MetricsStreamIO extends PollingStream {
  private readonly client: IOSeriesSource;
  private readonly endpointIds: string[];

  constructor(opts: MetricsStreamIOOptions) {
    super(opts);
    if (!opts.client || typeof opts.client.querySeries !== 'function') {
      throw new ValidationError('client', opts.client, 'must be a ProficloudIOMetrics (something with querySeries)');
    }
    this.client = opts.client;
    this.endpointIds = nameList(opts.endpointIds, 'endpointIds');
  }

  protected fetch(range: TimeRange): Promise<Series[]> {
    return this.client.querySeries({ endpointIds: this.endpointIds, metrics: this.metrics, from: range.start, to: range.end });
  }
}
