/** group_by parsing, group numbers and group_by result entries (KairosDB 1.3.0 cases 064, 065, 159, 160). */
import assert from 'node:assert/strict';
import { describeTagGroup, parseGroupBys } from '../../src/server/groupers';
import { ServerError } from '../../src/server/server-errors';

const P = 'query.metric[0]';
const T0 = 1767225600000;

function fails(json: unknown, status: number, message: string): void {
  assert.throws(() => parseGroupBys(json, P), (e: unknown) => {
    assert.ok(e instanceof ServerError, String(e));
    assert.equal(e.status, status);
    assert.deepEqual(e.errors, [message]);
    return true;
  });
}

describe('groupers', () => {
  it('no group_by member: no tag names, no groupers', () => {
    assert.deepEqual(parseGroupBys(undefined, P), { tagNames: null, groupers: [] });
  });

  it('tag: names come from the first tag entry; describeTagGroup fills "" for a missing tag (case 064)', () => {
    const parsed = parseGroupBys([{ name: 'tag', tags: ['dc', 'rack'] }, { name: 'tag', tags: ['host'] }], P);
    assert.deepEqual(parsed.tagNames, ['dc', 'rack']);
    assert.equal(parsed.groupers.length, 0);
    assert.deepEqual(describeTagGroup(['dc', 'rack'], { dc: 'eu' }), { name: 'tag', tags: ['dc', 'rack'], group: { dc: 'eu', rack: '' } });
  });

  it('value: integer division truncated toward zero, text is -1 (case 065)', () => {
    const [g] = parseGroupBys([{ name: 'value', range_size: 5 }], P).groupers;
    assert.equal(g.name, 'value');
    assert.deepEqual([5, 3, 8, 1, 9, 2, 7, 4, 6, 10].map((v) => g.groupOf(T0, v, T0)), [1, 0, 1, 0, 1, 0, 1, 0, 1, 2]);
    assert.equal(g.groupOf(T0, -4.9, T0), 0);
    assert.equal(g.groupOf(T0, -5, T0), -1);
    assert.equal(g.groupOf(T0, 9.99, T0), 1);
    assert.equal(g.groupOf(T0, 'hello', T0), -1);
    assert.deepEqual(g.describe(1), { name: 'value', range_size: 5, group: { group_number: 1 } });
  });

  it('time: ((t - start) / range) mod count, unit echoed upper case', () => {
    const [g] = parseGroupBys([{ name: 'time', range_size: { value: 2, unit: 'minutes' }, group_count: 3 }], P).groupers;
    const start = T0 - 60_000;
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 7].map((m) => g.groupOf(T0 + m * 60_000, 1, start)), [0, 1, 1, 2, 2, 0, 0, 1]);
    assert.deepEqual(g.describe(2), {
      name: 'time',
      range_size: { value: 2, unit: 'MINUTES' },
      group_count: 3,
      group: { group_number: 2 },
    });
  });

  it('time by months counts UTC calendar months; years are 52 weeks', () => {
    const [months] = parseGroupBys([{ name: 'time', range_size: { value: 1, unit: 'months' }, group_count: 12 }], P).groupers;
    assert.equal(months.groupOf(Date.UTC(2026, 4, 31), 1, Date.UTC(2026, 0, 31)), 4);
    assert.equal(months.groupOf(Date.UTC(2027, 1, 1), 1, Date.UTC(2026, 0, 31)), 1);
    const [years] = parseGroupBys([{ name: 'time', range_size: { value: 1, unit: 'years' }, group_count: 10 }], P).groupers;
    assert.equal(years.groupOf(T0 + 364 * 86_400_000, 1, T0), 1);
  });

  it('bin: below the first bin is 0, then i+1, at or above the last is bins.length', () => {
    const [g] = parseGroupBys([{ name: 'bin', bins: [10, 20, 30] }], P).groupers;
    assert.deepEqual([5, 10, 19.9, 20, 30, 1000].map((v) => g.groupOf(T0, v, T0)), [0, 1, 1, 2, 3, 3]);
    assert.equal(g.groupOf(T0, 'x', T0), -1);
    assert.deepEqual(g.describe(2), { name: 'bin', bins: [10, 20, 30], group: { bin_number: 2 } });
  });

  it('unknown name (case 159), tag without tags (case 160) and with an empty list', () => {
    fails([{ name: 'color' }], 400, 'query.metric[0].group_by[0].color invalid group_by name');
    fails([{ name: 'tag' }], 400, 'query.metric[0].group_by[0].tags may not be null');
    fails([{ name: 'tag', tags: [] }], 400, 'query.metric[0].group_by[0].tags may not be empty');
    fails([{ tags: ['host'] }], 400, 'query.metric[0].group_by[0] must have a name');
  });

  it('time and value validation messages', () => {
    fails([{ name: 'time', group_count: 3 }], 400, 'query.metric[0].group_by[0].rangeSize may not be null');
    fails([{ name: 'time', range_size: { value: 1, unit: 'hours' } }], 400, 'query.metric[0].group_by[0].groupCount must be greater than or equal to 1');
    fails([{ name: 'time', range_size: { value: 1, unit: 'aeons' }, group_count: 2 }], 400,
      'query.metric[0].group_by[0].aeons is not a valid time unit, must be one of MILLISECONDS,SECONDS,MINUTES,HOURS,DAYS,WEEKS,MONTHS,YEARS');
    fails([{ name: 'value' }], 400, 'query.metric[0].group_by[0].rangeSize must be greater than or equal to 1');
    fails([{ name: 'value', range_size: 5, size: 3 }], 400,
      "Property 'size' was specified for object 'value' but no matching setter was found on 'class org.kairosdb.core.groupby.ValueGroupBy'");
    fails([{ name: 'bin', bins: 'ten' }], 400, 'java.lang.IllegalStateException: Expected BEGIN_ARRAY but was STRING at path $');
  });

  it('a zero time range is a 500 "/ by zero" when a point is grouped', () => {
    const [g] = parseGroupBys([{ name: 'time', range_size: { value: 0, unit: 'minutes' }, group_count: 2 }], P).groupers;
    assert.throws(() => g.groupOf(T0, 1, T0), (e: unknown) => e instanceof ServerError && e.status === 500 && e.errors[0] === '/ by zero');
  });
});
