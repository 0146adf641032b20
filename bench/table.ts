/**
 * Target 1: query response bytes -> table (fill + trailing drop), against a bare JSON.parse of the same
 * bytes. Run by scripts/bench.mjs in child processes (node --expose-gc --import tsx):
 *   time   <file> <metrics> <points> <reps>   all methods interleaved, medians and per-run ratios
 *   memory <file> <metrics> <points> <method> one method, peak RSS growth over the loaded bytes
 * Prints one JSON line. Every timed result is checked against gen.mjs's expected figures first.
 */
import { readFileSync } from 'node:fs';
import { columnarTableFromBytes, rowsFromQueryResponse, type ColumnarTable } from '../src/table/table-builder';
import type { Row, TableOptions } from '../src/types';
import { expectedTable, queryResponse, START_MS } from './gen.mjs';
import { rowsFromQueryResponse as previousRows } from './baseline/table-seed';
import { mapRows } from './map-baseline.mjs';

type Expected = ReturnType<typeof expectedTable>;

/** Timed options: the fill pass and the trailing-drop check both run. */
const OPTS: TableOptions = { fillNaMethod: 'ffill', dropTrailingNa: true };

function near(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}

function fail(what: string): never {
  throw new Error(`wrong answer: ${what}`);
}

export function checkColumnar(t: ColumnarTable, rows: number, sums: number[]): void {
  if (t.rowCount !== rows || t.timestamps.length !== rows) fail(`columnar rows ${t.rowCount}, expected ${rows}`);
  if (t.timestamps[0] !== START_MS) fail(`first timestamp ${t.timestamps[0]}`);
  for (let i = 1; i < rows; i++) if (!(t.timestamps[i] > t.timestamps[i - 1])) fail(`timestamps not ascending at row ${i}`);
  sums.forEach((want, c) => {
    const col = t.cells[c];
    let s = 0;
    for (let i = 0; i < rows; i++) {
      const v = col[i] as number;
      if (v === v) s += v; // missing cells (NaN) are not in the expected sums
    }
    if (!near(s, want)) fail(`columnar sum of m${c} ${s}, expected ${want}`);
  });
}

export function checkRows(rows: Row[], count: number, sums: number[]): void {
  if (rows.length !== count) fail(`rows ${rows.length}, expected ${count}`);
  sums.forEach((want, c) => {
    let s = 0;
    const key = `m${c}`;
    for (const r of rows) s += (r[key] as number | null) ?? 0;
    if (!near(s, want)) fail(`row sum of ${key} ${s}, expected ${want}`);
  });
}

export const METHODS: Record<string, (buf: Buffer, exp: Expected) => void> = {
  'JSON.parse': (buf) => {
    const o = JSON.parse(buf.toString('utf8')) as { queries: unknown[] };
    if (!Array.isArray(o.queries)) fail('JSON.parse');
  },
  columnar: (buf, exp) => checkColumnar(columnarTableFromBytes(buf, OPTS), exp.keptRows, exp.ffillSums),
  rows: (buf, exp) => checkRows(rowsFromQueryResponse(buf, OPTS), exp.keptRows, exp.ffillSums),
  'Map of rows': (buf, exp) => checkRows(mapRows(buf, OPTS) as Row[], exp.keptRows, exp.ffillSums),
  'previous rowsFromQueryResponse': (buf, exp) => checkRows(previousRows(buf, OPTS), exp.keptRows, exp.ffillSums),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** All methods, interleaved and rotated so drift on a busy machine hits them alike. */
export function timeAll(buf: Buffer, exp: Expected, reps: number, methods = Object.keys(METHODS)): Record<string, { ms: number; ratio: number }> {
  // Untimed: the default options (no fill) cut the row the odd metrics add after the even ones end.
  checkColumnar(columnarTableFromBytes(buf), exp.keptRows, exp.sums);
  const times: Record<string, number[]> = {};
  const ratios: Record<string, number[]> = {};
  for (const m of methods) {
    times[m] = [];
    ratios[m] = [];
  }
  for (let r = 0; r < reps; r++) {
    const order = methods.map((_, i) => methods[(i + r) % methods.length]);
    const run: Record<string, number> = {};
    for (const m of order) {
      // No forced gc() here: code runs slower right after a full collection, which hurt the small
      // sizes of every JS method but not the native JSON.parse; rotation spreads leftover garbage evenly.
      const t0 = process.hrtime.bigint();
      METHODS[m](buf, exp);
      run[m] = Number(process.hrtime.bigint() - t0) / 1e6;
    }
    for (const m of methods) {
      times[m].push(run[m]);
      ratios[m].push(run[m] / run['JSON.parse']);
    }
  }
  const out: Record<string, { ms: number; ratio: number }> = {};
  for (const m of methods) out[m] = { ms: median(times[m]), ratio: median(ratios[m]) };
  return out;
}

/** Peak RSS growth while one method runs once, after loading the bytes and warming up on a small response. */
export function peakMemory(buf: Buffer, exp: Expected, method: string): { peakDeltaBytes: number } {
  const small = queryResponse(2, 2000);
  const smallExp = expectedTable(2, 2000);
  for (let i = 0; i < 3; i++) METHODS[method](small, smallExp);
  gc();
  gc();
  const before = process.memoryUsage().rss;
  METHODS[method](buf, exp);
  const peak = process.resourceUsage().maxRSS * 1024;
  return { peakDeltaBytes: Math.max(0, peak - before) };
}

function main(): void {
  const [mode, file, metricsArg, pointsArg, extra] = process.argv.slice(2);
  const metrics = Number(metricsArg);
  const points = Number(pointsArg);
  const buf = readFileSync(file);
  const exp = expectedTable(metrics, points);
  if (mode === 'time') {
    const methods = process.env.BENCH_TABLE_METHODS ? process.env.BENCH_TABLE_METHODS.split(',') : undefined;
    process.stdout.write(JSON.stringify({ bytes: buf.length, results: timeAll(buf, exp, Number(extra), methods) }) + '\n');
  } else if (mode === 'memory') {
    process.stdout.write(JSON.stringify({ bytes: buf.length, ...peakMemory(buf, exp, extra) }) + '\n');
  } else {
    throw new Error(`usage: table.ts time|memory <file> <metrics> <points> <reps|method>`);
  }
}

if (require.main === module) main();
