/**
 * Size limits the write nodes apply after building points. KairosDB itself sets none, but one 2 MB
 * string or a 5,000-character metric name in a flow is a bug upstream, and such a point would sit in
 * the outbox (and in every retry) until the datastore refuses it. Bad points are reported and left
 * out; the rest of the message is still written.
 */
import { describeValue } from '../errors';
import { countPoints, type PushBuildResult } from './push-body';
import type { KairosPushMetric } from '../types';

/** Metric names, tag names and tag values (KairosDB keys them into datastore row keys). */
export const MAX_NAME_LENGTH = 512;
/** A string value of one data point. */
export const MAX_STRING_VALUE_LENGTH = 64 * 1024;

function tooLong(what: string, value: string, max: number): string {
  return `${what}: longer than ${max} characters (got ${value.length} characters: ${describeValue(value)})`;
}

/** Whether a metric could break a limit (only then is the message's result copied and filtered). */
function mayBreakLimits(m: KairosPushMetric): boolean {
  if (m.name.length > MAX_NAME_LENGTH) return true;
  for (const k in m.tags) if (k.length > MAX_NAME_LENGTH || m.tags[k].length > MAX_NAME_LENGTH) return true;
  return m.type === 'string' || (m.type === undefined && (typeof m.value === 'string' || m.datapoints?.some((d) => typeof d[1] === 'string') === true));
}

/** Drops metrics with oversized names or tags and points with oversized string values, with one message each. */
export function enforceLimits(built: PushBuildResult): PushBuildResult {
  if (built.columns?.length) return columnLimits(built);
  return metricLimits(built);
}

/** Column series hold numbers only: their names and tags are what can break a limit. */
function columnLimits(built: PushBuildResult): PushBuildResult {
  const cols = built.columns ?? [];
  const tooLongName = (name: string, tags: KairosPushMetric['tags']): string | undefined => {
    if (name.length > MAX_NAME_LENGTH) return tooLong('metric name', name, MAX_NAME_LENGTH);
    for (const k in tags) {
      if (k.length > MAX_NAME_LENGTH) return tooLong(`${name}: tag name`, k, MAX_NAME_LENGTH);
      if (tags[k].length > MAX_NAME_LENGTH) return tooLong(`${name}: tag ${k}`, tags[k], MAX_NAME_LENGTH);
    }
    return undefined;
  };
  const rest = metricLimits({ metrics: built.metrics, errors: built.errors, rejected: built.rejected });
  if (!cols.some((c) => tooLongName(c.name, c.tags) !== undefined)) return { ...rest, columns: cols };
  const errors = [...rest.errors];
  let rejected = rest.rejected;
  const columns = cols.filter((c) => {
    const problem = tooLongName(c.name, c.tags);
    if (problem === undefined) return true;
    errors.push(problem);
    rejected += c.length;
    return false;
  });
  return { metrics: rest.metrics, errors, rejected, columns };
}

function metricLimits(built: PushBuildResult): PushBuildResult {
  // Common case (numbers, short names): nothing to check further, no copy per message.
  let suspect = false;
  for (const m of built.metrics) if ((suspect = mayBreakLimits(m))) break;
  if (!suspect) return built;
  const errors = [...built.errors];
  let rejected = built.rejected;
  const metrics: KairosPushMetric[] = [];
  for (const m of built.metrics) {
    if (m.name.length > MAX_NAME_LENGTH) {
      errors.push(tooLong('metric name', m.name, MAX_NAME_LENGTH));
      rejected += countPoints(m);
      continue;
    }
    const badTag = Object.entries(m.tags).find(([k, v]) => k.length > MAX_NAME_LENGTH || v.length > MAX_NAME_LENGTH);
    if (badTag) {
      const [k, v] = badTag;
      errors.push(k.length > MAX_NAME_LENGTH ? tooLong(`${m.name}: tag name`, k, MAX_NAME_LENGTH) : tooLong(`${m.name}: tag ${k}`, v, MAX_NAME_LENGTH));
      rejected += countPoints(m);
      continue;
    }
    // Cheap pass: only string-typed metrics can hold oversized values.
    if (m.type === 'string' || (m.type === undefined && (typeof m.value === 'string' || m.datapoints?.some((d) => typeof d[1] === 'string')))) {
      const keep = m.datapoints?.filter((d) => {
        if (typeof d[1] !== 'string' || d[1].length <= MAX_STRING_VALUE_LENGTH) return true;
        errors.push(tooLong(`${m.name} at ${d[0]}: string value`, d[1], MAX_STRING_VALUE_LENGTH));
        rejected++;
        return false;
      });
      let value = m.value;
      if (typeof value === 'string' && value.length > MAX_STRING_VALUE_LENGTH) {
        errors.push(tooLong(`${m.name} at ${m.timestamp}: string value`, value, MAX_STRING_VALUE_LENGTH));
        rejected++;
        value = undefined;
      }
      const out: KairosPushMetric = { ...m, ...(keep ? { datapoints: keep } : {}) };
      if (value === undefined) {
        delete out.value;
        delete out.timestamp;
      }
      if (countPoints(out) > 0) metrics.push(out);
      continue;
    }
    metrics.push(m);
  }
  return { metrics, errors, rejected };
}
