/**
 * Targets 2 (end to end), 3 and 5: the Node-RED nodes, run by node-red-node-test-helper in this
 * process (the nodes are loaded from their TypeScript sources), the local server in a child process
 * behind a counting proxy. One scenario per process, one JSON line out:
 *   node --import tsx bench/nodes.ts batch <rows> <columns> <outbox:0|1> [batchSize|-] [ours|influx-batch] [rows|csv]
 *   node --import tsx bench/nodes.ts write <ours|influx-out|join-batch> <msgPerSec> <seconds> <outbox:0|1> [maxBatchPoints|-] [maxDelay|-]
 *   node --import tsx bench/nodes.ts paged <pointsPerMetric> <metrics> <pageSize>
 *   node --import tsx bench/nodes.ts query <pointsPerMetric> <metrics> <rows|series|chart>
 * Each scenario checks on the server (or in the received pages) that every point arrived.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pushRows, START_MS, valueAt } from './gen.mjs';
import { startKairosChild, type KairosChild } from './kairos-process';

interface TestNode {
  receive(msg: Record<string, unknown>): void;
  on(event: string, fn: (msg: Record<string, unknown>) => void): void;
}
interface Helper {
  init(runtimePath: string): void;
  settings(s: Record<string, unknown>): void;
  startServer(done: (err?: unknown) => void): void;
  stopServer(done: (err?: unknown) => void): void;
  load(nodes: unknown[], flow: unknown[]): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
}

// node-red-node-test-helper ships no types; the interface above names what we use.
const helper = require('node-red-node-test-helper') as Helper;
helper.init(require.resolve('node-red'));
const userDir = mkdtempSync(join(tmpdir(), 'proficloud-bench-'));
helper.settings({ userDir, logging: { console: { level: process.env.BENCH_NR_LOG ?? 'off' } } });

/**
 * The node files as users install them: the compiled dist/nodes/*.js that package.json names (tsc's
 * CommonJS), not the TypeScript sources through tsx, whose transform differs (every export a getter).
 * BENCH_SOURCES=1 loads the sources instead, for a quick look without a build.
 */
function nodeModules(): unknown[] {
  const fromSources = process.env.BENCH_SOURCES === '1';
  return ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch'].map((t) => {
    const file = fromSources ? join(__dirname, '..', 'nodes', `${t}.ts`) : join(__dirname, '..', 'dist', 'nodes', `${t}.js`);
    if (!fromSources && !existsSync(file)) throw new Error(`${file} is missing: run npm run build first (or BENCH_SOURCES=1)`);
    return require(file);
  });
}

/**
 * helper.load() wraps every Node method (send, receive, status, ...) in a sinon spy that keeps each
 * call; over 100k messages that measures sinon, not the nodes. Restore the plain methods after loading.
 */
async function load(flow: Array<{ id?: unknown }>): Promise<void> {
  await helper.load(nodeModules(), flow);
  (helper as unknown as { _sandbox: { restore(): void } })._sandbox.restore();
  // Node-RED copies send onto each wired node when it is created, so those copies are still spies that
  // record every call (and keep every message): point them back at the restored method.
  for (const { id } of flow) {
    const node = typeof id === 'string' ? (helper.getNode(id) as unknown as Record<string, { getCalls?: unknown }> | null) : null;
    if (node && typeof node.send?.getCalls === 'function') node.send = Object.getPrototypeOf(node).send;
  }
}

