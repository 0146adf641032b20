/**
 * Building KairosDB query bodies from QueryOptions, with the checks KairosDB itself would only
 * answer with a 400 (or worse, silently ignore): time forms, tags, group_by and aggregators.
 */
import { ValidationError } from '../errors';
import { datetimeToTimestampMs, isIanaZone, subtractRelative, validateRelativeTime } from '../time/timestamps';
import { normalizeTimeUnit } from '../time/time-units';
import type { Aggregator, GroupBy, MetricQuery, QueryOptions, RelativeTime, TagFilter } from '../types';
import { isPlainObject, positiveInt } from '../util/validate';

/** What one aggregator takes; the editor lists these. */
export interface AggregatorSpec {
  /** A range aggregator: cuts the timeline into `sampling` buckets. */
  range: boolean;
  /** Parameters it cannot do without (an alternative is written 'unit|sampling'). */
  required: string[];
  /** Parameters it accepts beyond the required ones. */
  optional: string[];
  description: string;
}

const RANGE_PARAMS = ['sampling', 'align_sampling', 'align_start_time', 'align_end_time', 'start_time', 'time_zone', 'trim'];
const range = (description: string, extra: string[] = [], required: string[] = []): AggregatorSpec => ({
  range: true,
  required,
  optional: [...RANGE_PARAMS, ...extra],
  description,
});
const point = (description: string, required: string[] = [], optional: string[] = []): AggregatorSpec => ({
  range: false,
  required,
  optional,
  description,
});

/** KairosDB 1.3's aggregators (spec §5.2). */
export const AGGREGATORS: Readonly<Record<string, AggregatorSpec>> = Object.freeze({
  avg: range('mean per bucket'),
  sum: range('sum per bucket'),
  min: range('minimum per bucket'),
  max: range('maximum per bucket'),
  count: range('number of points per bucket'),
  first: range('first point in each bucket'),
  last: range('last point in each bucket'),
  dev: range('standard deviation per bucket', ['return_type', 'dev_count']),
  percentile: range('percentile (0 < percentile <= 1) per bucket', [], ['percentile']),
  least_squares: range('two points per bucket on the best-fit line'),
  gaps: range('null markers for empty buckets'),
  diff: point('difference to the previous point'),
  div: point('divides every value by divisor', ['divisor']),
  scale: point('multiplies every value by factor', ['factor']),
  rate: point('change per unit of time', ['unit|sampling'], ['time_zone']),
  sampler: point('value per unit of time since the previous point', ['unit|sampling'], ['time_zone']),
  sma: point('simple moving average over the last size points', ['size']),
  filter: point('removes points for which "value filter_op threshold" is true', ['filter_op', 'threshold']),
  trim: point('removes the first and/or last point', ['trim']),
  score: point('number of thresholds each value exceeds', ['thresholds'], ['order']),
  save_as: point('also writes the points to metric_name', ['metric_name'], ['tags', 'ttl', 'add_saved_from']),
});

export const GROUP_BY_NAMES = ['tag', 'time', 'value', 'bin'] as const;
const FILTER_OPS = ['lte', 'lt', 'gte', 'gt', 'equal', 'ne'];
const TRIM_MODES = ['first', 'last', 'both'];

export interface BuildQueryContext {
  /** Zone for absolute time strings without an offset. Default: opts.timeZone, then UTC. */
  zone?: string;
  /** Reference "now" for checking relative ranges (default Date.now()). */
  now?: number;
}

/** The KairosDB query body as sent on the wire. */
export interface KairosQueryBody {
  start_absolute?: number;
  start_relative?: RelativeTime;
  end_absolute?: number;
  end_relative?: RelativeTime;
  time_zone: string;
  metrics: Array<Record<string, unknown>>;
}

/**
 * Builds the JSON body of a query. Exactly one start form is required and at most one end form is
 * allowed. Without an end the query ends at "now", sent explicitly as end_absolute: KairosDB itself would
 * have no upper bound and return future-dated points (spec surprise #8). time_zone is always sent
 * (default 'UTC'), because without it KairosDB aligns buckets in the server's own zone.
 */
