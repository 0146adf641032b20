/**
 * proficloud-stream: polls a buffer window on an interval and emits each point once (or the whole
 * window), as rows, per-series messages or ui-chart points with action 'append'.
 */
import { ValidationError } from '../src/errors';
import { ChartFeed, DEFAULT_MAX_POINTS, IncrementalPoller, MAX_HORIZON_MS, PollLoop, RowAssembler, type ChartMessage, type HeldRows, type PollResult, type StreamPosition, type TimeRange } from '../src/stream';
import type { Series, TagFilter, TimestampFormat } from '../src/types';
import { configNodeOf, type ProficloudConfigNode } from './lib/connection';
import { pointCount, shapeSeries, type OutputMode } from './lib/output';
import { parseDurationMs, parseMetricList, parseTagFilter } from './lib/parse';
import { asError, syntheticMsg } from './lib/props';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from './lib/red';
import { clock, failed, ok, translate } from './lib/status';

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

/** What persist keeps in context: the poller's position plus the rows still held back. */
type SavedPosition = StreamPosition & { held?: HeldRows };

/** The runtime default poll interval, as the editor shows it. */
const DEFAULT_INTERVAL_MS = 10_000;
/** Incomplete rows wait this many poll intervals unless rowGrace says otherwise. */
const ROW_GRACE_POLLS = 3;

const POSITION_KEY = 'position';
/** stop() waits this long for an aborted poll before close reports done. */
const STOP_TIMEOUT_MS = 3000;

function intervalMs(raw: unknown, field: string): number {
  const s = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 100) throw new ValidationError(field, raw, 'must be a number of milliseconds, at least 100');
  return Math.round(s);
}

function seconds(raw: unknown, field: string): number {
  const s = typeof raw === 'string' ? Number(raw.trim()) : raw;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) throw new ValidationError(field, raw, 'must be a number of seconds, 0 or more');
  return s;
}

/** The late-data horizon in ms: empty means 1 hour, "0" turns it off, at most 7 days. */
function parseHorizon(raw: unknown): number {
  if (raw === undefined || raw === null || String(raw).trim() === '') return 3600_000;
  if (/^\s*0+(\.0*)?\s*$/.test(String(raw))) return 0;
  const ms = Math.round(parseDurationMs(raw, 'horizon'));
  if (ms > MAX_HORIZON_MS) throw new ValidationError('horizon', raw, 'must be at most 7 days');
  return ms;
}

