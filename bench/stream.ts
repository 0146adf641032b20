/**
 * Target 4: what one poll of the stream node costs as the buffer window fills, incremental against
 * whole-window mode. The node's own pieces (KairosConnector.querySeries, IncrementalPoller, the rows
 * table) run on a simulated clock, so ten minutes of one-second polls take seconds; the server runs in
 * a child process and its counting proxy measures the bytes each poll moves.
 * `node --import tsx bench/stream.ts <metrics> <windowSeconds> <polls>` prints one JSON line.
 */
import { KairosConnector } from '../src/kairos/connector';
import { IncrementalPoller, type StreamMode } from '../src/stream';
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

async function run(k: KairosChild, mode: StreamMode, metrics: number, windowSec: number, polls: number): Promise<Record<string, number>> {
  const prefix = `st_${mode}_`;
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
  });
  const bytes: number[] = [];
  const cpu: number[] = [];
  const points: number[] = [];
  let emitted = 0;
  for (let p = 0; p < polls; p++) {
    // One new point per metric per second, then the poll a second later.
    await push(k.url, prefix, metrics, nowSec, nowSec + 1);
    nowSec++;
    const before = await k.stats();
    const c0 = cpuMs();
    const result = await poller.poll();
    const rows = tableFromSeries(result.series, { dropTrailingNa: false }).rows;
    cpu.push(cpuMs() - c0);
    const after = await k.stats();
    bytes.push(after.responseBytes - before.responseBytes + after.requestBytes - before.requestBytes);
    points.push(result.points);
    if (p > 0) emitted += result.points;
    if (rows.length === 0 && result.points > 0) throw new Error('wrong answer: points but no rows');
  }
  await connector.close();
  // The first poll reads the whole history in both modes; from then on incremental reads new points only.
  const steady = { bytes: bytes.slice(1), cpu: cpu.slice(1), points: points.slice(1) };
  const expectedPerPoll = mode === 'incremental' ? metrics : metrics * windowSec;
  const perPoll = median(steady.points);
  if (Math.abs(perPoll - expectedPerPoll) > metrics) throw new Error(`wrong answer: ${mode} poll returned ${perPoll} points, expected about ${expectedPerPoll}`);
  return {
    firstPollBytes: bytes[0],
    bytesPerPoll: median(steady.bytes),
    lastPollBytes: bytes[bytes.length - 1],
    cpuMsPerPoll: median(steady.cpu),
    pointsPerPoll: perPoll,
    emittedAfterFirst: emitted,
  };
}

export async function benchStream(metrics: number, windowSec: number, polls: number): Promise<Record<string, unknown>> {
  const k = await startKairosChild();
  try {
    const incremental = await run(k, 'incremental', metrics, windowSec, polls);
    const window = await run(k, 'window', metrics, windowSec, polls);
    return { metrics, windowSec, polls, incremental, window };
  } finally {
    await k.close();
  }
}

if (require.main === module) {
  const [m, w, p] = process.argv.slice(2).map(Number);
  benchStream(m, w, p).then(
    (out) => process.stdout.write(JSON.stringify(out) + '\n'),
    (err: unknown) => {
      process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}
