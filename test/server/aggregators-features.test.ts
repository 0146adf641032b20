/** /api/v1/features metadata shape (KairosDB 1.3.0 FeaturesResource). */
import assert from 'node:assert/strict';
import { AGGREGATOR_NAMES } from '../../src/server/aggregators/compile';
import { FEATURES, featureComponents, unknownFeatureMessage } from '../../src/server/features';

interface Component {
  name: string;
  label: string;
  description: string;
  properties: Array<Record<string, unknown>>;
}

const families = FEATURES as Array<{ name: string; label: string; properties: Component[] }>;

describe('aggregators: /features metadata', () => {
  it('lists group_by then aggregators, components sorted by label', () => {
    assert.deepEqual(families.map((f) => [f.name, f.label]), [['group_by', 'Group By'], ['aggregators', 'Aggregator']]);
    assert.deepEqual(families[0].properties.map((c) => c.name), ['bin', 'tag', 'time', 'value']);
    const labels = families[1].properties.map((c) => c.label);
    assert.deepEqual(labels.slice(13, 17), ['Rate', 'SCORE', 'SMA', 'Sampler']);
  });

  it('covers every aggregator the parser knows, and /features/aggregators is sorted by name', () => {
    const byName = featureComponents('Aggregators') as Component[];
    assert.deepEqual(byName.map((c) => c.name), [...AGGREGATOR_NAMES]);
    assert.equal(featureComponents('nope'), undefined);
    assert.equal(unknownFeatureMessage('NoPe'), "Unknown feature 'nope'");
  });

  it('range aggregators carry align/trim flags and the sampling compound (value, unit)', () => {
    const avg = families[1].properties.find((c) => c.name === 'avg') as Component;
    assert.deepEqual(avg.properties.map((p) => p.name), ['align_end_time', 'align_start_time', 'sampling', 'trim']);
    const sampling = avg.properties[2];
    assert.equal(sampling.type, 'Object');
    assert.equal('description' in sampling, false);
    const [value, unit] = sampling.properties as Array<Record<string, unknown>>;
    assert.equal(value.name, 'value');
    assert.equal(value.defaultValue, '1');
    assert.deepEqual(unit.options, ['MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS']);
  });

  it('validations are listed in reverse declaration order and enum options come from the Java constants', () => {
    const percentile = (featureComponents('aggregators') as Component[]).find((c) => c.name === 'percentile') as Component;
    const p = percentile.properties.find((x) => x.name === 'percentile') as Record<string, unknown>;
    assert.deepEqual((p.validations as Array<{ message: string }>).map((v) => v.message), [
      'Percentile must be smaller than 1.',
      'Percentile must be greater than 0.',
    ]);
    const filter = (featureComponents('aggregators') as Component[]).find((c) => c.name === 'filter') as Component;
    assert.deepEqual(filter.properties[0].options, ['LTE', 'LT', 'GTE', 'GT', 'EQUAL', 'NE']);
    assert.equal(filter.properties[0].defaultValue, 'equal');
  });
});
