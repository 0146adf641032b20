/**
 * The shared checks in src/util: one plain-object test (and its Date/Buffer-excluding variant), one
 * positive-integer check, and the one stable sort by time the table and the local server use.
 */
import assert from 'node:assert/strict';
import { ValidationError } from '../../src/errors';
import { isObjectNotDateOrBuffer, isPlainObject, nonNegativeOr, positiveInt, positiveIntOr, positiveIntOrDefault } from '../../src/util/validate';
import { stableTimeOrder } from '../../src/util/time-order';
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
