/** The proficloud-query node's runtime, loaded when the first such node is deployed (see ../proficloud-query.ts). */
import { ValidationError } from '../../src/errors';
import { RangePager, budgetedPages, PAGE_POINT_BUDGET, parseAggregators, parseGroupBy, parseMetricList, parseOptionalInt, parseTagFilter, type AggregatorRow } from '../../src/kairos';
import { seriesFromQueryResponse, type ColumnarTable, type SeriesPoints } from '../../src/table';
import type { FillNaMethod, KairosQueryResponse, QueryOptions, Series, TimestampFormat } from '../../src/types';
import { configNodeOf, type ProficloudConfigNode, type Service } from '../lib/connection';
import { pointCount, shapePointsSliced, shapeSeriesSliced, shapeTableSliced, tableOptions, type OutputMode, type ShapeOptions } from '../lib/output';
import { parseDurationMs, parseTimeSpec, specToMs, type TimeSpec } from '../../src/time';
import { asError, evaluate } from '../lib/msg-helpers';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, SendFn } from '../lib/red';
import { busy, failed, ok, translate } from '../lib/status';

interface QueryDef extends NodeDef {
  server?: string;
  metrics?: string;
  metricsType?: string;
  endpointIds?: string;
  start?: string;
  startType?: string;
  end?: string;
  endType?: string;
  limit?: string | number;
  aggMode?: string;
  aggregators?: AggregatorRow[];
  aggJson?: string;
  tags?: string;
  groupBy?: string;
  fill?: string;
  dropTrailing?: boolean;
  order?: string;
  tsFormat?: string;
  output?: string;
  pointFormat?: string;
  paged?: boolean;
  pageSize?: string;
  onDemand?: boolean;
}

/**
 * What one page (or the whole query) produced, before shaping: rows mode from KairosDB has the
 * columnar table (read from the response bytes, no parsed tree), the other modes have series.
 */
interface Result {
  series: Series[];
  table?: ColumnarTable;
  /** Series and chart modes from KairosDB: the scanned points, shaped straight into msg.payload (series is then empty). */
  points?: SeriesPoints[];
  raw: unknown;
  /** A page before the last: the trailing cut (dropTrailingNa) belongs to the end of the whole range only. */
  notLast?: boolean;
}

/**
 * A page's result, handed over once: the pager keeps the last value it returned until the next
 * page arrives, so the page is taken out of the holder and only the message keeps it alive.
 */
interface PageHolder {
  result?: Result;
}

/** A paged query waiting for msg.next. */
interface PendingPages {
  id: string;
  pager: RangePager<PageHolder>;
  base: NodeMessage;
  /** Aborts this query's page requests (on close); released when its last page is out. */
  ctl: AbortController;
}

const MODES: OutputMode[] = ['rows', 'series', 'chart', 'raw'];

function oneOf<T extends string>(raw: unknown, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly unknown[]).includes(raw) ? (raw as T) : fallback;
}

function listOf(raw: unknown, field: string): string[] {
  if (raw === undefined || raw === null || raw === '') return [];
  return parseMetricList(raw, field);
}

function applyStart(opts: QueryOptions, spec: TimeSpec): void {
  if ('relative' in spec) opts.startRelative = spec.relative;
  else opts.startAbsolute = spec.absolute;
}

function applyEnd(opts: QueryOptions, spec: TimeSpec | undefined): void {
  if (!spec) return;
  if ('relative' in spec) opts.endRelative = spec.relative;
  else opts.endAbsolute = spec.absolute;
}

