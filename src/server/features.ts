/**
 * GET /api/v1/features metadata as KairosDB 1.3.0 builds it from its @FeatureComponent / @FeatureProperty
 * annotations: property lists sorted by label, validations in reverse declaration order, enum options
 * taken from the Java enum constants, and Gson leaving out null members.
 */

interface Validation {
  expression: string;
  type: 'js';
  message: string;
}

interface PropertyMeta {
  name: string;
  label: string;
  description?: string;
  optional: boolean;
  type: string;
  options?: string[];
  defaultValue?: string;
  autocomplete?: string;
  multiline: boolean;
  validations?: Validation[];
  properties?: PropertyMeta[];
}

interface ComponentMeta {
  name: string;
  label: string;
  description: string;
  properties: PropertyMeta[];
}

interface FeatureMeta {
  name: string;
  label: string;
  properties: ComponentMeta[];
}

/** A @FeatureProperty field; validations are given in source order and stored reversed, as KairosDB does. */
function prop(
  name: string,
  label: string,
  description: string,
  type: string,
  defaultValue: string,
  extra: { options?: string[]; autocomplete?: string; validations?: Array<[string, string]> } = {},
): PropertyMeta {
  return {
    name,
    label,
    description,
    optional: false,
    type,
    options: extra.options ?? [],
    defaultValue,
    autocomplete: extra.autocomplete ?? '',
    multiline: false,
    validations: (extra.validations ?? []).map(([expression, message]) => ({ expression, type: 'js' as const, message })).reverse(),
  };
}

/** A @FeatureCompoundProperty: Gson drops its null description, options, default and validations. */
function compound(name: string, label: string, properties: PropertyMeta[]): PropertyMeta {
  return { name, label, optional: false, type: 'Object', multiline: false, properties };
}

const TIME_UNIT_OPTIONS = ['MILLISECONDS', 'SECONDS', 'MINUTES', 'HOURS', 'DAYS', 'WEEKS', 'MONTHS', 'YEARS'];

/** Duration's value and unit, in the compound's explicit order (Value, Unit). */
function durationProps(): PropertyMeta[] {
  return [
    prop('value', 'Value', 'The number of units for the aggregation buckets', 'long', '1', {
      validations: [['value >= 0', 'Value must be greater or equal to 0.']],
    }),
    prop('unit', 'Unit', 'The time unit for the sampling rate', 'enum', 'MILLISECONDS', { options: TIME_UNIT_OPTIONS }),
  ];
}

const ALIGN_NOTE =
  ' Note that align_sampling, align_start_time, and align_end_time are mutually exclusive. If more than one' +
  ' are set, unexpected results will occur.';

/** RangeAggregator's annotated fields (align_sampling has no annotation, so it is not listed). */
function rangeProps(): PropertyMeta[] {
  return [
    prop(
      'align_start_time',
      'Align start time',
      'Setting this to true will cause the aggregation range to be aligned based on the sampling' +
        ' size. For example if your sample size is either milliseconds, seconds, minutes or hours then the' +
        ' start of the range will always be at the top of the hour. The effect of setting this to true is' +
        ' that your data will take the same shape when graphed as you refresh the data.' +
        ALIGN_NOTE,
      'boolean',
      'false',
    ),
    prop(
      'align_end_time',
      'Align end time',
      'Setting this to true will cause the aggregation range to be aligned based on the sampling' +
        ' size. For example if your sample size is either milliseconds, seconds, minutes or hours then the' +
        ' start of the range will always be at the top of the hour. The difference between align_start_time' +
        ' and align_end_time is that align_end_time sets the timestamp for the datapoint to the beginning of' +
        ' the following period versus the beginning of the current period. As with align_start_time, setting' +
        ' this to true will cause your data to take the same shape when graphed as you refresh the data. Note' +
        ' that align_sampling, align_start_time, and align_end_time are mutually exclusive. If more than one' +
        ' are set, unexpected results will occur.',
      'boolean',
      'false',
    ),
    prop('trim', 'Trim', ' Trim off empty ranges before and after the actual data', 'boolean', 'false'),
    compound('sampling', 'Sampling', durationProps()),
  ];
}

/** Java String.compareTo order (UTF-16 code units), which is also JS's default string order. */
function byKey<T>(key: (x: T) => string): (a: T, b: T) => number {
  return (a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0);
}

function component(name: string, label: string, description: string, properties: PropertyMeta[]): ComponentMeta {
  return { name, label, description, properties: properties.slice().sort(byKey((p) => p.label)) };
}

