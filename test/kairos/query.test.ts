import assert from 'node:assert/strict';
import { ValidationError } from '../../src/errors';
import { AGGREGATORS, buildQuery, validateAggregators } from '../../src/kairos/query-body';
import type { Aggregator, GroupBy, QueryOptions } from '../../src/types';

const base: QueryOptions = { metrics: 'm', startAbsolute: 1_700_000_000_000 };

function rejects(opts: Partial<QueryOptions>, field: string | RegExp, value?: RegExp): void {
  assert.throws(
    () => buildQuery({ ...base, ...opts } as QueryOptions),
    (e: unknown) => {
      assert.ok(e instanceof ValidationError, String(e));
      if (typeof field === 'string') assert.equal(e.field, field);
      else assert.match(e.field, field);
      if (value) assert.match(e.message, value);
      return true;
    },
  );
}
const aggRejects = (a: unknown, field: string): void => rejects({ aggregators: [a as Aggregator] }, field);
const gbRejects = (g: unknown, field: string): void => rejects({ groupBy: [g as GroupBy] }, field);

describe('buildQuery', () => {
  it('builds a full body with time_zone always set', () => {
    const q = buildQuery({
      metrics: ['a', { name: 'b', limit: 5, order: 'desc', tags: { host: 'h1' } }],
      startRelative: { value: 2, unit: 'hours' },
      endAbsolute: '2024-01-01T00:00:00Z',
      tags: { dc: ['eu', 'us'] },
      excludeTags: true,
      aggregators: [{ name: 'avg', sampling: { value: 1, unit: 'MINUTES' as never }, align_start_time: true }],
      groupBy: [{ name: 'tag', tags: ['host'] }],
    }, { now: Date.UTC(2024, 0, 1, 1) });
    assert.deepEqual(q, {
      start_relative: { value: 2, unit: 'hours' },
      end_absolute: Date.UTC(2024, 0, 1),
      time_zone: 'UTC',
      metrics: [
        {
          name: 'a',
          tags: { dc: ['eu', 'us'] },
          group_by: [{ name: 'tag', tags: ['host'] }],
          aggregators: [{ name: 'avg', sampling: { value: 1, unit: 'minutes' }, align_start_time: true }],
          exclude_tags: true,
        },
        {
          name: 'b',
          tags: { host: ['h1'] },
          group_by: [{ name: 'tag', tags: ['host'] }],
          aggregators: [{ name: 'avg', sampling: { value: 1, unit: 'minutes' }, align_start_time: true }],
          limit: 5,
          order: 'desc',
          exclude_tags: true,
        },
      ],
    });
  });

  it('ends at now (sent explicitly) when no end is given, and sends the given time zone', () => {
    const q = buildQuery({ ...base, timeZone: 'Europe/Berlin' }, { now: 1767225600000 });
    assert.equal(q.end_absolute, 1767225600000);
    assert.equal(q.end_relative, undefined);
    assert.equal(q.time_zone, 'Europe/Berlin');
  });

  it('reads zone-less absolute strings in ctx.zone', () => {
    const q = buildQuery({ metrics: 'm', startAbsolute: '2024-06-01 12:00:00' }, { zone: 'Europe/Berlin' });
    assert.equal(q.start_absolute, Date.UTC(2024, 5, 1, 10));
  });

  describe('time validation', () => {
    it('needs exactly one start form', () => {
      rejects({ startAbsolute: undefined }, 'startAbsolute/startRelative', /exactly one/);
      rejects({ startRelative: { value: 1, unit: 'days' } }, 'startAbsolute/startRelative');
    });
    it('allows at most one end form', () => rejects({ endAbsolute: 1_700_000_100_000, endRelative: { value: 1, unit: 'days' } }, 'endAbsolute/endRelative'));
    it('rejects unreadable absolute times', () => rejects({ startAbsolute: 'yesterday-ish' }, 'startAbsolute', /yesterday-ish/));
    it('rejects an end before the start, relative forms included', () => {
      rejects({ endAbsolute: 1_600_000_000_000 }, 'endAbsolute');
      rejects({ startAbsolute: undefined, startRelative: { value: 1, unit: 'hours' }, endRelative: { value: 2, unit: 'hours' } }, 'endRelative');
      const now = Date.UTC(2024, 0, 2);
      assert.throws(() => buildQuery({ metrics: 'm', startAbsolute: now - 1000, endRelative: { value: 1, unit: 'days' } }, { now }), /endRelative/);
      assert.doesNotThrow(() => buildQuery({ metrics: 'm', startRelative: { value: 2, unit: 'days' }, endRelative: { value: 1, unit: 'days' } }, { now }));
    });
    it('rejects bad relative times', () => {
      rejects({ startAbsolute: undefined, startRelative: { value: 1, unit: 'fortnights' as never } }, 'startRelative.unit', /fortnights/);
      rejects({ startAbsolute: undefined, startRelative: { value: -1, unit: 'days' } }, 'startRelative.value');
      rejects({ endRelative: { value: 1.5, unit: 'days' } }, 'endRelative.value');
    });
    it('rejects an unknown time zone', () => rejects({ timeZone: 'Mars/Olympus' }, 'timeZone', /Mars/));
  });

  describe('metric validation', () => {
    it('rejects missing or empty metric names', () => {
      rejects({ metrics: [] }, 'metrics');
      rejects({ metrics: [''] }, 'metrics[0]');
      rejects({ metrics: ['ok', { name: '  ' }] }, 'metrics[1].name');
    });
    it('limit must be a positive integer', () => {
      rejects({ limit: 0 }, 'limit');
      rejects({ limit: 2.5 }, 'limit');
      rejects({ metrics: [{ name: 'm', limit: -1 }] }, 'metrics[0].limit');
    });
    it('order must be asc or desc', () => rejects({ order: 'DESC' as never }, 'order'));
    it('tag filters need non-empty string values', () => {
      rejects({ tags: { host: [] } }, 'tags.host');
      rejects({ tags: { host: '' } }, 'tags.host');
      rejects({ tags: { host: ['a', 5 as never] } }, 'tags.host[1]');
      rejects({ tags: ['host'] as never }, 'tags');
    });
  });

  describe('group_by validation', () => {
    it('accepts the four groupers', () => {
      const q = buildQuery({
        ...base,
        groupBy: [
          { name: 'tag', tags: ['host'] },
          { name: 'time', range_size: { value: 1, unit: 'hours' }, group_count: 24 },
          { name: 'value', range_size: 10 },
          { name: 'bin', bins: [0, 10, 20] },
        ],
      });
      assert.equal((q.metrics[0].group_by as unknown[]).length, 4);
    });
    it('tag needs a non-empty tags array', () => {
      gbRejects({ name: 'tag' }, 'groupBy[0].tags');
      gbRejects({ name: 'tag', tags: [] }, 'groupBy[0].tags');
    });
    it('time needs range_size and group_count', () => {
      gbRejects({ name: 'time', group_count: 2 }, 'groupBy[0].range_size');
      gbRejects({ name: 'time', range_size: { value: 1, unit: 'hours' } }, 'groupBy[0].group_count');
      gbRejects({ name: 'time', range_size: { value: 1, unit: 'eons' }, group_count: 2 }, 'groupBy[0].range_size.unit');
    });
    it('value needs an integer range_size >= 1', () => {
      gbRejects({ name: 'value', range_size: 0 }, 'groupBy[0].range_size');
      gbRejects({ name: 'value', range_size: 1.5 }, 'groupBy[0].range_size');
    });
    it('bin needs ascending numeric bins', () => {
      gbRejects({ name: 'bin', bins: [] }, 'groupBy[0].bins');
      gbRejects({ name: 'bin', bins: [1, 'x'] }, 'groupBy[0].bins[1]');
      gbRejects({ name: 'bin', bins: [5, 1] }, 'groupBy[0].bins[1]');
    });
    it('rejects unknown groupers and unknown parameters', () => {
      gbRejects({ name: 'color' }, 'groupBy[0].name');
      gbRejects({ name: 'value', range_size: 5, colour: 1 }, 'groupBy[0].colour');
    });
  });

  describe('aggregator validation', () => {
    it('has a catalogue entry for every KairosDB aggregator', () => {
      const names = 'avg,sum,min,max,count,first,last,dev,percentile,least_squares,gaps,diff,div,scale,rate,sampler,sma,filter,trim,score,save_as';
      assert.deepEqual(Object.keys(AGGREGATORS).sort(), names.split(',').sort());
      assert.deepEqual(AGGREGATORS.percentile.required, ['percentile']);
    });
    it('accepts a valid chain and normalises case', () => {
      const out = validateAggregators(
        [
          { name: 'max', sampling: { value: 1, unit: 'hours' }, align_sampling: true },
          { name: 'rate', unit: 'Minute' },
          { name: 'filter', filter_op: 'LT', threshold: 0 },
          { name: 'trim', trim: 'BOTH' },
          { name: 'percentile', percentile: 0.95 },
          { name: 'div', divisor: 2 },
          { name: 'scale', factor: -1 },
          { name: 'sma', size: 3 },
          { name: 'score', thresholds: [{ value: 1, boundary: 'inferior' }], order: 'ascending' },
          { name: 'save_as', metric_name: 'copy', tags: { a: 'b' }, ttl: 0 },
          { name: 'dev', return_type: 'pos_sd', dev_count: 2 },
          { name: 'gaps', trim: true },
        ],
        'aggregators',
      );
      assert.equal(out[1].unit, 'minutes');
      assert.equal(out[2].filter_op, 'lt');
      assert.equal(out[3].trim, 'both');
    });
    it('rejects unknown names and unknown parameters', () => {
      aggRejects({ name: 'median_of_medians' }, 'aggregators[0].name');
      aggRejects({ name: 'avg', bogus: 1 }, 'aggregators[0].bogus');
      aggRejects({ name: 'toString' }, 'aggregators[0].name');
    });
    it('range aggregators need a valid sampling of at least 1', () => {
      aggRejects({ name: 'avg', sampling: { value: 0, unit: 'minutes' } }, 'aggregators[0].sampling.value');
      aggRejects({ name: 'sum', sampling: { value: 1, unit: 'parsecs' } }, 'aggregators[0].sampling.unit');
      aggRejects({ name: 'sum', sampling: { value: 1, unit: 'hours', extra: 1 } }, 'aggregators[0].sampling.extra');
      aggRejects({ name: 'avg', align_start_time: 'yes' }, 'aggregators[0].align_start_time');
      aggRejects({ name: 'avg', align_start_time: true, align_end_time: true }, 'aggregators[0].align_end_time');
      aggRejects({ name: 'avg', time_zone: 'Nowhere/Land' }, 'aggregators[0].time_zone');
    });
    it('checks each aggregator’s own parameters', () => {
      aggRejects({ name: 'percentile' }, 'aggregators[0].percentile');
      aggRejects({ name: 'percentile', percentile: 0 }, 'aggregators[0].percentile');
      aggRejects({ name: 'percentile', percentile: 1.5 }, 'aggregators[0].percentile');
      aggRejects({ name: 'div', divisor: 0 }, 'aggregators[0].divisor');
      aggRejects({ name: 'div' }, 'aggregators[0].divisor');
      aggRejects({ name: 'scale' }, 'aggregators[0].factor');
      aggRejects({ name: 'rate' }, 'aggregators[0].unit');
      aggRejects({ name: 'sampler', unit: 'lightyears' }, 'aggregators[0].unit');
      aggRejects({ name: 'filter', filter_op: 'between', threshold: 1 }, 'aggregators[0].filter_op');
      aggRejects({ name: 'filter', filter_op: 'gt' }, 'aggregators[0].threshold');
      aggRejects({ name: 'trim', trim: 'middle' }, 'aggregators[0].trim');
      aggRejects({ name: 'save_as' }, 'aggregators[0].metric_name');
      aggRejects({ name: 'save_as', metric_name: 'x', tags: ['a'] }, 'aggregators[0].tags');
      aggRejects({ name: 'sma', size: 0 }, 'aggregators[0].size');
      aggRejects({ name: 'dev', return_type: 'VALUE' }, 'aggregators[0].return_type');
      aggRejects({ name: 'score', thresholds: [] }, 'aggregators[0].thresholds');
      aggRejects({ name: 'score', thresholds: [{ value: 1, boundary: 'SUPERIOR' }] }, 'aggregators[0].thresholds[0].boundary');
      aggRejects({ name: 'score', thresholds: [{ value: 1 }], order: 'up' }, 'aggregators[0].order');
    });
    it('names per-metric aggregator fields by metric', () => {
      rejects({ metrics: [{ name: 'm', aggregators: [{ name: 'div' }] }] }, 'metrics[0].aggregators[0].divisor');
    });
  });
});
