/**
 * Target 2: rows -> KairosDB push payload (explicit types) and gzip, points per second on one core.
 * Run by scripts/bench.mjs: `node --expose-gc --import tsx bench/write.ts <rows> <columns> <reps>`.
 * Prints one JSON line. Every payload is parsed back and its point count and value sum checked.
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { DEFAULT_MAX_POINTS_PER_REQUEST } from '../src/kairos/connector';
import { columnsFromRows, gzipPush, metricsFromRows, serializeColumnsToBuffer, serializePush, serializePushToBuffer, splitPush, type ColumnPiece, type DoubleColumns } from '../src/kairos/push-body';
import type { KairosPushMetric, Row } from '../src/types';
import { pushRows, valueAt } from './gen.mjs';

const TAGS = { host: 'plc1' };

/** What the issue calls "building payload objects + JSON.stringify": no checks, no explicit double text. */
function naivePayload(rows: Row[]): string {
  const byName = new Map<string, KairosPushMetric & { datapoints: Array<[number, number]> }>();
  for (const row of rows) {
    for (const [k, v] of Object.entries(row)) {
      if (k === 'Timestamp' || v === null) continue;
      let m = byName.get(k);
      if (!m) byName.set(k, (m = { name: k, tags: TAGS, type: 'double', datapoints: [] }));
      m.datapoints.push([row.Timestamp as number, v as number]);
    }
  }
  return JSON.stringify([...byName.values()]);
}

/**
 * The request bodies of the batch node's path: column series cut into requests of perRequest points
 * across series, as the write queue cuts a table into records.
 */
function columnBodies(columns: readonly DoubleColumns[], perRequest: number): Buffer[] {
  const out: Buffer[] = [];
  let pieces: ColumnPiece[] = [];
  let n = 0;
  for (const c of columns) {
    for (let from = 0; from < c.length; ) {
      const take = Math.min(perRequest - n, c.length - from);
      pieces.push({ columns: c, from, to: from + take });
      n += take;
      from += take;
      if (n === perRequest) {
        out.push(serializeColumnsToBuffer(pieces));
        pieces = [];
        n = 0;
      }
    }
  }
  if (n > 0) out.push(serializeColumnsToBuffer(pieces));
  return out;
}

