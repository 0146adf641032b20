/**
 * Reads a KairosDB query response straight from its bytes: the small parts (name, tags, group_by) are
 * parsed as usual, the values arrays are scanned into typed arrays without creating a JS array per point.
 * Needs about 16 bytes per point where JSON.parse needs a heap array and often a heap number per point.
 *
 * Throws NotScannable for anything outside the documented shape (including invalid JSON); the caller
 * then parses the usual way, so error messages and odd shapes behave exactly as before.
 */
import { PointBuilder, type PointColumns } from './point-columns';
import type { ResultHead } from './column-names';
import { ByteScanner } from './byte-scanner';
import { drain, SLICE_UNITS, type Steps } from '../util/slices';

export interface ScannedResult extends ResultHead {
  points: PointColumns;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;

/** Results of each query, in response order. */
export function scanQueryResponse(bytes: Buffer): ScannedResult[][] {
  return drain(scanQueryResponseSteps(bytes));
}

/** scanQueryResponse in steps (see src/util/slices.ts): it pauses every SLICE_UNITS points. */
export function* scanQueryResponseSteps(bytes: Buffer): Steps<ScannedResult[][]> {
  const s = new ByteScanner(bytes);
  const b = new PointBuilder();
  let queries: ScannedResult[][] | undefined;
  yield* eachMember(s, function* (key) {
    if (key === 'queries') queries = yield* eachElement(s, () => scanQuery(s, b));
    else s.value();
  });
  if (s.peek() !== -1) s.fail('trailing content');
  return queries ?? s.fail('no "queries" array');
}

function* scanQuery(s: ByteScanner, b: PointBuilder): Steps<ScannedResult[]> {
  let results: ScannedResult[] | undefined;
  yield* eachMember(s, function* (key) {
    if (key === 'results') results = yield* eachElement(s, () => scanResult(s, b));
    else s.value();
  });
  return results ?? s.fail('query without "results"');
}

function* scanResult(s: ByteScanner, b: PointBuilder): Steps<ScannedResult> {
  let name: unknown;
  let groupBy: unknown;
  let tags: unknown;
  let points: PointColumns | undefined;
  yield* eachMember(s, function* (key) {
    if (key === 'values') points = yield* scanValues(s, b);
    else if (key === 'name') name = s.value();
    else if (key === 'group_by') groupBy = s.value();
    else if (key === 'tags') tags = s.value();
    else s.value();
  });
  if (typeof name !== 'string') s.fail('result without a name');
  const out: ScannedResult = { name, points: points ?? { length: 0, ts: new Float64Array(0), num: new Float64Array(0) } };
  if (groupBy !== undefined) out.group_by = groupBy as ResultHead['group_by'];
  if (tags !== undefined) out.tags = tags as ResultHead['tags'];
  return out;
}

/** `[[ts, value], ...]` with number, null or string values, read with the scan's one (empty) builder. */
function* scanValues(s: ByteScanner, b: PointBuilder): Steps<PointColumns> {
  s.expect(OPEN_ARRAY);
  if (s.peek() === CLOSE_ARRAY) {
    s.pos++;
    return b.take();
  }
  while (!scanPoints(s, b, SLICE_UNITS)) yield;
  return b.take();
}

/**
 * Up to `max` points of a values array whose "[" is behind the scanner; true when its "]" was read.
 * A plain function, so the hot loop is compiled as one (the generator above only resumes it).
 */
function scanPoints(s: ByteScanner, b: PointBuilder, max: number): boolean {
  for (let n = 0; n < max; n++) {
    s.expect(OPEN_ARRAY);
    s.peek();
    const t = s.number();
    s.expect(COMMA);
    const c = s.peek();
    if (c === QUOTE) b.addOther(t, s.string());
    else if (c === 0x6e) {
      if (!s.literal('null')) s.fail('expected a value');
      b.addOther(t, null);
    } else b.addNumber(t, s.number());
    s.expect(CLOSE_ARRAY);
    const next = s.peek();
    s.pos++;
    if (next === CLOSE_ARRAY) return true;
    if (next !== COMMA) s.fail('expected "," or "]"');
  }
  return false;
}

/** Calls `member` with each key of an object, the scanner sitting on the member's value. */
function* eachMember(s: ByteScanner, member: (key: string) => Steps<void>): Steps<void> {
  s.expect(OPEN_OBJECT);
  if (s.peek() === CLOSE_OBJECT) {
    s.pos++;
    return;
  }
  for (;;) {
    if (s.peek() !== QUOTE) s.fail('expected a key');
    const key = s.string();
    s.expect(0x3a);
    s.peek();
    yield* member(key);
    const next = s.peek();
    s.pos++;
    if (next === CLOSE_OBJECT) return;
    if (next !== COMMA) s.fail('expected "," or "}"');
  }
}

function* eachElement<T>(s: ByteScanner, element: () => Steps<T>): Steps<T[]> {
  const out: T[] = [];
  s.expect(OPEN_ARRAY);
  if (s.peek() === CLOSE_ARRAY) {
    s.pos++;
    return out;
  }
  for (;;) {
    out.push(yield* element());
    const next = s.peek();
    s.pos++;
    if (next === CLOSE_ARRAY) return out;
    if (next !== COMMA) s.fail('expected "," or "]"');
  }
}
