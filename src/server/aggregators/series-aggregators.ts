/**
 * Point-by-point aggregators: diff, div, scale, rate, sampler, sma, filter, trim, score, save_as.
 */
import type { Points } from '../point-types';
import { ServerError } from '../server-errors';
import { samplingMillis } from './range';
import {
  gsonTypeError,
  isPlainObject,
  readBoolean,
  readDouble,
  readDuration,
  readInteger,
  readLowercaseEnum,
  readString,
  readStringMap,
  readTimeUnit,
  readTimeZone,
  readTrimTypeEnum,
  type Duration,
} from './props';
import { numberOf, type AggregatorSpec } from './types';

const PKG = 'org.kairosdb.core.aggregator.';

function mapValues(p: Points, f: (v: number) => number): Points {
  const vs = new Array<number>(p.vs.length);
  for (let k = 0; k < vs.length; k++) vs[k] = f(numberOf(p.vs[k]));
  return { ts: p.ts.slice(), vs };
}

export function diffSpec(): AggregatorSpec {
  return {
    javaClass: PKG + 'DiffAggregator',
    numericOnly: true,
    outputsNumbers: true,
    setters: {},
    apply(p) {
      const n = p.ts.length;
      const out: Points = { ts: [], vs: [] };
      for (let k = 1; k < n; k++) {
        out.ts.push(p.ts[k]);
        out.vs.push(numberOf(p.vs[k]) - numberOf(p.vs[k - 1]));
      }
      return out;
    },
  };
}

export function divSpec(qp: string): AggregatorSpec {
  let divisor = 0;
  return {
    javaClass: PKG + 'DivideAggregator',
    numericOnly: true,
    outputsNumbers: true,
    setters: { divisor: (v) => (divisor = readDouble(v, 'divisor', qp)) },
    validate: () => (divisor === 0 ? [`${qp}.m_divisor may not be zero`] : []),
    apply: (p) => mapValues(p, (v) => v / divisor),
  };
}

export function scaleSpec(qp: string): AggregatorSpec {
  let factor = 0;
  return {
    javaClass: PKG + 'ScaleAggregator',
    numericOnly: true,
    outputsNumbers: true,
    setters: { factor: (v) => (factor = readDouble(v, 'factor', qp)) },
    apply: (p) => mapValues(p, (v) => v * factor),
  };
}

/** rate and sampler: each point against the one before it, scaled to one sampling period. */
function changeSpec(qp: string, kind: 'rate' | 'sampler'): AggregatorSpec {
  let sampling: Duration = { value: 1, unit: 'MILLISECONDS' };
  let zone: string | undefined;
  const setters: Record<string, (v: unknown) => void> = {
    unit: (v) => (sampling = { value: 1, unit: readTimeUnit(v, qp) }),
    time_zone: (v) => (zone = readTimeZone(v, qp)),
  };
  if (kind === 'rate') setters.sampling = (v) => (sampling = readDuration(v, 'sampling', qp));
  return {
    javaClass: PKG + (kind === 'rate' ? 'RateAggregator' : 'SamplerAggregator'),
    numericOnly: true,
    outputsNumbers: true,
    setters,
    apply(p, ctx) {
      const tz = zone ?? ctx.timeZone ?? 'UTC';
      const n = p.ts.length;
      const out: Points = { ts: [], vs: [] };
      for (let k = 1; k < n; k++) {
        const t0 = p.ts[k - 1];
        const t1 = p.ts[k];
        const x0 = numberOf(p.vs[k - 1]);
        const x1 = numberOf(p.vs[k]);
        if (t1 === t0) {
          throw new ServerError(
            500,
            `The ${kind} aggregator cannot compute rate for data points with the same time stamp.  ` +
              `You must precede ${kind} with another aggregator.`,
          );
        }
        const per = samplingMillis(t0, sampling, tz);
        out.ts.push(t1);
        out.vs.push(kind === 'rate' ? ((x1 - x0) / (t1 - t0)) * per : (x1 / (t1 - t0)) * per);
      }
      return out;
    },
  };
}