function check(texts: string | Buffer | Array<string | Buffer>, rows: number, columns: number, expectedSum: number): void {
  let points = 0;
  let sum = 0;
  for (const text of Array.isArray(texts) ? texts : [texts]) {
    for (const m of JSON.parse(text.toString()) as KairosPushMetric[]) {
      if (m.type !== 'double') throw new Error(`wrong answer: metric ${m.name} has type ${m.type}`);
      for (const p of m.datapoints ?? []) {
        points++;
        sum += p[1] as number;
      }
    }
  }
  if (points !== rows * columns) throw new Error(`wrong answer: ${points} points, expected ${rows * columns}`);
  if (Math.abs(sum - expectedSum) > 1e-6 * Math.max(1, Math.abs(expectedSum))) throw new Error(`wrong answer: sum ${sum}, expected ${expectedSum}`);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function timed<T>(f: () => T): [T, number] {
  gc();
  const t0 = process.hrtime.bigint();
  const out = f();
  return [out, Number(process.hrtime.bigint() - t0) / 1e6];
}

async function timedAsync<T>(f: () => Promise<T>): Promise<[T, number]> {
  gc();
  const t0 = process.hrtime.bigint();
  const out = await f();
  return [out, Number(process.hrtime.bigint() - t0) / 1e6];
}

/** Payload sizes of the last run: plain JSON and gzip at the default level 6 and at level 1 (what the HTTP client sends). */
export const gzipSizes = { plain: 0, level6: 0, level1: 0 };

export async function benchWrite(rowCount: number, columns: number, reps: number): Promise<Record<string, { ms: number; pointsPerSec: number; ratio: number }>> {
  const rows = pushRows(rowCount, columns) as Row[];
  let expectedSum = 0;
  for (let c = 0; c < columns; c++) for (let i = 0; i < rowCount; i++) expectedSum += valueAt(c, i);
  const points = rowCount * columns;
  const times: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  const record = (name: string, ms: number, base: number): void => {
    (times[name] ??= []).push(ms);
    (ratios[name] ??= []).push(ms / base);
  };
  for (let r = 0; r < reps; r++) {
    const [naive, tNaive] = timed(() => naivePayload(rows));
    const [built, tBuild] = timed(() => metricsFromRows(rows, { tags: TAGS }));
    const [text, tSer] = timed(() => serializePush(built.metrics));
    const [bytes, tBuf] = timed(() => serializePushToBuffer(built.metrics));
    const [requests, tReq] = timed(() => splitPush(built.metrics, DEFAULT_MAX_POINTS_PER_REQUEST).map(serializePush));
    const [cols, tCols] = timed(() => columnsFromRows(rows, { tags: TAGS }));
    const [bodies, tBodies] = timed(() => columnBodies(cols.columns ?? [], DEFAULT_MAX_POINTS_PER_REQUEST));
    const [zipped, tZip] = await timedAsync(() => gzipPush(text));
    const [zipped1, tZip1] = timed(() => gzipSync(bytes, { level: 1 }));
    check(naive, rowCount, columns, expectedSum);
    check(text, rowCount, columns, expectedSum);
    check(bytes, rowCount, columns, expectedSum);
    check(bodies, rowCount, columns, expectedSum);
    let requestPoints = 0;
    for (const body of requests) for (const m of JSON.parse(body) as KairosPushMetric[]) requestPoints += m.datapoints?.length ?? 0;
    if (requestPoints !== points) throw new Error(`wrong answer: ${requestPoints} points in requests, expected ${points}`);
    if (built.rejected !== 0) throw new Error(`wrong answer: ${built.rejected} points rejected`);
    if (zipped.length === 0) throw new Error('wrong answer: empty gzip');
    if (!gunzipSync(zipped1).equals(bytes)) throw new Error('wrong answer: level-1 gzip does not inflate to the payload');
    Object.assign(gzipSizes, { plain: bytes.length, level6: zipped.length, level1: zipped1.length });
    record('objects + JSON.stringify (baseline)', tNaive, tNaive);
    record('metricsFromRows (build)', tBuild, tNaive);
    record('serializePush (string)', tSer, tNaive);
    record('serializePushToBuffer', tBuf, tNaive);
    record('build + serializePush', tBuild + tSer, tNaive);
    record(`splitPush + serializePush per ${DEFAULT_MAX_POINTS_PER_REQUEST}-point request`, tReq, tNaive);
    record('build + per-request serializePush', tBuild + tReq, tNaive);
    record("columnsFromRows (build, the batch node's path)", tCols, tNaive);
    record(`serializeColumnsToBuffer per ${DEFAULT_MAX_POINTS_PER_REQUEST}-point request`, tBodies, tNaive);
    record('columns: build + per-request serialise', tCols + tBodies, tNaive);
    record('gzipPush (zlib default level 6)', tZip, tNaive);
    record('gzip level 1 (what the HTTP client sends)', tZip1, tNaive);
  }
  const out: Record<string, { ms: number; pointsPerSec: number; ratio: number }> = {};
  for (const [name, ts] of Object.entries(times)) {
    const ms = median(ts);
    out[name] = { ms, pointsPerSec: points / (ms / 1000), ratio: median(ratios[name]) };
  }
  return out;
}

async function main(): Promise<void> {
  const [rowsArg, colsArg, repsArg] = process.argv.slice(2);
  const results = await benchWrite(Number(rowsArg), Number(colsArg), Number(repsArg));
  process.stdout.write(JSON.stringify({ points: Number(rowsArg) * Number(colsArg), results, gzipSizes }) + '\n');
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  });
}
