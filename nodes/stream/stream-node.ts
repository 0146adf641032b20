/** The proficloud-stream node's runtime, loaded when the first such node is deployed (see ../proficloud-stream.ts). */
import { Episodes, formatRecovery, type EpisodeSummary } from '../../src/util';
import { ValidationError } from '../../src/errors';
import { checkTimerMs, parseDurationMs } from '../../src/time';
import type { ChartMessage, IncrementalPoller, PollLoop, PollResult, StreamPosition, TimeRange } from '../../src/stream';
import type { Series, TagFilter, TimestampFormat } from '../../src/types';
import { configNodeOf, type ProficloudConfigNode } from '../lib/connection';
import { pointCount, shapeSeries, type OutputMode } from '../lib/output';
import { PAGE_POINT_BUDGET, parseMetricList, parseTagFilter } from '../../src/kairos';
import { asError, syntheticMsg } from '../lib/msg-helpers';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../lib/red';
import { clock, failed, ok, translate } from '../lib/status';
import { positionStore, type PositionStore, type SavedStream } from '../lib/stream-state';

interface StreamDef extends NodeDef {
  server?: string;
  metrics?: string;
  endpointIds?: string;
  tags?: string;
  interval?: string | number;
  window?: string;
  mode?: string;
  output?: string;
  tsFormat?: string;
  autoStart?: boolean;
  persist?: boolean;
  /** Seconds an incomplete row waits for its missing cells; empty: three poll intervals. */
  rowGrace?: string | number;
  /** Late-data horizon: a duration ("1h"); "0" turns late data off. Default 1 hour. */
  horizon?: string;
  /** Seconds between late-data checks (count queries over the horizon). Default 30. */
  lateCheck?: string | number;
}

/** The runtime default poll interval, as the editor shows it. */
const DEFAULT_INTERVAL_MS = 10_000;
/** Incomplete rows wait this many poll intervals unless rowGrace says otherwise. */
const ROW_GRACE_POLLS = 3;
/** stop() waits this long for an aborted poll before close reports done. */
const STOP_TIMEOUT_MS = 3000;
/** An outage ends after this long without failures (capped by three poll intervals). */
const EPISODE_QUIET_MS = 30_000;

function intervalMs(raw: unknown, field: string): number {
  const s = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 100) throw new ValidationError(field, raw, 'must be a number of milliseconds, at least 100');
  // Also the upper bound: a timer longer than 2^31-1 ms would fire at once.
  return Math.round(checkTimerMs(s, field, { min: 100 }));
}

/** The poller, loaded when the first stream node is deployed rather than at Node-RED start-up. */
function streamLib(): typeof import('../../src/stream') {
  return require('../../src/stream') as typeof import('../../src/stream');
}

function seconds(raw: unknown, field: string): number {
  const s = typeof raw === 'string' ? Number(raw.trim()) : raw;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) throw new ValidationError(field, raw, 'must be a number of seconds, 0 or more');
  return s;
}

function optionalMs(raw: unknown, field: string): number | undefined {
  return raw === undefined || raw === null || String(raw).trim() === '' ? undefined : Math.round(seconds(raw, field) * 1000);
}

/** The late-data horizon in ms: empty means 1 hour, "0" turns it off, at most 7 days. */
function parseHorizon(raw: unknown): number {
  if (raw === undefined || raw === null || String(raw).trim() === '') return 3600_000;
  if (/^\s*0+(\.0*)?\s*$/.test(String(raw))) return 0;
  const ms = Math.round(parseDurationMs(raw, 'horizon'));
  if (ms > streamLib().MAX_HORIZON_MS) throw new ValidationError('horizon', raw, 'must be at most 7 days');
  return ms;
}

/** Series split at a timestamp: points at or before it, and after it. */
function splitAt(series: Series[], upTo: number): [Series[], Series[]] {
  const before: Series[] = [];
  const after: Series[] = [];
  for (const s of series) {
    const a = s.values.filter(([ts]) => ts <= upTo);
    const b = s.values.filter(([ts]) => ts > upTo);
    if (a.length) before.push({ ...s, values: a });
    if (b.length) after.push({ ...s, values: b });
  }
  return [before, after];
}

/** A cause as episodes count it: the code and message (no timing details change it). */
function causeOf(e: Error): string {
  const code = (e as { code?: unknown }).code;
  return typeof code === 'string' ? `${code}: ${e.message}` : e.message;
}