export function buildQuery(opts: QueryOptions, ctx: BuildQueryContext = {}): KairosQueryBody {
  if (!opts || typeof opts !== 'object') throw new ValidationError('query', opts, 'must be an object of query options');
  const timeZone = validateTimeZone(opts.timeZone ?? 'UTC', 'timeZone');
  const zone = ctx.zone === undefined ? timeZone : validateTimeZone(ctx.zone, 'zone');
  const body: Partial<KairosQueryBody> = {};

  const hasStartAbs = opts.startAbsolute !== undefined && opts.startAbsolute !== null;
  const hasStartRel = opts.startRelative !== undefined && opts.startRelative !== null;
  if (hasStartAbs === hasStartRel) {
    throw new ValidationError('startAbsolute/startRelative', hasStartAbs ? 'both' : undefined, 'exactly one of startAbsolute and startRelative is required');
  }
  if (hasStartAbs) body.start_absolute = absolute(opts.startAbsolute, 'startAbsolute', zone);
  else body.start_relative = validateRelativeTime(opts.startRelative, 'startRelative');

  const hasEndAbs = opts.endAbsolute !== undefined && opts.endAbsolute !== null;
  const hasEndRel = opts.endRelative !== undefined && opts.endRelative !== null;
  if (hasEndAbs && hasEndRel) {
    throw new ValidationError('endAbsolute/endRelative', 'both', 'give at most one of endAbsolute and endRelative');
  }
  if (hasEndAbs) body.end_absolute = absolute(opts.endAbsolute, 'endAbsolute', zone);
  if (hasEndRel) body.end_relative = validateRelativeTime(opts.endRelative, 'endRelative');
  if (!hasEndAbs && !hasEndRel) body.end_absolute = ctx.now ?? Date.now();
  else {
    // KairosDB answers 400 to an end before the start; relative forms are resolved against ctx.now.
    const now = ctx.now ?? Date.now();
    const startMs = body.start_absolute ?? subtractRelative(now, body.start_relative as RelativeTime, timeZone);
    const endMs = body.end_absolute ?? subtractRelative(now, body.end_relative as RelativeTime, timeZone);
    if (endMs < startMs) {
      const field = hasEndAbs ? 'endAbsolute' : 'endRelative';
      throw new ValidationError(field, hasEndAbs ? opts.endAbsolute : opts.endRelative, `must not be before the start (${new Date(startMs).toISOString()})`);
    }
  }
  body.time_zone = timeZone;
  body.metrics = metricList(opts).map((m, i) => buildMetric(m, opts, `metrics[${i}]`));
  return body as KairosQueryBody;
}

function absolute(input: unknown, field: string, zone: string): number {
  // datetimeToTimestampMs validates the type itself and names the field.
  return datetimeToTimestampMs(input as Parameters<typeof datetimeToTimestampMs>[0], { zone, field });
}

function metricList(opts: QueryOptions): Array<string | MetricQuery> {
  const m = opts.metrics;
  if (typeof m === 'string') return [m];
  if (!Array.isArray(m) || m.length === 0) throw new ValidationError('metrics', m, 'needs at least one metric name');
  return m;
}

function buildMetric(m: string | MetricQuery, top: QueryOptions, field: string): Record<string, unknown> {
  const own: MetricQuery = typeof m === 'string' ? { name: m } : m;
  if (!own || typeof own !== 'object') throw new ValidationError(field, m, 'must be a metric name or {name, ...}');
  const nameField = typeof m === 'string' ? field : `${field}.name`;
  if (typeof own.name !== 'string' || own.name.trim() === '') throw new ValidationError(nameField, own.name, 'must be a non-empty metric name');
  const out: Record<string, unknown> = { name: own.name };

  const tags = own.tags ?? top.tags;
  if (tags !== undefined) out.tags = validateTagFilter(tags, own.tags ? `${field}.tags` : 'tags');
  const groupBy = own.groupBy ?? top.groupBy;
  if (groupBy !== undefined && groupBy.length) out.group_by = validateGroupBy(groupBy, own.groupBy ? `${field}.groupBy` : 'groupBy');
  const aggs = own.aggregators ?? top.aggregators;
  if (aggs !== undefined && aggs.length) out.aggregators = validateAggregators(aggs, own.aggregators ? `${field}.aggregators` : 'aggregators');
  const limit = own.limit ?? top.limit;
  if (limit !== undefined) {
    out.limit = positiveInt(limit, own.limit !== undefined ? `${field}.limit` : 'limit');
  }
  const order = own.order ?? top.order;
  if (order !== undefined) {
    if (order !== 'asc' && order !== 'desc') throw new ValidationError(own.order ? `${field}.order` : 'order', order, "must be 'asc' or 'desc'");
    out.order = order;
  }
  const exclude = own.excludeTags ?? top.excludeTags;
  if (exclude !== undefined) {
    if (typeof exclude !== 'boolean') throw new ValidationError(`${field}.excludeTags`, exclude, 'must be true or false');
    // exclude_tags only works per metric; KairosDB ignores it at the top level.
    if (exclude) out.exclude_tags = true;
  }
  return out;
}