export const rateSpec = (qp: string): AggregatorSpec => changeSpec(qp, 'rate');
export const samplerSpec = (qp: string): AggregatorSpec => changeSpec(qp, 'sampler');

export function smaSpec(): AggregatorSpec {
  let size = 0;
  return {
    javaClass: PKG + 'SmaAggregator',
    numericOnly: true,
    outputsNumbers: true,
    setters: { size: (v) => (size = readInteger(v, 32)) },
    apply(p) {
      const n = p.ts.length;
      const out: Points = { ts: [], vs: [] };
      if (n === 0) return out;
      // KairosDB's checkState(size != 0) has no message of its own.
      if (size === 0) throw new ServerError(500, 'sma: size must not be 0');
      if (size < 0) {
        // A negative window empties itself on every point: 0/0 for each one.
        for (let k = 0; k < n; k++) {
          out.ts.push(p.ts[k]);
          out.vs.push(NaN);
        }
        return out;
      }
      // The first size-1 points only fill the window; a running sum keeps this one pass.
      let sum = 0;
      for (let k = 0; k < n; k++) {
        sum += numberOf(p.vs[k]);
        if (k >= size) sum -= numberOf(p.vs[k - size]);
        if (k >= size - 1) {
          out.ts.push(p.ts[k]);
          out.vs.push(sum / Math.min(k + 1, size));
        }
      }
      return out;
    },
  };
}

const FILTER_OPS = ['lte', 'lt', 'gte', 'gt', 'equal', 'ne'] as const;
type FilterOp = (typeof FILTER_OPS)[number];

/** Double.compareTo / String.compareTo sign. */
function compare(a: number | string, b: number | string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  if (typeof a === 'number' && typeof b === 'number') {
    // Java orders NaN above everything and -0.0 below 0.0.
    const an = Number.isNaN(a);
    const bn = Number.isNaN(b);
    if (an || bn) return an === bn ? 0 : an ? 1 : -1;
    if (a === 0 && b === 0) return Object.is(a, b) ? 0 : Object.is(a, -0) ? -1 : 1;
  }
  return 0;
}

function matches(op: FilterOp, c: number): boolean {
  switch (op) {
    case 'lte':
      return c <= 0;
    case 'lt':
      return c < 0;
    case 'gte':
      return c >= 0;
    case 'gt':
      return c > 0;
    case 'equal':
      return c === 0;
    default:
      return c !== 0;
  }
}

export function filterSpec(qp: string): AggregatorSpec {
  let op: FilterOp | null = null;
  let threshold: unknown = 0;
  return {
    javaClass: PKG + 'FilterAggregator',
    numericOnly: false,
    outputsNumbers: false,
    setters: {
      filter_op: (v) => (op = readTrimTypeEnum(v, FILTER_OPS, qp)),
      threshold: (v) => (threshold = v),
    },
    apply(p) {
      const n = p.ts.length;
      const out: Points = { ts: [], vs: [] };
      if (n === 0) return out;
      if (op === null) throw new ServerError(500, `${qp}.filter_op is not set`);
      const o = op;
      for (let k = 0; k < n; k++) {
        const v = p.vs[k];
        let drop: boolean;
        if (typeof threshold === 'string' && typeof v === 'string') drop = matches(o, compare(v, threshold));
        else if (typeof threshold === 'number' && typeof v !== 'string') drop = matches(o, compare(numberOf(v), threshold));
        // A threshold of another type than the point removes the point.
        else drop = true;
        if (!drop) {
          out.ts.push(p.ts[k]);
          out.vs.push(v);
        }
      }
      return out;
    },
  };
}

const TRIMS = ['first', 'last', 'both'] as const;

export function trimSpec(qp: string): AggregatorSpec {
  let trim: (typeof TRIMS)[number] | null = null;
  return {
    javaClass: PKG + 'TrimAggregator',
    numericOnly: false,
    outputsNumbers: false,
    setters: { trim: (v) => (trim = readTrimTypeEnum(v, TRIMS, qp)) },
    apply(p) {
      const n = p.ts.length;
      const from = trim === 'first' || trim === 'both' ? 1 : 0;
      const to = trim === 'last' || trim === 'both' ? n - 1 : n;
      if (to <= from) return { ts: [], vs: [] };
      return { ts: p.ts.slice(from, to), vs: p.vs.slice(from, to) };
    },
  };
}