/** The config node as the editor creates it (gzip on by default); the older scenarios turn gzip off. */
function configNode(url: string, gzip = false): Record<string, unknown> {
  return { id: 'cfg', type: 'proficloud-config', service: 'kairosdb', environment: 'custom', urls: url, authMode: 'none', timeZone: 'UTC', timeout: 30, gzip, proxyMode: 'none', tlsVerify: true };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls cond every 20 ms; gives up after timeoutMs (bounded). */
async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await sleep(20);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/**
 * With BENCH_PROFILE=<file>, a CPU profile of the measured part only (not Node-RED's start-up), for
 * finding where a scenario's time goes: `node --import tsx bench/nodes.ts ...` then summarise the file.
 */
function profiler(): { stop(): Promise<void> } {
  const file = process.env.BENCH_PROFILE;
  if (!file) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  const post = (method: string): Promise<unknown> => new Promise((resolve, reject) => session.post(method, (err, res) => (err ? reject(err) : resolve(res))));
  const started = post('Profiler.enable').then(() => post('Profiler.start'));
  return {
    async stop() {
      await started;
      const { profile } = (await post('Profiler.stop')) as { profile: unknown };
      writeFileSync(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/** The same table as CSV text with a header line (numbers as JavaScript prints them, so they read back exactly). */
function csvText(rows: Array<Record<string, number>>): string {
  const names = Object.keys(rows[0]);
  const lines = [names.join(',')];
  for (const r of rows) lines.push(names.map((n) => String(r[n])).join(','));
  return lines.join('\n') + '\n';
}

/**
 * Target 2, end to end: one message of row objects (or the same table as CSV text) into the batch node (or, for the peer, one
 * message of rowCount InfluxDB points with `columns` fields each into `influxdb batch`), until the
 * server (sink) holds every point. batchSize undefined = the node's default.
 */
async function batch(k: KairosChild, rowCount: number, columns: number, outbox: boolean, batchSize: number | undefined, flavor: 'ours' | 'influx-batch', format: 'rows' | 'csv' = 'rows'): Promise<Record<string, unknown>> {
  const rows = pushRows(rowCount, columns);
  const points = rowCount * columns;
  let expectedSum = 0;
  for (let c = 0; c < columns; c++) for (let i = 0; i < rowCount; i++) expectedSum += valueAt(c, i);
  let written = 0;
  let requests = 0;
  let payload: unknown = format === 'csv' ? csvText(rows) : rows;
  if (flavor === 'ours') {
    // Straight to the server: the proxy shares the server's thread and would halve its rate.
    const settings: Record<string, unknown> = { timestampColumn: 'Timestamp', maxRows: rowCount, outbox, outboxMaxMB: 500, report: true };
    if (batchSize !== undefined) settings.batchSize = batchSize;
    await load([configNode(k.url, batchSize === undefined), { id: 'b', type: 'proficloud-batch', server: 'cfg', ...settings, outputs: 1, wires: [['out']] }, { id: 'out', type: 'helper' }]);
    // The clients load on first use; a deployed flow has them long before its first big message.
    await connected('b');
    helper.getNode('out').on('input', (msg) => {
      const r = msg.payload as { written: number; requests: number };
      written += r.written;
      requests += r.requests;
    });
  } else {
    // What a user hands `influxdb batch`: one point per row, its columns as fields.
    payload = rows.map((r) => {
      const fields: Record<string, number> = {};
      for (const key in r) if (key !== 'Timestamp') fields[key] = r[key];
      return { measurement: 'rows', fields, timestamp: new Date(r.Timestamp) };
    });
    await helper.load([...nodeModules(), ...peerModules()], [influxConfig(k.influxUrl), { id: 'b', type: 'influxdb batch', influxdb: 'icfg', precision: 'ms', retentionPolicy: '', wires: [] }]);
    (helper as unknown as { _sandbox: { restore(): void } })._sandbox.restore();
    await k.influxReset();
  }
  await sleep(200);
  await k.reset();
  (globalThis as { gc?: () => void }).gc?.();
  const prof = profiler();
  const cpu0 = cpuMs();
  const meter = blockMeter();
  const t0 = process.hrtime.bigint();
  const tr = performance.now();
  helper.getNode('b').receive({ payload });
  const receiveSyncMs = performance.now() - tr;
  if (flavor === 'ours') await until(() => written >= points, 60_000, `batch: ${points} points written (so far ${written})`);
  else {
    let sink = { points: 0, requests: 0 };
    await until(async () => (sink = await k.influx()).points >= rowCount, 60_000, `influx batch: ${rowCount} points`);
    written = sink.points * columns;
    requests = sink.requests;
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = cpuMs() - cpu0;
  const maxBlockMs = meter.stop();
  await prof.stop();
  if (flavor === 'ours') {
    const check = await k.count(START_MS, START_MS + rowCount * 1000, Array.from({ length: columns }, (_, c) => `c${c}`));
    if (check.points !== points) throw new Error(`wrong answer: server holds ${check.points} points, expected ${points}`);
    if (Math.abs(check.sum - expectedSum) > 1e-6 * Math.abs(expectedSum)) throw new Error(`wrong answer: sum ${check.sum}, expected ${expectedSum}`);
  }
  await helper.unload();
  return { flavor, format, points, outbox, batchSize: batchSize ?? null, ms, pointsPerSec: points / (ms / 1000), nodeRedCpuMs: cpu, maxBlockMs, receiveSyncMs, requests };
}

/**
 * Longest event-loop block seen while `fn` runs: a 5 ms timer's lateness (what a flow would feel).
 * On a loaded machine that lateness also counts time the process waited for a core, so with withCpu
 * the meter also keeps the most CPU time the process used between two ticks (cpuMax: all its threads,
 * so GC helpers and the zlib pool count too), which load does not stretch. Only where that is reported:
 * a process.cpuUsage() every tick is itself CPU that the scenario's own figure would count, more for
 * the side that takes longer.
 */
function blockMeter(withCpu = false): { stop(): number; cpuMax(): number } {
  let last = performance.now();
  let lastCpu = withCpu ? cpuMs() : 0;
  let max = 0;
  let maxCpu = 0;
  const tick = (): void => {
    const now = performance.now();
    max = Math.max(max, now - last - 5);
    last = now;
    if (!withCpu) return;
    const cpu = cpuMs();
    maxCpu = Math.max(maxCpu, cpu - lastCpu);
    lastCpu = cpu;
  };
  const timer = setInterval(tick, 5);
  return {
    stop() {
      // The gap still open counts too: a block that ends just before the awaited condition is seen
      // lets the caller's timer stop the meter before the meter's own timer could measure it.
      tick();
      clearInterval(timer);
      return Math.max(0, max);
    },
    cpuMax() {
      return maxCpu;
    },
  };
}

/**
 * What is fed into the write scenario and how: ours is proficloud-write (one point per message); the
 * peer is node-red-contrib-influxdb against the InfluxDB sink: `influxdb out` (one request per message)
 * or what a user builds for batching, core `join` (count 500, timeout 1 s) → `influxdb batch`.
 */
type WriteFlavor = 'ours' | 'influx-out' | 'join-batch';

/** The peer's nodes, and the core split/join nodes a user batches with. */
function peerModules(): unknown[] {
  return [require('node-red-contrib-influxdb'), require('@node-red/nodes/core/sequence/17-split.js')];
}

function influxConfig(url: string): Record<string, unknown> {
  const u = new URL(url);
  return { id: 'icfg', type: 'influxdb', hostname: u.hostname, port: Number(u.port), protocol: 'http', database: 'bench', name: '', usetls: false, influxdbVersion: '1.x' };
}

/**
 * Target 3: msgPerSec one-point messages into a write flow for `seconds`, then until all are stored.
 * CPU is this (the Node-RED) process's user + system time from the first message until the last point
 * is stored; the server (or sink) runs in the child and counts there.
 */
async function write(k: KairosChild, flavor: WriteFlavor, msgPerSec: number, seconds: number, outbox: boolean, maxBatchPoints: number | undefined, maxDelay: number | undefined): Promise<Record<string, unknown>> {
  const names = Array.from({ length: 10 }, (_, i) => `msg${i}`);
  let ourRequests = 0;
  if (flavor === 'ours') {
    // Settings left out of the node definition take the node's defaults (what a user dropping the node gets).
    const settings: Record<string, unknown> = { outbox };
    if (maxBatchPoints !== undefined) settings.maxBatchPoints = maxBatchPoints;
    if (maxDelay !== undefined) settings.maxDelay = maxDelay;
    // BENCH_REPORT=1: the node reports each request (not a default), so requests can be counted.
    const report = process.env.BENCH_REPORT === '1';
    await load([configNode(k.url, true), { id: 'w', type: 'proficloud-write', server: 'cfg', ...settings, ...(report ? { report: true, outputs: 1 } : {}), wires: report ? [['out']] : [] }, { id: 'out', type: 'helper' }]);
    await connected('w');
    if (report) helper.getNode('out').on('input', (msg) => (ourRequests += (msg.payload as { requests: number }).requests));
  } else {
    const peerFlow: Array<Record<string, unknown>> =
      flavor === 'influx-out'
        ? [influxConfig(k.influxUrl), { id: 'w', type: 'influxdb out', influxdb: 'icfg', measurement: '', precision: 'ms', retentionPolicy: '', wires: [] }]
        : [
            influxConfig(k.influxUrl),
            { id: 'w', type: 'join', mode: 'custom', build: 'array', property: 'payload', propertyType: 'msg', key: 'topic', joiner: '\\n', joinerType: 'str', accumulate: false, timeout: '1', count: '500', reduceRight: false, wires: [['b']] },
            { id: 'b', type: 'influxdb batch', influxdb: 'icfg', precision: 'ms', retentionPolicy: '', wires: [] },
          ];
    await helper.load([...nodeModules(), ...peerModules()], peerFlow);
    (helper as unknown as { _sandbox: { restore(): void } })._sandbox.restore();
    for (const id of ['w', 'b']) {
      const node = helper.getNode(id) as unknown as Record<string, { getCalls?: unknown }> | null;
      if (node && typeof node.send?.getCalls === 'function') node.send = Object.getPrototypeOf(node).send;
    }
  }
  await k.influxReset();
  await sleep(200);
  const w = helper.getNode('w');
  const total = msgPerSec * seconds;
  const tickMs = 10;
  const perTick = Math.round((msgPerSec * tickMs) / 1000);
  let sent = 0;
  let expectedSum = 0;
  (globalThis as { gc?: () => void }).gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  let heapPeak = heap0;
  const prof = profiler();
  const cpu0 = cpuMs();
  const meter = blockMeter();
  const t0 = Date.now();
  let maxLagMs = 0;
  // Feed on a fixed schedule: tick n is due at t0 + n * tickMs; a late tick shows up as lag.
  for (let tick = 0; sent < total; tick++) {
    const due = t0 + tick * tickMs;
    const wait = due - Date.now();
    if (wait > 0) await sleep(wait);
    else {
      maxLagMs = Math.max(maxLagMs, -wait);
      // Behind schedule: catch up tick by tick, each in its own event-loop turn (as a socket delivers
      // data), never as one synchronous burst of all overdue messages.
      await new Promise((r) => setImmediate(r));
    }
    if (tick % 50 === 0) heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    for (let i = 0; i < perTick && sent < total; i++, sent++) {
      const v = valueAt(1, sent);
      expectedSum += v;
      const ts = START_MS + sent;
      if (flavor === 'ours') w.receive({ payload: { [names[sent % 10]]: v }, timestamp: ts });
      else if (flavor === 'influx-out') w.receive({ measurement: names[sent % 10], payload: { value: v, time: new Date(ts) } });
      else w.receive({ payload: { measurement: names[sent % 10], fields: { value: v }, timestamp: new Date(ts) } });
    }
  }
  const feedMs = Date.now() - t0;
  // Until every point is stored, or nothing new arrived for 10 s (an overloaded memory queue drops its
  // oldest batches, and those points never come). Counted in the child, every 50 ms.
  const storedNow = async (): Promise<number> => (flavor === 'ours' ? (await k.count(START_MS, START_MS + total, names)).points : (await k.influx()).points);
  let stored = 0;
  let lastChange = Date.now();
  const hardEnd = Date.now() + 120_000;
  while (stored < total && Date.now() - lastChange < 10_000 && Date.now() < hardEnd) {
    await sleep(50);
    heapPeak = Math.max(heapPeak, process.memoryUsage().heapUsed);
    const now = await storedNow();
    if (now !== stored) lastChange = Date.now();
    stored = now;
  }
  const drainMs = (stored === total ? lastChange : Date.now()) - t0;
  const cpu = cpuMs() - cpu0;
  const maxBlockMs = meter.stop();
  await prof.stop();
  let lost = total - stored;
  if (flavor === 'ours') {
    const check = await k.count(START_MS, START_MS + total, names);
    if (check.points > total) throw new Error(`wrong answer: server holds ${check.points} points, more than the ${total} sent`);
    if (check.points === total && Math.abs(check.sum - expectedSum) > 1e-6 * Math.abs(expectedSum)) throw new Error(`wrong answer: sum ${check.sum}, expected ${expectedSum}`);
    lost = total - check.points;
  }
  const sink = await k.influx();
  const requests = flavor === 'ours' ? (process.env.BENCH_REPORT === '1' ? ourRequests : null) : sink.requests;
  await helper.unload();
  return {
    flavor,
    messages: total,
    outbox,
    maxBatchPoints: maxBatchPoints ?? null,
    maxDelay: maxDelay ?? null,
    offeredPerSec: msgPerSec,
    fedPerSec: total / (feedMs / 1000),
    maxFeedLagMs: maxLagMs,
    maxBlockMs,
    allStoredAfterMs: drainMs,
    afterFeedMs: drainMs - feedMs,
    lost,
    requests,
    pushRequests: requests ?? 0,
    pushRequestsPerSec: (requests ?? 0) / (drainMs / 1000),
    pointsPerRequest: requests ? total / requests : 0,
    nodeRedCpuMs: cpu,
    heapGrowthMB: (heapPeak - heap0) / 1048576,
  };
}

/** Resolves once the config node reports "connected" on node `id` (its status as the user sees it). */
async function connected(id: string): Promise<void> {
  const node = helper.getNode(id) as unknown as { status(s: { text?: string }): void };
  const status = node.status;
  let ok = false;
  node.status = function (this: unknown, s) {
    if (s && s.text === 'node-red:common.status.connected') ok = true;
    return status.call(this, s);
  };
  try {
    await until(() => ok, 10_000, 'the config node connected');
  } finally {
    node.status = status;
  }
}

/**
 * Target 3 of issue 14: one query of metrics × pointsPerMetric points (seeded inside the server's
 * process) into msg.payload with the node's defaults except the output mode; time and CPU from the
 * input msg to the output msg, the longest event-loop block meanwhile, and the same response's bare
 * JSON.parse in this process as the yardstick.
 */
async function queryOnce(k: KairosChild, pointsPerMetric: number, metrics: number, output: string): Promise<Record<string, unknown>> {
  await k.seed('q', metrics, pointsPerMetric);
  const names = Array.from({ length: metrics }, (_, m) => `q${m}`);
  const end = START_MS + pointsPerMetric * 1000 - 1;
  await load([
    configNode(k.url, true),
    { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: names.join(','), metricsType: 'str', start: String(START_MS), startType: 'num', end: String(end), endType: 'num', output, wires: [['out']] },
    { id: 'out', type: 'helper' },
  ]);
  // As in a deployed flow, the config node's first probe (which loads the service clients on first use)
  // is done before the query comes: the measurement is the query, not the modules' loading.
  await connected('q');
  // Series mode answers with one message per metric: the answer is complete when the last one is in.
  const expected = output === 'series' ? metrics : 1;
  const received: Array<Record<string, unknown>> = [];
  let got: Record<string, unknown> | undefined;
  helper.getNode('out').on('input', (msg) => {
    received.push(msg);
    if (received.length === expected) got = received[0];
  });
  // The yardstick: the same response, fetched once, parsed by JSON.parse.
  const res = await fetch(`${k.url}/api/v1/datapoints/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ start_absolute: START_MS, end_absolute: end, metrics: names.map((name) => ({ name })) }) });
  const bytes = Buffer.from(await res.arrayBuffer());
  (globalThis as { gc?: () => void }).gc?.();
  let t = performance.now();
  const parseCpu0 = cpuMs();
  const parsed = JSON.parse(bytes.toString()) as { queries: unknown[] };
  const jsonParseMs = performance.now() - t;
  // Its CPU time too: unlike the wall time, not stretched by other load on the machine.
  const jsonParseCpuMs = cpuMs() - parseCpu0;
  if (parsed.queries.length !== metrics) throw new Error('wrong answer: yardstick response');
  (globalThis as { gc?: () => void }).gc?.();
  const rss0 = process.memoryUsage().rss;
  let rssPeak = rss0;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)), 5);
  const cpu0 = cpuMs();
  const meter = blockMeter(true);
  t = performance.now();
  helper.getNode('q').receive({});
  await until(() => got !== undefined, 120_000, 'query output');
  const ms = performance.now() - t;
  const cpu = cpuMs() - cpu0;
  const maxBlockMs = meter.stop();
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
  const payload = got!.payload as unknown[];
  let values = 0;
  if (output === 'rows') for (const r of payload as Array<Record<string, unknown>>) for (const key in r) if (key !== 'Timestamp' && r[key] !== null) values++;
  if (output === 'chart') values = payload.length;
  if (output === 'series') values = pointsPerMetric * metrics; // one message per series; the first is checked below
  if (output === 'series') for (const m of received) if ((m.payload as unknown[]).length !== pointsPerMetric) throw new Error(`wrong answer: series of ${(m.payload as unknown[]).length} points`);
  if (received.length !== expected) throw new Error(`wrong answer: ${received.length} messages, expected ${expected}`);
  if (output !== 'series' && values !== pointsPerMetric * metrics) throw new Error(`wrong answer: ${values} values in msg.payload, expected ${pointsPerMetric * metrics}`);
  await helper.unload();
  return { output, points: pointsPerMetric * metrics, responseBytes: bytes.length, ms, cpuMs: cpu, jsonParseMs, jsonParseCpuMs, ratio: ms / jsonParseMs, maxBlockMs, maxBlockCpuMs: meter.cpuMax(), peakRssGrowth: rssPeak - rss0 };
}

/** Target 5: a paged query over metrics x pointsPerMetric points; peak RSS of this (the Node-RED) process. */
async function paged(k: KairosChild, pointsPerMetric: number, metrics: number, pageSize: string): Promise<Record<string, unknown>> {
  // Seeded inside the server's process, so this process holds nothing but Node-RED and the nodes.
  await k.seed('big', metrics, pointsPerMetric);
  (globalThis as { gc?: () => void }).gc?.();
  const rssBefore = process.memoryUsage().rss;
  const names = Array.from({ length: metrics }, (_, m) => `big${m}`).join(',');
  await load([
    configNode(k.proxyUrl),
    {
      id: 'q', type: 'proficloud-query', server: 'cfg', metrics: names, metricsType: 'str', start: String(START_MS), startType: 'num',
      end: String(START_MS + pointsPerMetric * 1000 - 1), endType: 'num', output: 'rows', tsFormat: 'ms', dropTrailing: false, order: 'asc',
      aggMode: 'list', aggregators: [], paged: true, pageSize, onDemand: true, wires: [['out']],
    },
    { id: 'out', type: 'helper' },
  ]);
  let rows = 0;
  let cells = 0;
  let pages = 0;
  let count = -1;
  let sampled = 0;
  helper.getNode('out').on('input', (msg) => {
    const payload = msg.payload as Array<Record<string, unknown>>;
    rows += payload.length;
    for (const r of payload) for (const key in r) if (key !== 'Timestamp' && r[key] !== null) cells++;
    pages++;
    count = (msg.parts as { count: number }).count;
    sampled = Math.max(sampled, process.memoryUsage().rss);
    if (process.env.BENCH_TRACE_PAGES) {
      (globalThis as { gc?: () => void }).gc?.();
      process.stderr.write(`page ${pages}/${count}: heap ${(process.memoryUsage().heapUsed / 1048576).toFixed(0)} MB, buffers ${(process.memoryUsage().arrayBuffers / 1048576).toFixed(0)} MB, rss ${(process.memoryUsage().rss / 1048576).toFixed(0)} MB\n`);
    }
  });
  await k.reset();
  const t0 = process.hrtime.bigint();
  const q = helper.getNode('q');
  q.receive({});
  await until(() => pages >= 1, 120_000, 'first page');
  while (pages < count) {
    const want = pages + 1;
    q.receive({ next: true });
    await until(() => pages >= want, 120_000, `page ${want}`);
  }
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  const total = pointsPerMetric * metrics;
  if (cells !== total) throw new Error(`wrong answer: ${cells} values in pages, expected ${total}`);
  if (rows !== pointsPerMetric) throw new Error(`wrong answer: ${rows} rows, expected ${pointsPerMetric}`);
  const proxy = await k.stats();
  await helper.unload();
  return {
    points: total,
    pages,
    pageSize,
    ms,
    pointsPerSec: total / (ms / 1000),
    responseBytes: proxy.responseBytes,
    rssBeforeQuery: rssBefore,
    peakRss: process.resourceUsage().maxRSS * 1024,
    peakRssSampled: sampled,
  };
}

async function main(): Promise<void> {
  const [scenario, a, b, c, d] = process.argv.slice(2);
  await new Promise<void>((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
  const k = await startKairosChild();
  try {
    let out: Record<string, unknown>;
    if (scenario === 'batch') {
      // batch <rows> <columns> <outbox 0|1> [batchSize|-] [ours|influx-batch] [rows|csv]
      const flavor = (process.argv[7] ?? 'ours') as 'ours' | 'influx-batch';
      out = await batch(k, Number(a), Number(b), c === '1', d === undefined || d === '-' ? undefined : Number(d), flavor, process.argv[8] === 'csv' ? 'csv' : 'rows');
    }
    else if (scenario === 'write') {
      // write <flavor> <msgPerSec> <seconds> <outbox 0|1> [maxBatchPoints|-] [maxDelay s|-]
      const [, flavor, rate, secs, ob, mbp, md] = process.argv.slice(2);
      const opt = (v: string | undefined): number | undefined => (v === undefined || v === '-' ? undefined : Number(v));
      out = await write(k, flavor as WriteFlavor, Number(rate), Number(secs), ob === '1', opt(mbp), opt(md));
    }
    else if (scenario === 'paged') out = await paged(k, Number(a), Number(b), c);
    else if (scenario === 'query') out = await queryOnce(k, Number(a), Number(b), c);
    else throw new Error('usage: nodes.ts batch|write|paged ...');
    process.stdout.write(JSON.stringify(out) + '\n');
  } finally {
    await k.close();
    await new Promise<void>((resolve) => helper.stopServer(() => resolve()));
    rmSync(userDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