export function validateTimeZone(zone: unknown, field: string): string {
  if (typeof zone !== 'string' || zone.trim() === '' || !isIanaZone(zone)) {
    throw new ValidationError(field, zone, 'must be an IANA time zone such as "UTC" or "Europe/Berlin"');
  }
  return zone;
}

export function validateTagFilter(tags: unknown, field: string): Record<string, string[]> {
  if (!isPlainObject(tags)) throw new ValidationError(field, tags, 'must be an object of tag names to a value or list of values');
  const out: Record<string, string[]> = {};
  for (const [k, v] of Object.entries(tags as TagFilter)) {
    if (k.trim() === '') throw new ValidationError(field, k, 'tag names must not be empty');
    const values = Array.isArray(v) ? v : [v];
    if (values.length === 0) throw new ValidationError(`${field}.${k}`, v, 'needs at least one value (leave the tag out to match all)');
    values.forEach((x, i) => {
      if (typeof x !== 'string' || x === '') {
        throw new ValidationError(Array.isArray(v) ? `${field}.${k}[${i}]` : `${field}.${k}`, x, 'tag values must be non-empty strings');
      }
    });
    out[k] = values as string[];
  }
  return out;
}

export function validateGroupBy(list: unknown, field: string): GroupBy[] {
  if (!Array.isArray(list)) throw new ValidationError(field, list, 'must be an array of group_by objects');
  return list.map((g: unknown, i) => {
    const f = `${field}[${i}]`;
    if (!isPlainObject(g)) throw new ValidationError(f, g, 'must be an object {name, ...}');
    const gb = g as GroupBy;
    switch (gb.name) {
      case 'tag': {
        onlyKeys(gb, ['name', 'tags'], f);
        if (!Array.isArray(gb.tags) || gb.tags.length === 0) throw new ValidationError(`${f}.tags`, gb.tags, 'needs a non-empty array of tag names');
        gb.tags.forEach((t: unknown, j: number) => {
          if (typeof t !== 'string' || t === '') throw new ValidationError(`${f}.tags[${j}]`, t, 'must be a non-empty tag name');
        });
        return { name: 'tag', tags: [...gb.tags] };
      }
      case 'time': {
        onlyKeys(gb, ['name', 'range_size', 'group_count'], f);
        const rs = validateDuration(gb.range_size, `${f}.range_size`);
        return { name: 'time', range_size: rs, group_count: positiveInt(gb.group_count, `${f}.group_count`) };
      }
      case 'value':
        onlyKeys(gb, ['name', 'range_size'], f);
        return { name: 'value', range_size: positiveInt(gb.range_size, `${f}.range_size`) };
      case 'bin': {
        onlyKeys(gb, ['name', 'bins'], f);
        const bins = gb.bins;
        if (!Array.isArray(bins) || bins.length === 0) throw new ValidationError(`${f}.bins`, bins, 'needs a non-empty array of numbers');
        bins.forEach((b: unknown, j: number) => {
          if (typeof b !== 'number' || !Number.isFinite(b)) throw new ValidationError(`${f}.bins[${j}]`, b, 'must be a finite number');
          if (j > 0 && b <= (bins[j - 1] as number)) throw new ValidationError(`${f}.bins[${j}]`, b, 'bins must be in ascending order');
        });
        return { name: 'bin', bins: [...bins] as number[] };
      }
      default:
        throw new ValidationError(`${f}.name`, gb.name, `unknown group_by (one of ${GROUP_BY_NAMES.join(', ')})`);
    }
  });
}