interface Threshold {
  value: number;
  boundary: 'superior' | 'inferior' | null;
}

/** Threshold.compareValue: equal values sit below a superior boundary and above an inferior one. */
function compareToThreshold(t: Threshold, v: number): number {
  if (v > t.value) return 1;
  if (v < t.value) return -1;
  if (t.boundary === null) throw new ServerError(500, 'score: threshold boundary must be "superior" or "inferior"');
  return t.boundary === 'superior' ? -1 : 1;
}

function readThresholds(v: unknown, qp: string): Threshold[] {
  if (!Array.isArray(v)) throw gsonTypeError('BEGIN_ARRAY', v);
  return v.map((entry, i) => {
    if (!isPlainObject(entry)) throw gsonTypeError('BEGIN_OBJECT', entry, `$[${i}]`);
    const t: Threshold = { value: 0, boundary: 'superior' };
    if (entry.value !== undefined && entry.value !== null) t.value = readDouble(entry.value, 'thresholds', qp, `$[${i}].value`);
    if (entry.boundary !== undefined) t.boundary = readLowercaseEnum(entry.boundary, ['superior', 'inferior'] as const);
    return t;
  });
}

export function scoreSpec(qp: string): AggregatorSpec {
  let thresholds: Threshold[] | null = null;
  let order: 'ascending' | 'descending' | null = 'ascending';
  return {
    javaClass: PKG + 'ScoreAggregator',
    numericOnly: true,
    outputsNumbers: true,
    setters: {
      thresholds: (v) => {
        const list = readThresholds(v, qp);
        list.sort((a, b) => (a.value === b.value && a.boundary === b.boundary ? 0 : compareToThreshold(b, a.value)));
        thresholds = list;
      },
      order: (v) => (order = readLowercaseEnum(v, ['ascending', 'descending'] as const)),
    },
    validate() {
      const problems: string[] = [];
      if (thresholds === null) problems.push(`${qp}.thresholds may not be null`);
      if (order === null) problems.push(`${qp}.order may not be null`);
      return problems;
    },
    apply(p) {
      const list = thresholds ?? [];
      const descending = order === 'descending';
      return mapValues(p, (v) => {
        let score = 0;
        while (score < list.length && compareToThreshold(list[score], v) >= 0) score++;
        return descending ? list.length - score : score;
      });
    },
  };
}

export function saveAsSpec(): AggregatorSpec {
  let metricName: string | null = null;
  let tags: Record<string, string> = {};
  let ttl = 0;
  let addSavedFrom = true;
  return {
    javaClass: PKG + 'SaveAsAggregator',
    numericOnly: false,
    outputsNumbers: false,
    setters: {
      metric_name: (v) => (metricName = readString(v)),
      tags: (v) => (tags = readStringMap(v)),
      ttl: (v) => (ttl = readInteger(v, 32)),
      add_saved_from: (v) => (addSavedFrom = readBoolean(v)),
    },
    apply(p, ctx) {
      // KairosDB's ingest drops events without a metric name asynchronously; the query still succeeds.
      if (p.ts.length === 0 || !metricName) return p;
      const entries: Array<[string, string]> = Object.entries(tags);
      if (addSavedFrom) entries.push(['saved_from', ctx.metricName]);
      for (const name of ctx.groupByTagNames) {
        const values = ctx.groupTags[name];
        if (values && values.length === 1) entries.push([name, values[0]]);
      }
      const saved: Record<string, string> = {};
      for (const [k, v] of entries.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) {
        if (k in saved) {
          // Guava's ImmutableSortedMap refuses the second entry for a key.
          throw new ServerError(500, `Multiple entries with same key: ${k}=${saved[k]} and ${k}=${v}`);
        }
        saved[k] = v;
      }
      ctx.saveAs(metricName, saved, { ts: p.ts.slice(), vs: p.vs.slice() }, ttl);
      return p;
    },
  };
}