/** Sets up one deployed proficloud-stream node. */
export function setupStreamNode(RED: NodeAPI, node: Node, def: StreamDef): void {
  const output: OutputMode = def.output === 'series' || def.output === 'chart' ? def.output : 'rows';
  const tsFormat: TimestampFormat = def.tsFormat === 'iso' || def.tsFormat === 'date' ? def.tsFormat : 'ms';
  const mode = def.mode === 'window' ? 'window' : 'incremental';
  let config: ProficloudConfigNode | undefined;
  let metrics: string[] = [];
  let endpointIds: string[] = [];
  let tags: TagFilter | undefined;
  let windowMs = 600_000;
  let horizonMs = 3600_000;
  let lateCheckMs = 30_000;
  let rowGraceMs: number | undefined;
  let poller: IncrementalPoller | undefined;
  let loop: PollLoop | undefined;
  let rows = new (streamLib().RowAssembler)(0);
  let chart = new (streamLib().ChartFeed)(windowMs, mode === 'window', PAGE_POINT_BUDGET);
  let store: PositionStore | undefined;
  /** After a crash during a send: points up to here may have been sent before (msg.repeated). */
  let repeatedUpTo: number | undefined;
  /** The poller's position after the last poll whose messages went out; undefined: ask the poller. */
  let sentPosition: StreamPosition | undefined;
  /** Late-check problems already warned about (one warning per distinct cause). */
  const lateWarned = new Set<string>();
  let episodes: Episodes | undefined;
  let ready: Promise<void> = Promise.resolve();
  let closing = false;

  const streamKey = (): string => JSON.stringify({ server: def.server ?? null, metrics, tags: tags ?? null, endpointIds });

  /** Points per series per bucket (the late-data check): KairosDB's count aggregator; proficloud.io has none. */
  async function countSeries(range: TimeRange, bucketMs: number, signal?: AbortSignal): Promise<Map<string, Map<number, number>>> {
    const service = await config!.getService();
    if (!service.connector) {
      throw new ValidationError('horizon', def.horizon ?? '1h', 'late data needs a KairosDB, TSD or EWIMA server (proficloud.io has no count query); set the late-data horizon to 0');
    }
    return streamLib().kairosCount(service.connector, () => ({ metrics, ...(tags ? { tags } : {}) }))(range, bucketMs, signal);
  }

  async function fetchSeries(range: TimeRange, signal?: AbortSignal): Promise<Series[]> {
    const service = await config!.getService();
    if (service.io) {
      if (endpointIds.length === 0) throw new ValidationError('endpointIds', def.endpointIds, 'proficloud.io needs at least one device UUID');
      return service.io.querySeries({ endpointIds, metrics, from: range.start, to: range.end }, signal);
    }
    return service.connector!.querySeries({ metrics, startAbsolute: range.start, endAbsolute: range.end, ...(tags ? { tags } : {}) }, signal);
  }

  function makePoller(position?: StreamPosition): IncrementalPoller {
    return new (streamLib().IncrementalPoller)({
      fetch: fetchSeries,
      count: countSeries,
      horizonMs,
      checkEveryMs: lateCheckMs,
      windowMs,
      mode,
      maxPoints: PAGE_POINT_BUDGET,
      ...(position ? { position } : {}),
    });
  }

  /** The saved position (state file, or context without a user directory), if it still describes this stream. */
  async function restore(): Promise<void> {
    sentPosition = undefined;
    if (!store) return;
    try {
      const { saved, journal, legacy, inFlightEnd } = await store.load();
      if (saved && saved.version === 1 && saved.key === streamKey()) {
        poller = makePoller(saved.position);
        poller.replay(journal.map((r) => r.d));
        const held = journal.length ? journal[journal.length - 1].held : saved.held;
        if (held) rows = new (streamLib().RowAssembler)(0, held);
        if (inFlightEnd !== undefined) repeatedUpTo = inFlightEnd;
      } else if (legacy) {
        poller = makePoller(legacy);
      }
      poller!.startJournal();
    } catch (err) {
      node.warn(translate(RED, 'proficloud-stream.warn.position', 'stored stream position ignored: __error__', { error: asError(err).message }));
      poller = makePoller();
      poller.startJournal();
      rows = new (streamLib().RowAssembler)(0);
      repeatedUpTo = undefined;
    }
  }

  function savedState(): SavedStream {
    const s: SavedStream = { version: 1, key: streamKey(), position: poller!.position };
    if (rows.heldPoints > 0) s.held = rows.held;
    return s;
  }

  /** The position after a poll: this poll's change in the journal, now and then a whole snapshot. */
  function saveState(): Promise<void> {
    const p = poller!;
    return store!.save(
      () => ({ d: p.takeDelta(), ...(rows.heldPoints > 0 ? { held: rows.held } : {}) }),
      savedState,
    );
  }

  /** Every start polls first and, for a chart, replaces what the chart holds. */
  function startLoop(): void {
    chart.restart();
    loop!.start();
  }

  /** The points a poll sends: for rows, only complete rows (or rows that waited long enough). */
  function toSend(series: Series[], position: StreamPosition): Series[] {
    if (output !== 'rows' || mode !== 'incremental') return series;
    const now = Date.now();
    rows.graceMs = rowGraceMs ?? ROW_GRACE_POLLS * loop!.intervalMs;
    rows.add(series, now);
    const newest = new Map(Object.entries(position.series).map(([column, p]) => [column, p.last]));
    return rows.release(now, newest);
  }

  /** Rows or series messages; after a crash, points that may have gone out before are in msg.repeated ones. */
  function shaped(series: Series[], result: PollResult, extra: Record<string, unknown>): NodeMessage[] {
    if (pointCount(series) === 0 && !(mode === 'window' && !extra.late)) return [];
    // Window mode re-sends the window anyway: repeats are its nature, not worth a mark.
    const parts: Array<[Series[], Record<string, unknown>]> = [];
    if (repeatedUpTo === undefined || mode === 'window') parts.push([series, extra]);
    else {
      const [maybe, fresh] = splitAt(series, repeatedUpTo);
      parts.push([maybe, { ...extra, repeated: true }], [fresh, extra]);
    }
    const out: NodeMessage[] = [];
    for (const [part, fields] of parts) {
      if (pointCount(part) === 0 && mode !== 'window') continue;
      out.push(
        ...shapeSeries(part, null, { mode: output, tsFormat, chartAction: 'append', dropTrailing: false }, () => ({
          ...syntheticMsg(node, 'stream'),
          range: result.range,
          ...fields,
        })),
      );
    }
    return out;
  }

  /** One poll: its messages sent and the position saved; true when catch-up continues right away. */
  async function run(signal: AbortSignal): Promise<boolean> {
    const current = poller!;
    const before = sentPosition ?? current.position;
    const heldBefore = rows.held;
    /**
     * Stopped before the messages went out (a redeploy closes the wired nodes too, so sending now
     * would lose them): the poll is undone and its points come with the next start.
     */
    const undo = (): false => {
      if (current !== poller) return false;
      // Before its first poll a poller has no bookkeeping yet: a new one starts it where this one would have.
      poller = before.version === 1 && Object.keys(before.series).length === 0 ? makePoller() : makePoller(before);
      if (store) poller.startJournal();
      rows = new (streamLib().RowAssembler)(0, heldBefore);
      sentPosition = before;
      return false;
    };
    let result = await current.poll({ signal, full: output === 'chart' && chart.wantsFull });
    // A metrics change during the poll replaced the poller; its result belongs to the old metrics.
    if (signal.aborted || current !== poller) return undo();
    let msgs: NodeMessage[];
    let count: number;
    if (output === 'chart') {
      let planned = chart.messages(result);
      if (planned === 'full') {
        // Late points in the window: redraw the window rather than draw a line backwards.
        result = await current.poll({ signal, full: true });
        if (signal.aborted || current !== poller) return undo();
        planned = chart.messages(result, true) as ChartMessage[];
      }
      count = result.points;
      msgs = planned.map((m) => ({ ...syntheticMsg(node, 'stream'), range: result.range, action: m.action, payload: m.payload, ...(m.late ? { late: true } : {}) }));
    } else {
      const series = toSend(result.series, result.position);
      count = pointCount(series) + result.latePoints;
      msgs = [...shaped(series, result, {}), ...(result.latePoints ? shaped(result.late, result, { late: true }) : [])];
    }
    if (def.persist && store && msgs.length) await store.beginSend(result.range.end);
    if (signal.aborted || current !== poller) return undo();
    // One send() per message: Node-RED deep-clones every message after the first of an array sent at once.
    for (const m of msgs) node.send(m);
    sentPosition = result.position;
    if (def.persist && store) await saveState();
    if (!result.more) repeatedUpTo = undefined;
    config?.reportOk();
    episodes?.success();
    node.status(ok(translate(RED, 'proficloud-stream.status.polled', '__time__: __count__ points', { time: clock(), count })));
    lateProblems(result);
    return result.more;
  }

  function lateProblems(result: PollResult): void {
    if (result.lateError !== undefined) {
      const e = asError(result.lateError);
      if (!lateWarned.has(e.message)) {
        lateWarned.add(e.message);
        node.warn(translate(RED, 'proficloud-stream.warn.lateCheck', 'late-data check failed (retried at the next check): __error__', { error: e.message }));
      }
    }
    if (result.unresolved > 0) {
      node.warn(
        translate(RED, 'proficloud-stream.warn.unresolved', '__count__ late points could not be told apart from points already sent and were not emitted', {
          count: result.unresolved,
        }),
      );
    }
  }

  function onError(err: unknown): void {
    const e = asError(err);
    config?.reportFailure(e);
    node.status(failed(e));
    // One error per distinct cause per outage: Catch nodes see polling start failing, the log is not flooded.
    if (!episodes || episodes.failure(causeOf(e))) node.error(e, syntheticMsg(node, 'poll'));
  }

  function onRecovered(summary: EpisodeSummary): void {
    if (closing) return;
    const text = `polling ${formatRecovery(summary)}`;
    const msg: NodeMessage = { ...syntheticMsg(node, 'recovered'), recovered: true, failures: summary.failures, causes: summary.causes, durationMs: summary.durationMs };
    node.error(text, msg);
  }

  try {
    config = configNodeOf(RED, def.server);
    metrics = parseMetricList(def.metrics, 'metrics');
    endpointIds = def.endpointIds ? parseMetricList(def.endpointIds, 'endpointIds') : [];
    tags = parseTagFilter(def.tags, 'tags');
    windowMs = Math.round(parseDurationMs(def.window || '10m', 'window'));
    horizonMs = parseHorizon(def.horizon);
    lateCheckMs = optionalMs(def.lateCheck, 'lateCheck') ?? lateCheckMs;
    rowGraceMs = optionalMs(def.rowGrace, 'rowGrace');
    const every = intervalMs(def.interval ?? DEFAULT_INTERVAL_MS, 'interval');
    poller = makePoller();
    chart = new (streamLib().ChartFeed)(windowMs, mode === 'window', PAGE_POINT_BUDGET);
    episodes = new Episodes({ quietMs: Math.min(EPISODE_QUIET_MS, 3 * every), onRecovered });
    loop = new (streamLib().PollLoop)({ intervalMs: every, run, onError, stopTimeoutMs: STOP_TIMEOUT_MS });
    if (def.persist) store = positionStore(RED, node);
    config.register(node);
    ready = restore().then(() => {
      if (closing) return;
      if (def.autoStart !== false) startLoop();
      else node.status({ fill: 'grey', shape: 'ring', text: translate(RED, 'proficloud-stream.status.stopped', 'stopped') });
    });
  } catch (err) {
    node.status(failed(err));
    node.error(asError(err), syntheticMsg(node, 'config'));
  }

  async function handle(msg: NodeMessage): Promise<void> {
    await ready;
    if (!loop || !poller) throw new ValidationError('config', def.server, 'the stream node is not configured correctly; see its earlier error');
    let handled = false;
    if (msg.interval !== undefined) {
      loop.changeInterval(intervalMs(msg.interval, 'msg.interval'));
      handled = true;
    }
    if (msg.metrics !== undefined) {
      metrics = parseMetricList(msg.metrics, 'msg.metrics');
      // New metrics, new position: the old one describes other series.
      poller = makePoller();
      if (store) poller.startJournal();
      rows = new (streamLib().RowAssembler)(0);
      sentPosition = undefined;
      repeatedUpTo = undefined;
      chart.restart();
      await store?.clear();
      handled = true;
    }
    const command = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : typeof msg.topic === 'string' ? msg.topic.trim().toLowerCase() : '';
    const action = command === 'toggle' ? (loop.isRunning ? 'stop' : 'start') : command;
    if (action === 'start') {
      if (!loop.isRunning) startLoop();
      return;
    }
    if (action === 'stop') {
      await loop.stop();
      node.status({ fill: 'grey', shape: 'ring', text: translate(RED, 'proficloud-stream.status.stopped', 'stopped') });
      return;
    }
    if (!handled) throw new ValidationError('msg.payload', msg.payload, 'unknown command; send "start", "stop" or "toggle" (in payload or topic), msg.interval or msg.metrics');
  }

  node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
    handle(msg).then(
      () => done(),
      (err: unknown) => done(asError(err)),
    );
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    closing = true;
    config?.deregister(node);
    episodes?.close();
    ready
      .then(() => (loop ? loop.stop() : undefined))
      .then(() => (def.persist && store && poller ? saveState() : undefined))
      .catch((err: unknown) => node.warn(translate(RED, 'proficloud-stream.warn.save', 'stream position not saved: __error__', { error: asError(err).message })))
      .finally(() => done());
  });
}
