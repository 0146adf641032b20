/**
 * KairosDB 1.3.0 aggregators for the local server: parsing with KairosDB's own error messages,
 * and the chained application over one result group's points.
 */
import { ServerError, badRequest } from '../server-errors';
import type { Points, TypeGroup } from '../point-types';
import { isPlainObject, nullProperty, unknownProperty } from './props';
import {
  avgSpec,
  countSpec,
  devSpec,
  firstSpec,
  gapsSpec,
  lastSpec,
  leastSquaresSpec,
  maxSpec,
  minSpec,
  percentileSpec,
  sumSpec,
} from './range-aggregators';
import {
  diffSpec,
  divSpec,
  filterSpec,
  rateSpec,
  samplerSpec,
  saveAsSpec,
  scaleSpec,
  scoreSpec,
  smaSpec,
  trimSpec,
} from './series-aggregators';
import type { AggregatorContext, AggregatorSpec, CompiledAggregator } from './types';

export type { AggregatorContext, CompiledAggregator } from './types';

const SPECS: Record<string, (qp: string) => AggregatorSpec> = {
  avg: avgSpec,
  count: countSpec,
  dev: devSpec,
  diff: diffSpec,
  div: divSpec,
  filter: filterSpec,
  first: firstSpec,
  gaps: gapsSpec,
  last: lastSpec,
  least_squares: leastSquaresSpec,
  max: maxSpec,
  min: minSpec,
  percentile: percentileSpec,
  rate: rateSpec,
  sampler: samplerSpec,
  save_as: saveAsSpec,
  scale: scaleSpec,
  score: scoreSpec,
  sma: smaSpec,
  sum: sumSpec,
  trim: trimSpec,
};

/** Names KairosDB 1.3.0 knows, in its /features order (by name). */
export const AGGREGATOR_NAMES: readonly string[] = Object.keys(SPECS).sort();

/** Gson's JsonElement.toString, near enough for the "Not a JSON ..." messages. */
function jsonText(v: unknown): string {
  return v === undefined ? 'null' : JSON.stringify(v);
}

/** The name member of an aggregator or group_by entry, as QueryParser reads it. */
export function entryName(entry: unknown, family: string, index: number, path: string): string {
  if (!isPlainObject(entry)) throw new ServerError(500, `Not a JSON Object: ${jsonText(entry)}`);
  const raw = entry.name;
  if (raw !== undefined && raw !== null && typeof raw === 'object') {
    throw new ServerError(500, Array.isArray(raw) ? 'JsonArray' : 'JsonObject');
  }
  const name = raw === undefined || raw === null ? '' : String(raw);
  if (name === '') throw badRequest(`${path}.${family}[${index}] must have a name`);
  return name;
}

/** Sets every property in JSON order, then runs the bean validation, as QueryParser does. */
export function configure(
  spec: { javaClass: string; setters: Record<string, (v: unknown) => void>; validate?: () => string[] },
  entry: Record<string, unknown>,
  name: string,
): void {
  for (const [prop, value] of Object.entries(entry)) {
    if (prop === 'name') continue;
    if (prop === 'class') {
      // getClass() makes "class" a read-only bean property: the second form of the message.
      throw badRequest(
        `Property 'class' was specified for object '${name}' but no matching setter was found on '${spec.javaClass}'`,
      );
    }
    const set = Object.prototype.hasOwnProperty.call(spec.setters, prop) ? spec.setters[prop] : undefined;
    if (!set) throw unknownProperty(prop, name, spec.javaClass);
    if (value === null) throw nullProperty();
    set(value);
  }
  const problems = spec.validate?.() ?? [];
  if (problems.length) throw badRequest(...problems);
}

/**
 * Parses a metric's `aggregators` member. `path` is the metric context, e.g. 'query.metric[0]'.
 * Throws ServerError with the status and messages KairosDB 1.3.0 gives.
 */
export function parseAggregators(json: unknown, path: string): CompiledAggregator[] {
  if (json === undefined) return [];
  if (!Array.isArray(json)) throw new ServerError(500, `Not a JSON Array: ${jsonText(json)}`);
  return json.map((entry, j) => {
    const name = entryName(entry, 'aggregators', j, path);
    const qp = `${path}.aggregators[${j}]`;
    const make = Object.prototype.hasOwnProperty.call(SPECS, name) ? SPECS[name] : undefined;
    if (!make) throw badRequest(`${qp}.${name} invalid aggregators name`);
    const spec = make(qp);
    configure(spec, entry as Record<string, unknown>, name);
    return { name, numericOnly: spec.numericOnly, outputsNumbers: spec.outputsNumbers, apply: spec.apply };
  });
}

/** DoubleDataPoint refuses to serialise NaN and infinities; KairosDB answers 500. */
function checkFinite(p: Points): void {
  for (let k = 0; k < p.vs.length; k++) {
    const v = p.vs[k];
    if (typeof v === 'number' && !Number.isFinite(v)) {
      const text = Number.isNaN(v) ? 'NaN' : v > 0 ? 'Infinity' : '-Infinity';
      throw new ServerError(500, `NaN or Infinity:${text} data point=DoubleDataPoint{m_value=${text}, m_timestamp=${p.ts[k]}}`);
    }
  }
}

/**
 * Runs the aggregators in order over one group's points. Number-only aggregators are skipped while the
 * group holds text; an aggregator that outputs numbers (count) turns the group numeric for the rest.
 */
export function applyAggregators(
  aggs: CompiledAggregator[],
  points: Points,
  typeGroup: TypeGroup,
  ctx: AggregatorContext,
): Points {
  let current = points;
  let group = typeGroup;
  for (const agg of aggs) {
    if (agg.numericOnly && group !== 'number') continue;
    current = agg.apply(current, ctx);
    if (agg.outputsNumbers) group = 'number';
  }
  if (aggs.length) checkFinite(current);
  return current;
}

/** The type group a result reports after its aggregators ran (count on text gives numbers). */
export function aggregatedTypeGroup(aggs: CompiledAggregator[], typeGroup: TypeGroup): TypeGroup {
  let group = typeGroup;
  for (const agg of aggs) {
    if (agg.numericOnly && group !== 'number') continue;
    if (agg.outputsNumbers) group = 'number';
  }
  return group;
}
