import assert from 'node:assert/strict';
import { Backoff } from '../../src/outbox/backoff';
import { MemoryStore } from '../../src/outbox/memory-store';
import { assertPushMetrics, coalesceMetrics, countBatchPoints, splitByPoints } from '../../src/kairos/push-batches';
import type { KairosPushMetric } from '../../src/types';

describe('outbox point helpers', () => {
  describe('coalesceMetrics', () => {
    it('merges entries of the same name, tags (in any key order), type and ttl, keeping point order', () => {
      const out = coalesceMetrics([
        { name: 't', tags: { a: '1', b: '2' }, type: 'double', datapoints: [[1, 1.5]] },
        { name: 't', tags: { b: '2', a: '1' }, type: 'double', timestamp: 2, value: 2.5 },
        { name: 't', tags: { a: '1', b: '2' }, type: 'long', datapoints: [[3, 3]] },
        { name: 't', tags: { a: '1', b: '2' }, type: 'double', ttl: 60, datapoints: [[4, 4.5]] },
        { name: 't', tags: { a: '1', b: '2' }, type: 'double', datapoints: [[5, 5.5], [1, 9.5]] },
      ]);
      assert.deepEqual(out, [
        { name: 't', tags: { a: '1', b: '2' }, type: 'double', datapoints: [[1, 1.5], [2, 2.5], [5, 5.5], [1, 9.5]] },
        { name: 't', tags: { a: '1', b: '2' }, type: 'long', datapoints: [[3, 3]] },
        { name: 't', tags: { a: '1', b: '2' }, type: 'double', ttl: 60, datapoints: [[4, 4.5]] },
      ]);
    });

    it('passes malformed entries through untouched so the server can name the problem', () => {
      const bad = { name: 'x', tags: { h: '1' }, timestamp: 5 } as KairosPushMetric;
      const out = coalesceMetrics([bad, { name: 'x', tags: { h: '1' }, datapoints: [[1, 1]] }]);
      assert.equal(out[0], bad);
      assert.equal(out.length, 2);
    });

    it('does not modify its input', () => {
      const input: KairosPushMetric[] = [
        { name: 'a', tags: { h: '1' }, datapoints: [[1, 1]] },
        { name: 'a', tags: { h: '1' }, datapoints: [[2, 2]] },
      ];
      const copy = JSON.parse(JSON.stringify(input));
      coalesceMetrics(input);
      assert.deepEqual(input, copy);
    });
  });

  describe('splitByPoints', () => {
    it('cuts batches at the limit, splitting one big metric across pieces in order', () => {
      const big: KairosPushMetric = { name: 'b', tags: { h: '1' }, datapoints: Array.from({ length: 7 }, (_, i) => [i, i] as [number, number]) };
      const pieces = splitByPoints([{ name: 's', tags: { h: '1' }, timestamp: 100, value: 1 }, big], 3);
      assert.deepEqual(
        pieces.map((p) => countBatchPoints(p)),
        [3, 3, 2],
      );
      const order = pieces.flat().flatMap((m) => (m.datapoints ? m.datapoints.map((d) => d[0]) : [m.timestamp]));
      assert.deepEqual(order, [100, 0, 1, 2, 3, 4, 5, 6]);
      assert.ok(pieces.flat().every((m) => m.name === 's' || (m.timestamp === undefined && m.value === undefined)));
    });

    it('keeps a batch under the limit as it is', () => {
      const m: KairosPushMetric[] = [{ name: 'a', tags: { h: '1' }, datapoints: [[1, 1]] }];
      assert.deepEqual(splitByPoints(m, 10), [m]);
    });
  });

  describe('assertPushMetrics', () => {
    it('names the field and value that JSON could not carry', () => {
      assert.throws(() => assertPushMetrics([{ name: 'a', tags: {}, datapoints: [[1, NaN]] }]), {
        code: 'EVALIDATION',
        message: /^metrics\[0\]\(name=a\)\.datapoints\[0\]\[1\]: must be a finite number .*got NaN/,
      });
      assert.throws(() => assertPushMetrics([{ name: 'a', tags: {}, timestamp: 1, value: Infinity }]), { message: /\.value: .*got Infinity/ });
      assert.throws(() => assertPushMetrics([{ name: 'a', tags: {}, datapoints: [5] }]), { message: /\.datapoints\[0\]: must be a \[timestamp, value\] pair \(got 5\)/ });
      assert.throws(() => assertPushMetrics([null]), { message: /^metrics\[0\]: must be an object.*got null/ });
      assertPushMetrics([{ name: 'ok', tags: { h: '1' }, datapoints: [[1, 'text']] }]);
    });
  });
});

describe('MemoryStore', () => {
  it('drops the oldest batches beyond maxPoints and reports it', async () => {
    const drops: number[] = [];
    const warns: string[] = [];
    const store = new MemoryStore({ maxPoints: 5, onDrop: (d) => drops.push(d.points), logger: { warn: (m) => warns.push(m) } });
    for (let i = 0; i < 4; i++) await store.append([{ name: 'm', tags: { h: '1' }, datapoints: [[i, i], [i + 0.5, i]] }]);
    assert.equal(store.stats().points, 4);
    assert.equal(store.stats().dropped, 4);
    assert.deepEqual(drops, [2, 2]);
    assert.match(warns[0], /memory queue full .*dropped the oldest 1 batch/);
    const b = await store.peek(100);
    assert.deepEqual(b?.metrics.map((m) => m.datapoints?.[0][0]), [2, 3]);
    await store.ack(b!.id);
    assert.equal(await store.peek(100), null);
    assert.equal(store.stats().removedBatches, 4);
  });

  it('drop-newest refuses with EOUTBOXFULL', async () => {
    const store = new MemoryStore({ maxPoints: 2, overflow: 'drop-newest' });
    await store.append([{ name: 'm', tags: { h: '1' }, datapoints: [[1, 1], [2, 2]] }]);
    await assert.rejects(store.append([{ name: 'm', tags: { h: '1' }, datapoints: [[3, 3]] }]), { code: 'EOUTBOXFULL' });
    assert.equal(store.stats().points, 2);
  });

  it('merges batches in peek up to maxPoints and acks only what was peeked', async () => {
    const store = new MemoryStore();
    for (let i = 0; i < 3; i++) await store.append([{ name: 'm', tags: { h: '1' }, datapoints: [[i, i]] }]);
    const b = await store.peek(2);
    assert.equal(b?.points, 2);
    await store.append([{ name: 'm', tags: { h: '1' }, datapoints: [[9, 9]] }]);
    await store.ack(b!.id);
    assert.equal(store.stats().points, 2);
    await assert.rejects(store.ack('zzz'), { code: 'EVALIDATION', message: /^id: .*"zzz"/ });
  });
});

describe('Backoff', () => {
  it('grows exponentially to the cap with jitter between 50 and 100 %', () => {
    const lo = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2 }, () => 0);
    const hi = new Backoff({ initialMs: 100, maxMs: 1000, factor: 2 }, () => 1);
    assert.deepEqual([1, 2, 3, 4, 5, 10].map((a) => hi.delay(a)), [100, 200, 400, 800, 1000, 1000]);
    assert.deepEqual([1, 2, 3].map((a) => lo.delay(a)), [50, 100, 200]);
  });

  it('treats Retry-After as a lower bound, capped at an hour', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000 }, () => 1);
    assert.equal(b.delay(1, 5000), 5000);
    assert.equal(b.delay(4, 10), 800);
    assert.equal(b.delay(1, 10 * 24 * 3600 * 1000), 3600 * 1000);
  });
});
