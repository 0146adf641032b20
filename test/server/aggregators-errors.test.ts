/** Parse errors of aggregators: KairosDB 1.3.0's exact status and message for each kind of bad input. */
import assert from 'node:assert/strict';
import { parseAggregators } from '../../src/server/aggregators/compile';
import { ServerError } from '../../src/server/server-errors';

const P = 'query.metric[0]';

function fails(aggs: unknown, status: number, message: string): void {
  assert.throws(
    () => parseAggregators(aggs, P),
    (e: unknown) => {
      assert.ok(e instanceof ServerError, String(e));
      assert.equal(e.status, status);
      assert.deepEqual(e.errors, [message]);
      return true;
    },
  );
}

describe('aggregators: parse errors', () => {
  it('no aggregators member gives none', () => {
    assert.deepEqual(parseAggregators(undefined, P), []);
  });

  it('unknown name (case 148) and a missing name', () => {
    fails([{ name: 'median_of_medians', sampling: { value: 2, unit: 'minutes' } }], 400,
      'query.metric[0].aggregators[0].median_of_medians invalid aggregators name');
    fails([{ name: 'sum' }, { sampling: { value: 1, unit: 'hours' } }], 400, 'query.metric[0].aggregators[1] must have a name');
    fails([{ name: '' }], 400, 'query.metric[0].aggregators[0] must have a name');
  });

  it('unknown property, naming the Java class like QueryParser', () => {
    fails([{ name: 'sum', colour: 'red' }], 400,
      "Property 'colour' was specified for object 'sum' but no matching setter was found on 'class org.kairosdb.core.aggregator.SumAggregator'");
    // sampler has no sampling setter, unlike rate.
    fails([{ name: 'sampler', sampling: { value: 1, unit: 'seconds' } }], 400,
      "Property 'sampling' was specified for object 'sampler' but no matching setter was found on 'class org.kairosdb.core.aggregator.SamplerAggregator'");
  });

  it('bad time unit in sampling (case 147) and in rate.unit', () => {
    const units = 'MILLISECONDS,SECONDS,MINUTES,HOURS,DAYS,WEEKS,MONTHS,YEARS';
    fails([{ name: 'sum', sampling: { value: 1, unit: 'parsecs' } }], 400,
      `query.metric[0].aggregators[0].parsecs is not a valid time unit, must be one of ${units}`);
    fails([{ name: 'rate', unit: 'fortnights' }], 400, `query.metric[0].aggregators[0].fortnights is not a valid time unit, must be one of ${units}`);
  });

  it('sampling value -1 is a 400; a missing unit is reported too', () => {
    fails([{ name: 'sum', sampling: { value: -1, unit: 'minutes' } }], 400,
      'query.metric[0].aggregators[0].sampling.value must be greater than or equal to 0');
    fails([{ name: 'avg', sampling: { value: 1 } }], 400, 'query.metric[0].aggregators[0].sampling.unit may not be null');
  });

  it('sampling value 0 parses (the 500 comes when data is aggregated)', () => {
    assert.equal(parseAggregators([{ name: 'sum', sampling: { value: 0, unit: 'minutes' } }], P).length, 1);
  });

  it('percentile missing or zero (case 156), div without divisor or 0 (case 157)', () => {
    fails([{ name: 'percentile', sampling: { value: 2, unit: 'minutes' } }], 400, 'query.metric[0].aggregators[0].percentile may not be zero');
    fails([{ name: 'percentile', percentile: 0 }], 400, 'query.metric[0].aggregators[0].percentile may not be zero');
    fails([{ name: 'div' }], 400, 'query.metric[0].aggregators[0].m_divisor may not be zero');
    fails([{ name: 'div', divisor: 0 }], 400, 'query.metric[0].aggregators[0].m_divisor may not be zero');
  });

  it('filter_op and trim values outside the enum', () => {
    fails([{ name: 'filter', filter_op: 'between', threshold: 1 }], 400,
      "query.metric[0].aggregators[0].between is not a valid trim type, must be 'lte', 'lt', 'gte', 'gt', 'equal' or 'ne'.");
    fails([{ name: 'trim', trim: 'middle' }], 400, "query.metric[0].aggregators[0].middle is not a valid trim type, must be 'first', 'last' or 'both'.");
  });

  it('save_as tags given as an array gives Gson\'s message (case 130)', () => {
    fails([{ name: 'save_as', metric_name: 'cf.saved.bad', tags: ['host'] }], 400,
      'java.lang.IllegalStateException: Expected BEGIN_ARRAY but was STRING at path $[0]');
    fails([{ name: 'save_as', metric_name: 'x', tags: 'host' }], 400, 'java.lang.IllegalStateException: Expected BEGIN_OBJECT but was STRING at path $');
  });

  it('wrong JSON types for numbers and booleans give Gson\'s messages', () => {
    fails([{ name: 'div', divisor: 'two' }], 400, 'query.metric[0].aggregators[0].divisor For input string: "two"');
    fails([{ name: 'div', divisor: true }], 400, 'java.lang.IllegalStateException: Expected NUMBER but was BOOLEAN at path $');
    fails([{ name: 'sma', size: 'ten' }], 400, 'java.lang.NumberFormatException: For input string: "ten"');
    fails([{ name: 'sum', align_start_time: 1 }], 400, 'java.lang.IllegalStateException: Expected BOOLEAN but was NUMBER at path $');
    fails([{ name: 'sum', sampling: 5 }], 400, 'java.lang.IllegalStateException: Expected BEGIN_OBJECT but was NUMBER at path $');
    // Numeric strings are read as numbers, as Gson does.
    assert.equal(parseAggregators([{ name: 'div', divisor: '4' }], P).length, 1);
  });

  it('score needs thresholds and a lowercase order', () => {
    fails([{ name: 'score' }], 400, 'query.metric[0].aggregators[0].thresholds may not be null');
    fails([{ name: 'score', thresholds: [{ value: 1 }], order: 'ASCENDING' }], 400, 'query.metric[0].aggregators[0].order may not be null');
  });

  it('a bad time zone names the zone', () => {
    assert.throws(() => parseAggregators([{ name: 'sum', time_zone: 'Mars/Olympus' }], P), (e: unknown) =>
      e instanceof ServerError && e.status === 400 && e.errors[0].startsWith('query.metric[0].aggregators[0].Mars/Olympus is not a valid time zone, must be one of ['));
  });

  it('non-object entries and a non-array member are 500s like Gson\'s getAsJsonObject', () => {
    fails([5], 500, 'Not a JSON Object: 5');
    fails({ name: 'sum' }, 500, 'Not a JSON Array: {"name":"sum"}');
  });

  it('a JSON null property value is a 500', () => {
    fails([{ name: 'sum', sampling: null }], 500, 'cannot validate null');
  });

  it('the first bad aggregator is the one reported', () => {
    fails([{ name: 'sum' }, { name: 'div' }, { name: 'nope' }], 400, 'query.metric[0].aggregators[1].m_divisor may not be zero');
  });
});