/** Sets up one deployed proficloud-query node. */
export function setupQueryNode(RED: NodeAPI, node: Node, def: QueryDef): void {
  let config: ProficloudConfigNode | undefined;
  try {
    config = configNodeOf(RED, def.server);
    config.register(node);
  } catch (err) {
    node.status(failed(err));
  }
  const mode = oneOf(def.output, MODES, 'rows');
  const shape: ShapeOptions = {
    mode,
    tsFormat: oneOf<TimestampFormat>(def.tsFormat, ['ms', 'iso', 'date'], 'ms'),
    pointFormat: def.pointFormat === 'xy' ? 'xy' : 'pairs',
    fill: (oneOf(def.fill, ['ffill', 'bfill'], '' as 'ffill') || null) as FillNaMethod,
    dropTrailing: def.dropTrailing !== false,
    orderDesc: def.order === 'desc',
    chartAction: 'replace',
  };
  let pending: PendingPages | undefined;
  let closed = false;
  // One controller per query (a paged one keeps its own until its last page), all aborted on close so a
  // redeploy does not wait for (or deliver) a slow query. One shared signal for the node's lifetime
  // would collect an abort listener per concurrent request (MaxListenersExceededWarning at 11).
  const controllers = new Set<AbortController>();
  function controller(): AbortController {
    const ctl = new AbortController();
    controllers.add(ctl);
    return ctl;
  }
  function release(ctl: AbortController): void {
    controllers.delete(ctl);
  }

  async function buildOptions(msg: NodeMessage, service: Service): Promise<{ query: QueryOptions; endpointIds: string[] }> {
    const zone = service.timeZone;
    const metricsRaw = msg.metrics !== undefined ? msg.metrics : await evaluate(RED, node, def.metrics, def.metricsType, msg);
    const metrics = parseMetricList(metricsRaw, msg.metrics !== undefined ? 'msg.metrics' : 'metrics');
    const startRaw = msg.start !== undefined ? msg.start : await evaluate(RED, node, def.start, def.startType, msg);
    const start = parseTimeSpec(startRaw, msg.start !== undefined ? 'msg.start' : 'start', zone);
    if (!start) throw new ValidationError(msg.start !== undefined ? 'msg.start' : 'start', startRaw, 'a start time is required (e.g. "1h" or an ISO-8601 time)');
    const endRaw = msg.end !== undefined ? msg.end : await evaluate(RED, node, def.end, def.endType, msg);
    const end = parseTimeSpec(endRaw, msg.end !== undefined ? 'msg.end' : 'end', zone);
    const query: QueryOptions = { metrics, order: shape.orderDesc ? 'desc' : 'asc', timeZone: zone };
    applyStart(query, start);
    applyEnd(query, end);
    const limit = msg.limit !== undefined ? parseOptionalInt(msg.limit, 'msg.limit', 1) : parseOptionalInt(def.limit, 'limit', 1);
    if (limit !== undefined) query.limit = limit;
    const aggregators =
      msg.aggregators !== undefined
        ? parseAggregators(msg.aggregators, 'msg.aggregators')
        : def.aggMode === 'json'
          ? parseAggregators(def.aggJson, 'aggregators')
          : parseAggregators(def.aggregators ?? [], 'aggregators');
    if (aggregators) query.aggregators = aggregators;
    const tags = msg.tags !== undefined ? parseTagFilter(msg.tags, 'msg.tags') : parseTagFilter(def.tags, 'tags');
    if (tags) query.tags = tags;
    const groupBy = msg.groupBy !== undefined ? parseGroupBy(msg.groupBy, 'msg.groupBy') : parseGroupBy(def.groupBy, 'groupBy');
    if (groupBy) query.groupBy = groupBy;
    const endpointIds = msg.endpointIds !== undefined ? listOf(msg.endpointIds, 'msg.endpointIds') : listOf(def.endpointIds, 'endpointIds');
    return { query, endpointIds };
  }

  /** `last` false for a page before the last one: its rows keep their tail (see Result.notLast). */
  async function fetchRange(service: Service, query: QueryOptions, endpointIds: string[], signal: AbortSignal, range?: { start: number; end: number }, last = true): Promise<Result> {
    const opts = last ? shape : { ...shape, dropTrailing: false };
    const q: QueryOptions = range ? { ...query, startAbsolute: range.start, endAbsolute: range.end, startRelative: undefined, endRelative: undefined } : query;
    if (service.io) {
      if (endpointIds.length === 0) throw new ValidationError('endpointIds', endpointIds, 'proficloud.io needs at least one device UUID');
      const now = Date.now();
      const from = range?.start ?? (q.startAbsolute !== undefined ? Number(q.startAbsolute) : specToMs({ relative: q.startRelative! }, now));
      const to = range?.end ?? (q.endAbsolute !== undefined ? Number(q.endAbsolute) : q.endRelative ? specToMs({ relative: q.endRelative }, now) : now);
      const metrics = (Array.isArray(q.metrics) ? q.metrics : [q.metrics]).map((m) => (typeof m === 'string' ? m : m.name));
      const series = await service.io.querySeries({ endpointIds, metrics, from, to, sort: shape.orderDesc ? 'DESC' : 'ASC' }, signal);
      return { series, raw: series, notLast: !last };
    }
    const connector = service.connector!;
    // The response is scanned and shaped in slices (the connector's *Sliced methods, output.ts): a large
    // answer never holds up the flow for long.
    if (mode === 'rows') return { series: [], table: await connector.queryColumnarSliced({ ...q, ...tableOptions(opts) }, signal), raw: undefined };
    if (mode === 'raw') {
      const resp = await connector.query(q, signal);
      return { series: seriesFromQueryResponse(resp), raw: resp };
    }
    const scanned = await connector.queryScannedSeries(q, signal);
    return 'points' in scanned ? { series: [], points: scanned.points, raw: undefined } : { series: scanned.series, raw: undefined };
  }

  /** The messages of a result, shaped in slices; `signal` (the query's) stops the shaping on close. */
  async function messagesFor(result: Result, base: NodeMessage, signal: AbortSignal): Promise<NodeMessage[]> {
    const clone = (): NodeMessage => RED.util.cloneMessage(base);
    if (result.table) return shapeTableSliced(result.table, shape, clone, signal);
    const opts = result.notLast ? { ...shape, dropTrailing: false } : shape;
    if (result.points) return shapePointsSliced(result.points, opts, clone, signal);
    return shapeSeriesSliced(result.series, result.raw, opts, clone, signal);
  }

  /** A query's answer: in series mode no series still gives one message (payload []), so request/response flows get a reply. */
  async function answerFor(result: Result, base: NodeMessage, signal: AbortSignal): Promise<NodeMessage[]> {
    const out = await messagesFor(result, base, signal);
    if (out.length > 0 || mode !== 'series') return out;
    const msg = RED.util.cloneMessage(base);
    msg.payload = [];
    return [msg];
  }

  /**
   * Sends an answer's messages in order, each by its own send(): Node-RED deep-clones every message
   * after the first of an array handed to one send(), which for large payloads costs more than
   * building them. Nothing goes out once the node is closed.
   */
  function sendEach(send: SendFn, msgs: NodeMessage[]): void {
    for (const msg of msgs) {
      if (closed) return;
      send(msg);
    }
  }

  function statusFor(result: Result): void {
    const points = result.table ? result.table.pointCount : result.points ? result.points.reduce((n, s) => n + s.points.length, 0) : pointCount(result.series);
    const seriesCount = result.points ? result.points.length : result.series.length;
    if (mode === 'rows') node.status(ok(translate(RED, 'proficloud-query.status.points', '__count__ points', { count: points })));
    else node.status(ok(translate(RED, 'proficloud-query.status.series', '__count__ series', { count: seriesCount })));
  }

  /** Paged mode: one message per page; in series mode the page's payload is its array of series. */
  async function pageMessage(result: Result, base: NodeMessage, id: string, index: number, count: number, signal: AbortSignal): Promise<NodeMessage> {
    let msg: NodeMessage;
    if (mode === 'series') {
      msg = RED.util.cloneMessage(base);
      msg.payload = (await messagesFor(result, {}, signal)).map((m) => ({ topic: m.topic, metric: m.metric, tags: m.tags, payload: m.payload }));
    } else {
      msg = (await messagesFor(result, base, signal))[0];
    }
    msg.parts = { id, index, count, type: 'array', len: 1 };
    return msg;
  }

  async function sendNextPage(p: PendingPages, send: SendFn): Promise<boolean> {
    node.status(busy(translate(RED, 'proficloud-query.status.page', 'page __index__/__count__', { index: p.pager.index + 1, count: p.pager.count })));
    const page = await p.pager.next();
    const result = page.value.result;
    page.value.result = undefined;
    if (closed || !result) return true;
    const msg = await pageMessage(result, p.base, p.id, page.part.index, page.part.count, p.ctl.signal);
    if (closed) return true;
    send(msg);
    node.status(ok(translate(RED, 'proficloud-query.status.page', 'page __index__/__count__', { index: page.part.index + 1, count: page.part.count })));
    return page.done;
  }

  /** Sends the next page of an on-demand paged query; once its last page is out it is forgotten. */
  async function nextOnDemand(p: PendingPages, send: SendFn): Promise<void> {
    if (await sendNextPage(p, send)) {
      if (pending === p) pending = undefined;
      release(p.ctl);
    }
  }

  async function handle(msg: NodeMessage, send: SendFn): Promise<void> {
    // Only msg.next === true asks for a page: a topic "next" is too common to steal ordinary queries.
    if (msg.next === true) {
      if (!pending) throw new ValidationError('msg.next', msg.next, 'no paged query is waiting for its next page');
      await nextOnDemand(pending, send);
      return;
    }
    const ctl = controller();
    try {
      await runQuery(msg, send, ctl);
    } finally {
      release(ctl);
    }
  }

  async function runQuery(msg: NodeMessage, send: SendFn, ctl: AbortController): Promise<void> {
    const signal = ctl.signal;
    if (!config) throw new ValidationError('server', def.server, 'no proficloud-config node is selected or it is not deployed');
    const service = await config.getService();
    node.status(busy(translate(RED, 'proficloud-query.status.querying', 'querying')));

    if (msg.query !== undefined) {
      if (!service.connector) throw new ValidationError('msg.query', msg.query, 'raw KairosDB queries need a KairosDB, TSD or EWIMA connection');
      if (!msg.query || typeof msg.query !== 'object' || Array.isArray(msg.query)) throw new ValidationError('msg.query', msg.query, 'must be a KairosDB query object');
      let result: Result;
      if (mode === 'raw') {
        const resp: KairosQueryResponse = await service.connector.rawQuery(msg.query, signal);
        result = { series: [], raw: resp };
      } else {
        const scanned = await service.connector.rawQueryScannedSeries(msg.query, signal);
        result = 'points' in scanned ? { series: [], points: scanned.points, raw: undefined } : { series: scanned.series, raw: undefined };
      }
      if (closed) return;
      sendEach(send, await answerFor(result, msg, signal));
      statusFor(result);
      return;
    }

    const { query, endpointIds } = await buildOptions(msg, service);
    if (def.paged) {
      const sizeMs = parseDurationMs(def.pageSize || '1d', 'pageSize');
      const now = Date.now();
      const start = query.startAbsolute !== undefined ? Number(query.startAbsolute) : specToMs({ relative: query.startRelative! }, now);
      const end = query.endAbsolute !== undefined ? Number(query.endAbsolute) : query.endRelative ? specToMs({ relative: query.endRelative }, now) : now;
      // The page size is a maximum: pages are planned from the point counts of the range (see page-budget.ts).
      const ranges = service.connector && end >= start ? await budgetedPages(service.connector, query, { start, end }, sizeMs, PAGE_POINT_BUDGET, signal) : undefined;
      // The pages' own controller: on demand, later pages are fetched after this message is done.
      const pageCtl = def.onDemand ? controller() : ctl;
      const pager = new RangePager<PageHolder>({ fetch: async (range) => ({ result: await fetchRange(service, query, endpointIds, pageCtl.signal, range, range.end === end) }), start, end, ...(ranges ? { ranges } : { pageMs: sizeMs }) });
      const p: PendingPages = { id: RED.util.generateId(), pager, base: msg, ctl: pageCtl };
      if (def.onDemand) {
        if (pending) release(pending.ctl);
        pending = p;
        await nextOnDemand(p, send);
        return;
      }
      // Pages one after another: parallel pages would hit the server with the load paging exists to avoid.
      while (!closed && !(await sendNextPage(p, send)));
      return;
    }

    const result = await fetchRange(service, query, endpointIds, signal);
    if (closed) return;
    sendEach(send, await answerFor(result, msg, signal));
    statusFor(result);
  }

  node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
    handle(msg, send).then(
      () => {
        config?.reportOk();
        done();
      },
      (err: unknown) => {
        const e = asError(err);
        config?.reportFailure(e);
        node.status(failed(e));
        done(e);
      },
    );
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    closed = true;
    pending = undefined;
    for (const ctl of controllers) ctl.abort();
    controllers.clear();
    config?.deregister(node);
    done();
  });
}
