/**
 * Target 4: what one poll of the stream node costs as the buffer window fills, incremental against
 * whole-window mode. The node's own pieces (KairosConnector.querySeries, IncrementalPoller, the rows
 * table) run on a simulated clock, so ten minutes of one-second polls take seconds; the server runs in
 * a child process and its counting proxy measures the bytes each poll moves.
 * With a late-data horizon: the same polls in steady state (the stream ran for the whole horizon), and
 * what a 1 h backlog of 10 series arriving late costs until each of its points is emitted once.
 * `node --import tsx bench/stream.ts <metrics> <windowSeconds> <polls> [horizonSeconds]` prints one JSON line.
 */
import { KairosConnector } from '../src/kairos/connector';
import { IncrementalPoller, kairosCount, type StreamMode } from '../src/stream';
import { tableFromSeries } from '../src/table/table-builder';
import { START_MS, valueAt } from './gen.mjs';
import { startKairosChild, type KairosChild } from './kairos-process';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function push(url: string, prefix: string, metrics: number, fromSec: number, toSec: number): Promise<void> {
  const body = [];
  for (let m = 0; m < metrics; m++) {
    const datapoints: Array<[number, number]> = [];
    for (let s = fromSec; s < toSec; s++) datapoints.push([START_MS + s * 1000, valueAt(m, s)]);
    body.push({ name: `${prefix}${m}`, tags: { host: 'bench' }, type: 'double', datapoints });
  }
  const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  if (res.status !== 204) throw new Error(`push: HTTP ${res.status}`);
}

interface RunOptions {
  /** Late-data horizon (s); 0 = off. */
  horizonSec: number;
  /** Polls before the measured ones, so a horizon is full (steady state). */
  warmPolls: number;
}

async function run(k: KairosChild, mode: StreamMode, metrics: number, windowSec: number, polls: number, o: RunOptions = { horizonSec: 0, warmPolls: 0 }): Promise<Record<string, number>> {
  const prefix = `st_${mode}_${o.horizonSec}_`;
  // The window is full before the first measured poll: windowSec seconds of history.
  await push(k.url, prefix, metrics, 0, windowSec);
  let nowSec = windowSec;
  const connector = new KairosConnector({ baseUrl: k.proxyUrl, timeoutMs: 30_000 });
  const names = Array.from({ length: metrics }, (_, m) => `${prefix}${m}`);
  const poller = new IncrementalPoller({
    fetch: (range, signal) => connector.querySeries({ metrics: names, startAbsolute: range.start, endAbsolute: range.end }, signal),
    windowMs: windowSec * 1000,
    mode,
    now: () => START_MS + nowSec * 1000 - 1,
    ...(o.horizonSec > 0 ? { horizonMs: o.horizonSec * 1000, count: kairosCount(connector, () => ({ metrics: names })) } : {}),
  });
  // As the node with "remember position": each poll's change goes to a journal, a snapshot now and then.
  poller.startJournal();
  const journal: number[] = [];
  const bytes: number[] = [];
  const cpu: number[] = [];
  const points: number[] = [];
  let emitted = 0;
  let late = 0;
  for (let p = 0; p < o.warmPolls + polls; p++) {
    // One new point per metric per second, then the poll a second later.
    await push(k.url, prefix, metrics, nowSec, nowSec + 1);
    nowSec++;
    const measured = p === 0 || p >= o.warmPolls;
    const before = measured ? await k.stats() : undefined;
    const c0 = cpuMs();
    const result = await poller.poll();
    const rows = tableFromSeries(result.series, { dropTrailingNa: false }).rows;
    late += result.latePoints;
    const record = JSON.stringify(poller.takeDelta()).length;
    if (!measured) continue;
    if (p > 0) journal.push(record);
    cpu.push(cpuMs() - c0);
    const after = await k.stats();
    bytes.push(after.responseBytes - before!.responseBytes + after.requestBytes - before!.requestBytes);
    points.push(result.points);
    if (p > 0) emitted += result.points;
    if (rows.length === 0 && result.points > 0) throw new Error('wrong answer: points but no rows');
  }
  await connector.close();
  if (late > 0) throw new Error(`wrong answer: ${late} late points where none were written`);
  const c1 = cpuMs();
  const positionBytes = JSON.stringify(poller.position).length;
  const positionCpuMs = cpuMs() - c1;
  // The first poll reads the whole history in both modes; from then on incremental reads new points only.
  const steady = { bytes: bytes.slice(1), cpu: cpu.slice(1), points: points.slice(1) };
  const expectedPerPoll = mode === 'incremental' ? metrics : metrics * windowSec;
  const perPoll = median(steady.points);
  if (Math.abs(perPoll - expectedPerPoll) > metrics) throw new Error(`wrong answer: ${mode} poll returned ${perPoll} points, expected about ${expectedPerPoll}`);
  return {
    firstPollBytes: bytes[0],
    bytesPerPoll: median(steady.bytes),
    // With a horizon the count query runs every 30 polls: the mean carries its share.
    meanBytesPerPoll: mean(steady.bytes),
    lastPollBytes: bytes[bytes.length - 1],
    cpuMsPerPoll: median(steady.cpu),
    meanCpuMsPerPoll: mean(steady.cpu),
    pointsPerPoll: perPoll,
    emittedAfterFirst: emitted,
    // What the node writes to its state file after each poll (persist on), and the CPU to serialise it.
    positionBytes,
    positionCpuMs,
    journalBytesPerPoll: mean(journal),
  };
}

