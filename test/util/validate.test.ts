/**
 * The shared checks in src/util: one plain-object test (and its Date/Buffer-excluding variant), one
 * positive-integer check, and the one stable sort by time the table and the local server use.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ValidationError } from '../../src/errors';
import { isObjectNotDateOrBuffer, isPlainObject, nonNegativeInt, nonNegativeOr, nonNegativeOrDefault, positiveInt, positiveIntOr, positiveIntOrDefault } from '../../src/util/validate';
import { IncrementalPoller, PollLoop, RowAssembler } from '../../src/stream';
import { inTimeOrder, stableTimeOrder } from '../../src/util/time-order';
import { MemoryStore, Outbox, WriteQueue } from '../../src/outbox';
import { seededRandom } from '../helpers/random';

describe('util: validation', () => {
  it('isPlainObject: objects, not null or arrays; the second variant also rejects Date and Buffer', () => {
    for (const v of [{}, { a: 1 }, Object.create(null), new Date(0), Buffer.from('x')]) assert.equal(isPlainObject(v), true);
    for (const v of [null, undefined, [], [1], 'x', 1, true]) assert.equal(isPlainObject(v), false);
    assert.equal(isObjectNotDateOrBuffer({ a: 1 }), true);
    for (const v of [new Date(0), Buffer.from('x'), [], null, 'x']) assert.equal(isObjectNotDateOrBuffer(v), false);
  });

  it('positiveInt: integers from 1 up, else a ValidationError naming the field and the value', () => {
    assert.equal(positiveInt(1, 'f'), 1);
    assert.equal(positiveInt(2 ** 40, 'f'), 2 ** 40);
    for (const bad of [0, -1, 1.5, NaN, Infinity, '3', null, undefined, 2 ** 60]) {
      assert.throws(() => positiveInt(bad, 'limit'), (e: unknown) => e instanceof ValidationError && e.message.includes('limit'), String(bad));
    }
    assert.equal(positiveIntOrDefault(undefined, 'f', 7), 7);
    assert.throws(() => positiveIntOrDefault(0, 'maxBatchPoints', 7), /maxBatchPoints/);
  });

  it('nonNegativeInt: integers from 0 up, else a ValidationError naming the field and the value', () => {
    assert.equal(nonNegativeInt(0, 'f'), 0);
    assert.equal(nonNegativeInt(2 ** 40, 'f'), 2 ** 40);
    for (const bad of [-1, 0.5, NaN, -Infinity, '0', null, undefined, 2 ** 60]) {
      assert.throws(() => nonNegativeInt(bad, 'overlapMs'), (e: unknown) => e instanceof ValidationError && e.field === 'overlapMs' && e.message.includes(`got ${bad === '0' ? '"0"' : String(bad)}`), String(bad));
    }
  });

  it('the stream classes check their options here (and timer lengths with checkTimerMs)', () => {
    const fetch = async () => [];
    const named = (field: string, re: RegExp) => (e: unknown) => e instanceof ValidationError && e.field === field && re.test(e.message);
    assert.throws(() => new IncrementalPoller({ fetch, windowMs: 1.5 }), named('windowMs', /integer >= 1 \(got 1\.5\)/));
    assert.throws(() => new IncrementalPoller({ fetch, windowMs: 1000, maxPoints: 0 }), named('maxPoints', /integer >= 1/));
    assert.throws(() => new IncrementalPoller({ fetch, windowMs: 1000, overlapMs: -1 }), named('overlapMs', /integer >= 0/));
    assert.throws(() => new RowAssembler(0.5), named('rowGraceMs', /integer >= 0/));
    const loop = { run: async () => undefined, onError: () => undefined };
    assert.throws(() => new PollLoop({ ...loop, intervalMs: 2 ** 31 }), named('intervalMs', /at most 2147483647 ms/));
    assert.throws(() => new PollLoop({ ...loop, intervalMs: 1000, stopTimeoutMs: -1 }), named('stopTimeoutMs', /integer >= 0/));
  });

  it('nonNegativeOrDefault: numbers from 0 up (fractions too), the default for undefined, else an error naming the field', () => {
    assert.equal(nonNegativeOrDefault(undefined, 'f', 3), 3);
    assert.equal(nonNegativeOrDefault(0, 'f', 3), 0);
    assert.equal(nonNegativeOrDefault(2.5, 'f', 3), 2.5);
    for (const bad of [-0.1, NaN, Infinity, '1', null]) {
      assert.throws(() => nonNegativeOrDefault(bad, 'maxDelayMs', 3), (e: unknown) => e instanceof ValidationError && e.field === 'maxDelayMs' && /number >= 0/.test(e.message), String(bad));
    }
  });

  it('the outbox, the memory store and the write queue check their options here', async () => {
    const named = (field: string, re: RegExp) => (e: unknown) => e instanceof ValidationError && e.field === field && re.test(e.message);
    const send = async () => ({ written: 0, requests: 0 });
    assert.throws(() => new WriteQueue({ send, maxDelayMs: -1 } as never), named('maxDelayMs', /number >= 0/));
    assert.throws(() => new WriteQueue({ send, retry: { initialMs: -5 } } as never), named('retry.initialMs', /number >= 0/));
    assert.throws(() => new MemoryStore({ maxPoints: 0 }), named('maxPoints', /integer >= 1/));
    await assert.rejects(Outbox.open({ dir: join(tmpdir(), 'proficloud-validate-never-created'), maxBytes: 1.5 }), named('maxBytes', /integer >= 1/));
    await assert.rejects(Outbox.open({ dir: join(tmpdir(), 'proficloud-validate-never-created'), segmentBytes: 0 }), named('segmentBytes', /integer >= 1/));
  });

  it('lenient editor numbers fall back instead of failing', () => {
    assert.equal(positiveIntOr('12', 5), 12);
    for (const raw of ['', 'x', 0, -3, 1.5, undefined]) assert.equal(positiveIntOr(raw, 5), 5, String(raw));
    assert.equal(nonNegativeOr('0.5', 1), 0.5);
    assert.equal(nonNegativeOr(0, 1), 0);
    for (const raw of ['', undefined, -1, 'x']) assert.equal(nonNegativeOr(raw, 1), 1, String(raw));
  });
});

describe('util: stableTimeOrder', () => {
  it('orders by time, equal times in input order (seeded random inputs against a reference)', () => {
    const rnd = seededRandom(15);
    for (let round = 0; round < 200; round++) {
      const n = Math.floor(rnd() * 50);
      const ts = Array.from({ length: n }, () => Math.floor(rnd() * 10));
      const expected = ts.map((t, i) => [t, i]).sort((a, b) => a[0] - b[0] || a[1] - b[1]).map((p) => p[1]);
      assert.deepEqual([...stableTimeOrder(ts)], expected, JSON.stringify(ts));
      assert.deepEqual([...stableTimeOrder(Float64Array.from(ts))], expected);
    }
  });
});

describe('util: inTimeOrder', () => {
  it('points in ascending or descending time order, stable, against a reference (seeded random inputs)', () => {
    const rnd = seededRandom(16);
    for (let round = 0; round < 300; round++) {
      const n = Math.floor(rnd() * 40);
      const points = Array.from({ length: n }, (_, i): [number, number] => [Math.floor(rnd() * 8), i]);
      const shape = round % 3; // sorted one way, the other, or as drawn
      if (shape === 1) points.sort((a, b) => a[0] - b[0]);
      if (shape === 2) points.sort((a, b) => b[0] - a[0]);
      const copy = JSON.stringify(points);
      for (const desc of [false, true]) {
        const got = inTimeOrder(points, desc);
        const times = got.map((p) => p[0]);
        assert.deepEqual(times, points.map((p) => p[0]).sort((a, b) => (desc ? b - a : a - b)), JSON.stringify(points));
        assert.deepEqual([...got].sort((a, b) => a[1] - b[1]), [...points].sort((a, b) => a[1] - b[1]), 'the same points');
        const runs = (down: boolean) => points.every((p, i) => i === 0 || (down ? p[0] <= points[i - 1][0] : p[0] >= points[i - 1][0]));
        const reversedRun = !runs(desc) && runs(!desc);
        // Equal times keep their arrival order, except that a run in the other direction is simply reversed.
        for (let i = 1; i < got.length; i++) {
          if (got[i][0] === got[i - 1][0] && !reversedRun) assert.ok(got[i][1] > got[i - 1][1], `stable at ${i}: ${JSON.stringify(got)}`);
        }
      }
      assert.equal(JSON.stringify(points), copy, 'the input is never changed');
    }
  });

  it('returns the array itself when it is in order already, a reversed copy when it runs the other way', () => {
    const asc: Array<[number, string]> = [[1, 'a'], [2, 'b'], [2, 'c'], [5, 'd']];
    assert.equal(inTimeOrder(asc), asc);
    assert.deepEqual(inTimeOrder(asc, true), [[5, 'd'], [2, 'c'], [2, 'b'], [1, 'a']]);
    const mixed: Array<[number, string]> = [[3, 'a'], [1, 'b'], [3, 'c'], [2, 'd']];
    assert.deepEqual(inTimeOrder(mixed), [[1, 'b'], [2, 'd'], [3, 'a'], [3, 'c']]);
    assert.deepEqual(inTimeOrder(mixed, true), [[3, 'a'], [3, 'c'], [2, 'd'], [1, 'b']]);
    assert.deepEqual(inTimeOrder([]), []);
  });
});
