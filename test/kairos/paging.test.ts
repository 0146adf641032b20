import assert from 'node:assert/strict';
import { RangePager, splitRange, windowedWithHalving, MAX_PAGES, type TimeRange } from '../../src/kairos/range-pager';
import { HttpStatusError, ValidationError } from '../../src/errors';

function isValidation(field: string, value: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof ValidationError, `expected ValidationError, got ${String(e)}`);
    assert.equal(e.code, 'EVALIDATION');
    assert.equal(e.field, field);
    assert.match(e.message, value);
    return true;
  };
}

describe('splitRange', () => {
  it('covers the range with inclusive pages that never share a millisecond', () => {
    assert.deepEqual(splitRange(0, 9999, 2500), [
      { start: 0, end: 2499 },
      { start: 2500, end: 4999 },
      { start: 5000, end: 7499 },
      { start: 7500, end: 9999 },
    ]);
  });

  it('makes the last page shorter when the range does not divide evenly', () => {
    assert.deepEqual(splitRange(100, 350, 100), [
      { start: 100, end: 199 },
      { start: 200, end: 299 },
      { start: 300, end: 350 },
    ]);
  });

  it('handles a single-millisecond range and a page larger than the range', () => {
    assert.deepEqual(splitRange(5, 5, 1000), [{ start: 5, end: 5 }]);
    assert.deepEqual(splitRange(0, 10, 1000), [{ start: 0, end: 10 }]);
    assert.deepEqual(splitRange(0, 1, 1), [
      { start: 0, end: 0 },
      { start: 1, end: 1 },
    ]);
  });

  it('covers every millisecond exactly once', () => {
    const pages = splitRange(1_700_000_000_123, 1_700_000_086_400, 7_000);
    let expected = 1_700_000_000_123;
    for (const p of pages) {
      assert.equal(p.start, expected);
      assert.ok(p.end >= p.start);
      expected = p.end + 1;
    }
    assert.equal(expected, 1_700_000_086_401);
  });

  it('rejects bad input naming field and value', () => {
    assert.throws(() => splitRange(10, 5, 1), isValidation('end', /got 5/));
    assert.throws(() => splitRange(Number.NaN, 5, 1), isValidation('start', /NaN/));
    assert.throws(() => splitRange(0, 1.5, 1), isValidation('end', /1\.5/));
    assert.throws(() => splitRange(0, 5, 0), isValidation('pageMs', /got 0/));
    assert.throws(() => splitRange(0, 5, -3), isValidation('pageMs', /-3/));
    assert.throws(() => splitRange(0, 5, '10' as unknown as number), isValidation('pageMs', /"10"/));
    assert.throws(() => splitRange(0, MAX_PAGES * 10, 1), isValidation('pageMs', /limit/));
  });
});

describe('RangePager', () => {
  it('pages through given ranges (planned pages) and checks that they cover the range contiguously', async () => {
    const ranges = [
      { start: 0, end: 4 },
      { start: 5, end: 5 },
      { start: 6, end: 29 },
    ];
    const pager = new RangePager({ fetch: async (r) => `${r.start}-${r.end}`, start: 0, end: 29, ranges });
    assert.equal(pager.count, 3);
    assert.deepEqual(pager.range(1), { start: 5, end: 5 });
    const got: string[] = [];
    for await (const p of pager) got.push(p.value);
    assert.deepEqual(got, ['0-4', '5-5', '6-29']);
    const bad: Array<[TimeRange[], RegExp]> = [
      [[], /ranges/],
      [[{ start: 1, end: 29 }], /ranges\[0\]/],
      [[{ start: 0, end: 4 }, { start: 6, end: 29 }], /ranges\[1\]/],
      [[{ start: 0, end: 4 }, { start: 5, end: 3 }], /ranges\[1\]/],
      [[{ start: 0, end: 28 }], /must end at 29/],
    ];
    for (const [r, re] of bad) assert.throws(() => new RangePager({ fetch: async () => 1, start: 0, end: 29, ranges: r }), re, JSON.stringify(r));
  });

  it('fetches one page per next() and reports the part and done', async () => {
    const asked: TimeRange[] = [];
    const pager = new RangePager({ fetch: async (r) => (asked.push(r), `${r.start}-${r.end}`), start: 0, end: 29, pageMs: 10 });
    assert.equal(pager.count, 3);
    assert.equal(asked.length, 0, 'nothing fetched before asked');
    const a = await pager.next();
    assert.deepEqual(a, { value: '0-9', part: { index: 0, count: 3 }, done: false });
    assert.equal(asked.length, 1, 'only one page fetched per call');
    const b = await pager.next();
    const c = await pager.next();
    assert.deepEqual([b.value, b.done, c.value, c.part, c.done], ['10-19', false, '20-29', { index: 2, count: 3 }, true]);
    assert.equal(pager.done, true);
    await assert.rejects(pager.next(), isValidation('page', /3 page/));
  });

  it('retries the same page after a failed fetch', async () => {
    let fail = true;
    const pager = new RangePager({
      fetch: async (r) => {
        if (fail) {
          fail = false;
          throw new Error('flaky');
        }
        return r.start;
      },
      start: 100,
      end: 199,
      pageMs: 50,
    });
    await assert.rejects(pager.next(), /flaky/);
    assert.equal((await pager.next()).value, 100);
    assert.equal((await pager.next()).value, 150);
  });

  it('gives concurrent callers consecutive pages', async () => {
    const pager = new RangePager({ fetch: async (r) => r.start, start: 0, end: 99, pageMs: 25 });
    const results = await Promise.all([pager.next(), pager.next(), pager.next(), pager.next()]);
    assert.deepEqual(
      results.map((r) => r.value),
      [0, 25, 50, 75],
    );
  });

  it('iterates with for await', async () => {
    const pager = new RangePager({ fetch: async (r) => r, start: 0, end: 4, pageMs: 2 });
    const seen: Array<[number, number, boolean]> = [];
    for await (const page of pager) seen.push([page.value.start, page.part.index, page.done]);
    assert.deepEqual(seen, [
      [0, 0, false],
      [2, 1, false],
      [4, 2, true],
    ]);
  });

  it('rejects bad options naming field and value', () => {
    const fetch = async (): Promise<number> => 1;
    assert.throws(() => new RangePager({ fetch, start: 0, end: 10, pageMs: 0 }), isValidation('pageMs', /got 0/));
    assert.throws(() => new RangePager({ fetch, start: 20, end: 10, pageMs: 5 }), isValidation('end', /10/));
    assert.throws(() => new RangePager({ fetch: null as unknown as typeof fetch, start: 0, end: 1, pageMs: 1 }), isValidation('fetch', /null/));
  });
});