export = function register(RED: NodeAPI): void {
  function ProficloudStream(this: Node, def: StreamDef): void {
    RED.nodes.createNode(this, def);
    setup(this, def);
  }

  function setup(node: Node, def: StreamDef): void {
    const output: OutputMode = def.output === 'series' || def.output === 'chart' ? def.output : 'rows';
    const tsFormat: TimestampFormat = def.tsFormat === 'iso' || def.tsFormat === 'date' ? def.tsFormat : 'ms';
    const mode = def.mode === 'window' ? 'window' : 'incremental';
    let config: ProficloudConfigNode | undefined;
    let metrics: string[] = [];
    let endpointIds: string[] = [];
    let tags: TagFilter | undefined;
    let windowMs = 600_000;
    let poller: IncrementalPoller | undefined;
    let loop: PollLoop | undefined;
    let rowGraceMs: number | undefined;
    let rows = new RowAssembler(0);
    let chart = new ChartFeed(windowMs, mode === 'window', DEFAULT_MAX_POINTS);

    /** Every start polls first and, for a chart, replaces what the chart holds. */
    function startLoop(): void {
      chart.restart();
      loop!.start();
    }

    let horizonMs = 3600_000;
    let lateCheckMs = 30_000;
    /** Late-check problems already warned about (one warning per distinct cause). */
    const lateWarned = new Set<string>();

    /** Points per series per bucket: KairosDB's count aggregator with sampling aligned to the bucket. */
    async function countSeries(range: TimeRange, bucketMs: number, signal?: AbortSignal): Promise<Map<string, Map<number, number>>> {
      const service = await config!.getService();
      if (!service.connector) {
        throw new ValidationError('horizon', def.horizon, 'late data needs a KairosDB, TSD or EWIMA server (proficloud.io has no count query); set the late-data horizon to 0');
      }
      const aggregators = [{ name: 'count', sampling: { value: bucketMs, unit: 'milliseconds' as const }, align_start_time: true, align_sampling: false }];
      const counted = await service.connector.querySeries(
        { metrics, startAbsolute: range.start, endAbsolute: range.end, aggregators, ...(tags ? { tags } : {}) },
        signal,
      );
      const out = new Map<string, Map<number, number>>();
      for (const s of counted) {
        const m = new Map<number, number>();
        for (const [ts, n] of s.values) if (typeof n === 'number') m.set(ts, n);
        out.set(s.column, m);
      }
      return out;
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
      return new IncrementalPoller({ fetch: fetchSeries, count: countSeries, horizonMs, checkEveryMs: lateCheckMs, windowMs, mode, ...(position ? { position } : {}) });
    }

    function restoredPoller(): IncrementalPoller {
      if (!def.persist) return makePoller();
      const saved = node.context().get(POSITION_KEY) as SavedPosition | undefined;
      if (!saved) return makePoller();
      try {
        const restored = makePoller(saved);
        if (saved.held) rows = new RowAssembler(0, saved.held);
        return restored;
      } catch (err) {
        node.warn(`stored stream position ignored: ${asError(err).message}`);
        return makePoller();
      }
    }

    function saved(position: StreamPosition): SavedPosition {
      return output === 'rows' && rows.heldPoints > 0 ? { ...position, held: rows.held } : position;
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

    /** One poll: its messages sent; true when catch-up continues right away. */
    async function run(signal: AbortSignal): Promise<boolean> {
      const current = poller!;
      let result = await current.poll({ signal, full: output === 'chart' && chart.wantsFull });
      // A metrics change during the poll replaced the poller; its result belongs to the old metrics.
      if (signal.aborted || current !== poller) return false;
      let msgs: NodeMessage[];
      let count: number;
      if (output === 'chart') {
        let planned = chart.messages(result);
        if (planned === 'full') {
          // Late points in the window: redraw the window rather than draw a line backwards.
          result = await current.poll({ signal, full: true });
          if (signal.aborted || current !== poller) return false;
          planned = chart.messages(result, true) as ChartMessage[];
        }
        count = result.points;
        msgs = planned.map((m) => ({ ...syntheticMsg(node, 'stream'), range: result.range, action: m.action, payload: m.payload, ...(m.late ? { late: true } : {}) }));
      } else {
        const series = toSend(result.series, result.position);
        count = pointCount(series) + result.latePoints;
        // A stream never drops trailing rows: incomplete rows were held back above until they were due.
        msgs = mode === 'incremental' && pointCount(series) === 0 ? [] : shapeSeries(series, null, { mode: output, tsFormat, chartAction: 'append', dropTrailing: false }, () => ({
          ...syntheticMsg(node, 'stream'),
          range: result.range,
        }));
        msgs.push(...lateMessages(result));
      }
      if (def.persist) node.context().set(POSITION_KEY, saved(result.position));
      config?.reportOk();
      node.status(ok(translate(RED, 'proficloud-stream.status.polled', '__time__: __count__ points', { time: clock(), count })));
      lateProblems(result);
      if (msgs.length) node.send([msgs]);
      return result.more;
    }

    /** Late points go in messages of their own, marked msg.late = true (rows: complete as they are). */
    function lateMessages(result: PollResult): NodeMessage[] {
      if (result.latePoints === 0) return [];
      return shapeSeries(result.late, null, { mode: output, tsFormat, chartAction: 'append', dropTrailing: false }, () => ({
        ...syntheticMsg(node, 'stream'),
        range: result.range,
        late: true,
      }));
    }

    function lateProblems(result: PollResult): void {
      if (result.lateError !== undefined) {
        const e = asError(result.lateError);
        if (!lateWarned.has(e.message)) {
          lateWarned.add(e.message);
          node.warn(translate(RED, 'proficloud-stream.warn.lateCheck', 'late-data check failed (retried every poll): __error__', { error: e.message }));
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
      node.error(e, syntheticMsg(node, 'poll'));
    }

    try {
      config = configNodeOf(RED, def.server);
      metrics = parseMetricList(def.metrics, 'metrics');
      endpointIds = def.endpointIds ? parseMetricList(def.endpointIds, 'endpointIds') : [];
      tags = parseTagFilter(def.tags, 'tags');
      windowMs = parseDurationMs(def.window || '10m', 'window');
      horizonMs = parseHorizon(def.horizon);
      if (def.lateCheck !== undefined && String(def.lateCheck).trim() !== '') lateCheckMs = Math.round(seconds(def.lateCheck, 'lateCheck') * 1000);
      rowGraceMs = def.rowGrace === undefined || String(def.rowGrace).trim() === '' ? undefined : Math.round(seconds(def.rowGrace, 'rowGrace') * 1000);
      poller = restoredPoller();
      loop = new PollLoop({ intervalMs: intervalMs(def.interval ?? DEFAULT_INTERVAL_MS, 'interval'), run, onError, stopTimeoutMs: STOP_TIMEOUT_MS });
      config.register(node);
      chart = new ChartFeed(windowMs, mode === 'window', DEFAULT_MAX_POINTS);
      if (def.autoStart !== false) startLoop();
      else node.status({ fill: 'grey', shape: 'ring', text: translate(RED, 'proficloud-stream.status.stopped', 'stopped') });
    } catch (err) {
      node.status(failed(err));
      node.error(asError(err), syntheticMsg(node, 'config'));
    }

    async function handle(msg: NodeMessage): Promise<void> {
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
        rows = new RowAssembler(0);
        chart.restart();
        if (def.persist) node.context().set(POSITION_KEY, undefined);
        handled = true;
      }
      const command = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : typeof msg.topic === 'string' ? msg.topic.trim().toLowerCase() : '';
      if (command === 'start') {
        if (!loop.isRunning) startLoop();
        return;
      }
      if (command === 'stop') {
        await loop.stop();
        node.status({ fill: 'grey', shape: 'ring', text: translate(RED, 'proficloud-stream.status.stopped', 'stopped') });
        return;
      }
      if (!handled) throw new ValidationError('msg.payload', msg.payload, 'unknown command; send "start" or "stop" (in payload or topic), msg.interval or msg.metrics');
    }

    node.on('input', (msg: NodeMessage, _send: SendFn, done: DoneFn) => {
      handle(msg).then(
        () => done(),
        (err: unknown) => done(asError(err)),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      config?.deregister(node);
      const stopping = loop ? loop.stop() : Promise.resolve();
      stopping
        .catch(() => undefined)
        .finally(() => {
          if (def.persist && poller) node.context().set(POSITION_KEY, saved(poller.position));
          done();
        });
    });
  }

  RED.nodes.registerType('proficloud-stream', ProficloudStream);
};
