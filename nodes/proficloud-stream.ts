/**
 * proficloud-stream: polls a buffer window on an interval and emits each point once (or the whole
 * window), as rows, per-series messages or ui-chart points with action 'append'.
 */
import { ValidationError } from '../src/errors';
import { checkTimerMs, parseDurationMs } from '../src/time';
import type { IncrementalPoller, PollLoop, StreamPosition, TimeRange } from '../src/stream';
import type { Series, TagFilter, TimestampFormat } from '../src/types';
import { configNodeOf, type ProficloudConfigNode } from './lib/connection';
import { shapeSeries, type OutputMode } from './lib/output';
import { parseMetricList, parseTagFilter } from '../src/kairos';
import { asError, syntheticMsg } from './lib/msg-helpers';
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
}

const POSITION_KEY = 'position';
/** stop() waits this long for an aborted poll before close reports done. */
const STOP_TIMEOUT_MS = 3000;

function intervalMs(raw: unknown, field: string): number {
  const s = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 100) throw new ValidationError(field, raw, 'must be a number of milliseconds, at least 100');
  // Also the upper bound: a timer longer than 2^31-1 ms would fire at once.
  return Math.round(checkTimerMs(s, field, { min: 100 }));
}

/** The poller, loaded when the first stream node is deployed rather than at Node-RED start-up. */
function streamLib(): typeof import('../src/stream') {
  return require('../src/stream') as typeof import('../src/stream');
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

    async function fetchSeries(range: TimeRange, signal?: AbortSignal): Promise<Series[]> {
      const service = await config!.getService();
      if (service.io) {
        if (endpointIds.length === 0) throw new ValidationError('endpointIds', def.endpointIds, 'proficloud.io needs at least one device UUID');
        return service.io.querySeries({ endpointIds, metrics, from: range.start, to: range.end }, signal);
      }
      return service.connector!.querySeries({ metrics, startAbsolute: range.start, endAbsolute: range.end, ...(tags ? { tags } : {}) }, signal);
    }

    function makePoller(position?: StreamPosition): IncrementalPoller {
      return new (streamLib().IncrementalPoller)({ fetch: fetchSeries, windowMs, mode, ...(position ? { position } : {}) });
    }

    function restoredPoller(): IncrementalPoller {
      if (!def.persist) return makePoller();
      const saved = node.context().get(POSITION_KEY);
      if (!saved) return makePoller();
      try {
        return makePoller(saved as StreamPosition);
      } catch (err) {
        node.warn(`stored stream position ignored: ${asError(err).message}`);
        return makePoller();
      }
    }

    async function run(signal: AbortSignal): Promise<void> {
      const current = poller!;
      const result = await current.poll(signal);
      // A metrics change during the poll replaced the poller; its result belongs to the old metrics.
      if (signal.aborted || current !== poller) return;
      if (def.persist) node.context().set(POSITION_KEY, result.position);
      config?.reportOk();
      node.status(ok(translate(RED, 'proficloud-stream.status.polled', '__time__: __count__ points', { time: clock(), count: result.points })));
      if (result.points === 0 && mode === 'incremental') return;
      const msgs = shapeSeries(result.series, null, { mode: output, tsFormat, chartAction: 'append' }, () => ({
        ...syntheticMsg(node, 'stream'),
        range: result.range,
      }));
      if (msgs.length) node.send([msgs]);
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
      poller = restoredPoller();
      loop = new (streamLib().PollLoop)({ intervalMs: intervalMs(def.interval ?? 10, 'interval'), run, onError, stopTimeoutMs: STOP_TIMEOUT_MS });
      config.register(node);
      if (def.autoStart !== false) loop.start();
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
        if (def.persist) node.context().set(POSITION_KEY, undefined);
        handled = true;
      }
      const command = typeof msg.payload === 'string' ? msg.payload.trim().toLowerCase() : typeof msg.topic === 'string' ? msg.topic.trim().toLowerCase() : '';
      if (command === 'start') {
        if (!loop.isRunning) loop.start();
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
          if (def.persist && poller) node.context().set(POSITION_KEY, poller.position);
          done();
        });
    });
  }

  RED.nodes.registerType('proficloud-stream', ProficloudStream);
};