/** Checks a list of aggregators against AGGREGATORS; returns copies with units normalised. */
export function validateAggregators(list: unknown, field: string): Aggregator[] {
  if (!Array.isArray(list)) throw new ValidationError(field, list, 'must be an array of aggregator objects');
  return list.map((a: unknown, i) => validateAggregator(a, `${field}[${i}]`));
}

function validateAggregator(a: unknown, f: string): Aggregator {
  if (!isPlainObject(a)) throw new ValidationError(f, a, 'must be an object {name, ...}');
  const agg = a as Aggregator;
  const spec = typeof agg.name === 'string' ? AGGREGATORS[agg.name] : undefined;
  if (!spec || !Object.prototype.hasOwnProperty.call(AGGREGATORS, agg.name)) {
    throw new ValidationError(`${f}.name`, agg.name, `unknown aggregator (one of ${Object.keys(AGGREGATORS).join(', ')})`);
  }
  const allowed = ['name', ...spec.required.flatMap((r) => r.split('|')), ...spec.optional];
  onlyKeys(agg, allowed, f);
  const out: Aggregator = { ...agg };

  if (agg.sampling !== undefined) out.sampling = validateDuration(agg.sampling, `${f}.sampling`);
  for (const flag of ['align_sampling', 'align_start_time', 'align_end_time', 'trim']) {
    if (spec.range && agg[flag] !== undefined && typeof agg[flag] !== 'boolean') throw new ValidationError(`${f}.${flag}`, agg[flag], 'must be true or false');
  }
  if (agg.align_start_time === true && agg.align_end_time === true) {
    throw new ValidationError(`${f}.align_end_time`, true, 'cannot be combined with align_start_time');
  }
  if (agg.time_zone !== undefined) validateTimeZone(agg.time_zone, `${f}.time_zone`);
  if (agg.start_time !== undefined && (typeof agg.start_time !== 'number' || !Number.isSafeInteger(agg.start_time))) {
    throw new ValidationError(`${f}.start_time`, agg.start_time, 'must be epoch milliseconds (an integer)');
  }

  switch (agg.name) {
    case 'dev':
      if (agg.return_type !== undefined && !['value', 'pos_sd', 'neg_sd'].includes(agg.return_type as string)) {
        // KairosDB silently ignores a wrong-case value here, so be strict.
        throw new ValidationError(`${f}.return_type`, agg.return_type, "must be 'value', 'pos_sd' or 'neg_sd' (lowercase)");
      }
      if (agg.dev_count !== undefined) positiveInt(agg.dev_count, `${f}.dev_count`);
      break;
    case 'percentile': {
      const p = agg.percentile;
      if (typeof p !== 'number' || !Number.isFinite(p) || p <= 0 || p > 1) throw new ValidationError(`${f}.percentile`, p, 'must be a number with 0 < percentile <= 1');
      break;
    }
    case 'div':
      if (typeof agg.divisor !== 'number' || !Number.isFinite(agg.divisor) || agg.divisor === 0) {
        throw new ValidationError(`${f}.divisor`, agg.divisor, 'must be a finite number other than 0');
      }
      break;
    case 'scale':
      if (typeof agg.factor !== 'number' || !Number.isFinite(agg.factor)) throw new ValidationError(`${f}.factor`, agg.factor, 'must be a finite number');
      break;
    case 'rate':
    case 'sampler':
      if (agg.unit === undefined && agg.sampling === undefined) throw new ValidationError(`${f}.unit`, undefined, 'needs unit (e.g. "seconds") or sampling');
      if (agg.unit !== undefined) out.unit = normalizeTimeUnit(agg.unit, `${f}.unit`);
      break;
    case 'sma':
      positiveInt(agg.size, `${f}.size`);
      break;
    case 'filter': {
      const op = typeof agg.filter_op === 'string' ? agg.filter_op.toLowerCase() : agg.filter_op;
      if (typeof op !== 'string' || !FILTER_OPS.includes(op)) throw new ValidationError(`${f}.filter_op`, agg.filter_op, `must be one of ${FILTER_OPS.join(', ')}`);
      out.filter_op = op;
      const t = agg.threshold;
      if (!((typeof t === 'number' && Number.isFinite(t)) || typeof t === 'string')) {
        throw new ValidationError(`${f}.threshold`, t, 'must be a finite number (or a string for text data)');
      }
      break;
    }
    case 'trim': {
      const mode = typeof agg.trim === 'string' ? agg.trim.toLowerCase() : agg.trim;
      if (typeof mode !== 'string' || !TRIM_MODES.includes(mode)) throw new ValidationError(`${f}.trim`, agg.trim, "must be 'first', 'last' or 'both'");
      out.trim = mode;
      break;
    }
    case 'score':
      validateScore(agg, f);
      break;
    case 'save_as':
      if (typeof agg.metric_name !== 'string' || agg.metric_name.trim() === '') {
        throw new ValidationError(`${f}.metric_name`, agg.metric_name, 'must be a non-empty metric name');
      }
      if (agg.tags !== undefined) {
        if (!isPlainObject(agg.tags)) throw new ValidationError(`${f}.tags`, agg.tags, 'must be an object of tag names to strings');
        for (const [k, v] of Object.entries(agg.tags as object)) {
          if (k === '' || typeof v !== 'string' || v === '') throw new ValidationError(`${f}.tags.${k}`, v, 'tag names and values must be non-empty strings');
        }
      }
      if (agg.ttl !== undefined && (typeof agg.ttl !== 'number' || !Number.isSafeInteger(agg.ttl) || agg.ttl < 0)) {
        throw new ValidationError(`${f}.ttl`, agg.ttl, 'must be an integer number of seconds >= 0');
      }
      if (agg.add_saved_from !== undefined && typeof agg.add_saved_from !== 'boolean') {
        throw new ValidationError(`${f}.add_saved_from`, agg.add_saved_from, 'must be true or false');
      }
      break;
    default:
      break;
  }
  return out;
}