/**
 * A stream with a 1 h horizon in steady state, then a second gateway's 1 h backlog of `series` series
 * (same metrics, other tags: one point per second each) arrives at once: what it costs until every
 * late point is emitted, once.
 */
async function lateBacklog(k: KairosChild, metrics: number, series: number, horizonSec: number): Promise<Record<string, number>> {
  const prefix = 'st_late_';
  const names = Array.from({ length: metrics }, (_, m) => `${prefix}${m}`);
  let nowSec = horizonSec + 600;
  // Gateway 1 ran all along; the stream has been polling for the whole horizon.
  await push(k.url, prefix, metrics, 0, nowSec);
  const connector = new KairosConnector({ baseUrl: k.proxyUrl, timeoutMs: 30_000 });
  const poller = new IncrementalPoller({
    fetch: (range, signal) => connector.querySeries({ metrics: names, startAbsolute: range.start, endAbsolute: range.end }, signal),
    count: kairosCount(connector, () => ({ metrics: names })),
    // A window as long as the horizon: the first polls read the whole hour, as if the stream had run that long.
    windowMs: horizonSec * 1000,
    horizonMs: horizonSec * 1000,
    now: () => START_MS + nowSec * 1000 - 1,
  });
  while ((await poller.poll()).more);
  for (let i = 0; i < 31; i++) {
    await push(k.url, prefix, metrics, nowSec, nowSec + 1);
    nowSec++;
    await poller.poll();
  }
  // The backlog: `series` series of the first metric, one point per second over the last horizon (offset so no timestamp collides).
  const body = [];
  for (let g = 0; g < series; g++) {
    const datapoints: Array<[number, number]> = [];
    for (let s = nowSec - horizonSec + 60; s < nowSec - 60; s++) datapoints.push([START_MS + s * 1000 + 1 + g, g]);
    body.push({ name: names[0], tags: { host: `gateway2-${g}` }, type: 'double', datapoints });
  }
  const backlog = body.reduce((n, b) => n + b.datapoints.length, 0);
  const res = await fetch(`${k.url}/api/v1/datapoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  await res.arrayBuffer();
  const before = await k.stats();
  const c0 = cpuMs();
  let late = 0;
  let polls = 0;
  let maxMessage = 0;
  const t0 = Date.now();
  while (late < backlog && polls < 200) {
    await push(k.url, prefix, metrics, nowSec, nowSec + 1);
    nowSec++;
    const r = await poller.poll();
    late += r.latePoints;
    maxMessage = Math.max(maxMessage, r.points);
    polls++;
  }
  const cpu = cpuMs() - c0;
  const after = await k.stats();
  await connector.close();
  if (late !== backlog) throw new Error(`wrong answer: ${late} late points emitted, ${backlog} written`);
  return {
    backlogPoints: backlog,
    polls,
    bytes: after.responseBytes - before.responseBytes + after.requestBytes - before.requestBytes,
    clientCpuMs: cpu,
    wallMs: Date.now() - t0,
    largestPoll: maxMessage,
    trackedTimestamps: poller.trackedTimestamps,
  };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
}

export async function benchStream(metrics: number, windowSec: number, polls: number, horizonSec = 3600): Promise<Record<string, unknown>> {
  const k = await startKairosChild();
  try {
    const incremental = await run(k, 'incremental', metrics, windowSec, polls);
    const window = await run(k, 'window', metrics, windowSec, polls);
    // Steady state: the stream has run for the whole horizon before the measured polls.
    const horizon = await run(k, 'incremental', metrics, windowSec, polls, { horizonSec, warmPolls: horizonSec });
    const backlog = await lateBacklog(k, metrics, 10, horizonSec);
    return { metrics, windowSec, polls, horizonSec, incremental, window, horizon, backlog };
  } finally {
    await k.close();
  }
}

if (require.main === module) {
  const [m, w, p, h] = process.argv.slice(2).map(Number);
  benchStream(m, w, p, h || 3600).then(
    (out) => process.stdout.write(JSON.stringify(out) + '\n'),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