describe('windowedWithHalving', () => {
  it('fetches window by window when nothing fails', async () => {
    const got = await windowedWithHalving(async (r) => r.end - r.start + 1, 0, 299, 100);
    assert.deepEqual(
      got.map((g) => [g.range.start, g.range.end, g.value]),
      [
        [0, 99, 100],
        [100, 199, 100],
        [200, 299, 100],
      ],
    );
  });

  it('halves the window on 504 and keeps the smaller window', async () => {
    const asked: TimeRange[] = [];
    const got = await windowedWithHalving(
      async (r) => {
        asked.push(r);
        // Over quota whenever a request spans more than 30 ms.
        if (r.end - r.start + 1 > 30) throw new HttpStatusError(504, 'http://x/api/v1/datapoints/query', []);
        return r;
      },
      0,
      99,
      100,
      { minWindowMs: 10 },
    );
    assert.deepEqual(asked.slice(0, 3), [
      { start: 0, end: 99 },
      { start: 0, end: 49 },
      { start: 0, end: 24 },
    ]);
    // Covered exactly once, in order, with the 25 ms window.
    assert.deepEqual(
      got.map((g) => g.range),
      [
        { start: 0, end: 24 },
        { start: 25, end: 49 },
        { start: 50, end: 74 },
        { start: 75, end: 99 },
      ],
    );
  });

  it('rethrows a 504 at the minimum window and any non-504 error at once', async () => {
    let calls = 0;
    const always504 = async (): Promise<never> => {
      calls++;
      throw Object.assign(new Error('quota'), { status: 504 });
    };
    await assert.rejects(windowedWithHalving(always504, 0, 999, 800, { minWindowMs: 100 }), /quota/);
    assert.equal(calls, 4, '800 -> 400 -> 200 -> 100, then give up');

    calls = 0;
    const boom = async (): Promise<never> => {
      calls++;
      throw new HttpStatusError(500, 'http://x', []);
    };
    await assert.rejects(windowedWithHalving(boom, 0, 999, 800, { minWindowMs: 100 }), /HTTP 500/);
    assert.equal(calls, 1);
  });

  it('uses a custom 504 test and stops when aborted', async () => {
    const sizes: number[] = [];
    await windowedWithHalving(
      async (r) => {
        sizes.push(r.end - r.start + 1);
        if (sizes.length === 1) throw new Error('too much');
      },
      0,
      39,
      40,
      { minWindowMs: 10, isRetryable504: (e) => e instanceof Error && e.message === 'too much' },
    );
    assert.deepEqual(sizes, [40, 20, 20]);

    const ac = new AbortController();
    let n = 0;
    await assert.rejects(
      windowedWithHalving(
        async () => {
          if (++n === 2) ac.abort(new Error('cancelled'));
        },
        0,
        99,
        10,
        { signal: ac.signal },
      ),
      /cancelled/,
    );
    assert.equal(n, 2);
  });

  it('rejects bad input naming field and value', async () => {
    const f = async (): Promise<number> => 1;
    await assert.rejects(windowedWithHalving(f, 0, 10, 0), isValidation('windowMs', /got 0/));
    await assert.rejects(windowedWithHalving(f, 0, 10, 5, { minWindowMs: 6 }), isValidation('minWindowMs', /6/));
    await assert.rejects(windowedWithHalving(f, 5, 1, 5), isValidation('end', /got 1/));
  });
});