function validateScore(agg: Aggregator, f: string): void {
  const th = agg.thresholds;
  if (!Array.isArray(th) || th.length === 0) throw new ValidationError(`${f}.thresholds`, th, 'needs a non-empty array of {value, boundary}');
  th.forEach((t: unknown, j: number) => {
    if (!isPlainObject(t)) throw new ValidationError(`${f}.thresholds[${j}]`, t, 'must be {value, boundary?}');
    const { value, boundary, ...rest } = t as { value?: unknown; boundary?: unknown };
    if (typeof value !== 'number' || !Number.isFinite(value)) throw new ValidationError(`${f}.thresholds[${j}].value`, value, 'must be a finite number');
    if (boundary !== undefined && boundary !== 'superior' && boundary !== 'inferior') {
      throw new ValidationError(`${f}.thresholds[${j}].boundary`, boundary, "must be 'superior' or 'inferior' (lowercase)");
    }
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) throw new ValidationError(`${f}.thresholds[${j}].${extra}`, (rest as Record<string, unknown>)[extra], 'unknown parameter');
  });
  if (agg.order !== undefined && agg.order !== 'ascending' && agg.order !== 'descending') {
    throw new ValidationError(`${f}.order`, agg.order, "must be 'ascending' or 'descending' (lowercase)");
  }
}

/** A `{value, unit}` of at least 1 (a sampling of 0 makes KairosDB divide by zero). */
function validateDuration(d: unknown, field: string): RelativeTime {
  const r = validateRelativeTime(d, field);
  if (isPlainObject(d)) onlyKeys(d as Record<string, unknown>, ['value', 'unit'], field);
  return r;
}

/** KairosDB answers 400 to unknown aggregator/group_by properties (spec surprise #10): catch them first. */
function onlyKeys(obj: Record<string, unknown>, allowed: string[], field: string): void {
  for (const k of Object.keys(obj)) {
    if (!allowed.includes(k)) {
      throw new ValidationError(`${field}.${k}`, obj[k], `unknown parameter for "${String(obj.name)}" (allowed: ${allowed.filter((x) => x !== 'name').join(', ') || 'none'})`);
    }
  }
}