function aggregatorComponents(): ComponentMeta[] {
  const range = (name: string, label: string, description: string, extra: PropertyMeta[] = []): ComponentMeta =>
    component(name, label, description, [...rangeProps(), ...extra]);
  return [
    range('avg', 'AVG', 'Averages the data points together.'),
    range('count', 'Count', 'Counts the number of data points.'),
    range('dev', 'Dev', 'Calculates the standard deviation of the time series.'),
    component('diff', 'Diff', 'Computes the difference between successive data points.', []),
    component('div', 'Div', 'Divides each data point by a divisor.', [
      prop('divisor', 'Divisor', 'The value each data point is divided by.', 'double', '1', {
        validations: [['value > 0', 'Divisor must be greater than 0.']],
      }),
    ]),
    component('filter', 'Filter', 'Filters datapoints according to filter operation with a null data point.', [
      prop('filter_op', 'Filter operation', 'The operation performed for each data point.', 'enum', 'equal', {
        options: ['LTE', 'LT', 'GTE', 'GT', 'EQUAL', 'NE'],
      }),
      prop(
        'threshold',
        'Threshold',
        'The value the operation is performed on. If the operation is lt, then a null data point is returned if the data point is less than the threshold.',
        'Object',
        '',
      ),
    ]),
    range('first', 'First', 'Returns the first value data point for the time range.'),
    range('gaps', 'Gaps', 'Marks gaps in data according to sampling rate with a null data point.'),
    range('last', 'Last', 'Returns the last value data point for the time range.'),
    range('least_squares', 'Least Squares', 'Returns a best fit line through the datapoints using the least squares algorithm.'),
    range('max', 'Max', 'Returns the maximum value data point for the time range.'),
    range('min', 'Min', 'Returns the minimum value data point for the time range.'),
    range('percentile', 'Percentile', 'Finds the percentile of the data range.', [
      prop('percentile', 'Percentile', 'Data points returned will be in this percentile.', 'double', '0.1', {
        validations: [
          ['value > 0', 'Percentile must be greater than 0.'],
          ['value < 1', 'Percentile must be smaller than 1.'],
        ],
      }),
    ]),
    component('rate', 'Rate', 'Computes the rate of change for the data points.', [
      compound('sampling', 'Sampling', durationProps()),
    ]),
    component('sampler', 'Sampler', 'Computes the sampling rate of change for the data points.', [
      prop('unit', 'Time Unit', 'Time unit of sampling', 'enum', 'milliseconds', { options: TIME_UNIT_OPTIONS }),
    ]),
    component('save_as', 'Save As', 'Saves the results to a new metric.', [
      prop('metric_name', 'Save As', 'The name of the new metric.', 'String', '<new name>', {
        validations: [['!value && value.length > 0', "The name can't be empty."]],
      }),
    ]),
    component('scale', 'Scale', 'Scales each data point by a factor.', [
      prop('factor', 'Factor', 'The value to scale each data point by.', 'double', '0.0', {
        validations: [['value > 0', 'Factor must be greater than 0.']],
      }),
    ]),
    component(
      'score',
      'SCORE',
      'Scores the data based on a set of thresholds. Each data point will be mapped to a value between 0 and n where n is the number of thresholds.',
      [
        prop('thresholds', 'Thresholds', 'A set of thresholds', 'array', '[]'),
        prop('order', 'Order', 'The order by which scores are assigned', 'enum', 'ascending', {
          options: ['ASCENDING', 'DESCENDING'],
        }),
      ],
    ),
    component('sma', 'SMA', 'Simple moving average.', [
      prop(
        'size',
        'Size',
        'The period of the moving average. This is the number of data point to use each time the average is calculated.',
        'int',
        '10',
        { validations: [['value > 0', 'Size must be greater than 0.']] },
      ),
    ]),
    range('sum', 'Sum', 'Adds data points together.'),
    component('trim', 'Trim', 'Trims off the first, last or both (first and last) data points from the results.', [
      prop('trim', 'Trim', 'Which data point to trim', 'enum', 'both', { options: ['FIRST', 'LAST', 'BOTH'] }),
    ]),
  ];
}

function groupByComponents(): ComponentMeta[] {
  return [
    component('bin', 'Bin', 'Groups data points by bins or buckets.', [
      prop(
        'bins',
        'Bin Values',
        'List of bin values. For example, if the list of bins is 10, 20, 30, then values less than 10 are placed in the first group, values between 10-19 into the second group, and so forth.',
        'array',
        '[]',
        {
          validations: [
            ['value.length > 0', "The list can't be empty."],
            ['value.every((n) => !isNaN(parseFloat(n)) && isFinite(n))', 'The list must contain only numbers.'],
          ],
        },
      ),
    ]),
    component('tag', 'Tag', 'Groups data points by tag names.', [
      prop('tags', 'Tags', 'A list of tags to group by.', 'array', '[]', {
        autocomplete: 'tags',
        validations: [['value.length > 0', "Tags can't be empty."]],
      }),
    ]),
    component('time', 'Time', 'Groups data points in time ranges.', [
      compound('range_size', 'Range Size', durationProps()),
      prop('group_count', 'Count', 'The number of groups. This would typically be 7 to group by day of week.', 'int', '0', {
        validations: [['value > 0', 'Count must be greater than 0.']],
      }),
    ]),
    component('value', 'Value', 'Groups data points by value.', [
      prop(
        'range_size',
        'Target Size',
        'The range for each value. For example, if the range size is 10, then values between 0-9 are placed in the first group, values between 10-19 into the second group, and so forth.',
        'int',
        '0',
        { validations: [['value >= 0', 'Target size must be greater or equal than 0.']] },
      ),
    ]),
  ];
}

const byName = byKey<ComponentMeta>((c) => c.name);
const byLabel = byKey<ComponentMeta>((c) => c.label);

/** GET /api/v1/features: group_by first, then aggregators; components sorted by label. */
export const FEATURES: unknown[] = [
  { name: 'group_by', label: 'Group By', properties: groupByComponents().sort(byLabel) },
  { name: 'aggregators', label: 'Aggregator', properties: aggregatorComponents().sort(byLabel) },
] satisfies FeatureMeta[];

/**
 * GET /api/v1/features/{feature}: that family's components sorted by name, or undefined for an unknown
 * feature (KairosDB answers 404 with unknownFeatureMessage). The name matches case-insensitively.
 */
export function featureComponents(feature: string): unknown[] | undefined {
  const key = feature.toLowerCase();
  if (key === 'aggregators') return aggregatorComponents().sort(byName);
  if (key === 'group_by') return groupByComponents().sort(byName);
  return undefined;
}

export function unknownFeatureMessage(feature: string): string {
  return `Unknown feature '${feature.toLowerCase()}'`;
}
