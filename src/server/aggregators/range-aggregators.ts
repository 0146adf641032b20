/**
 * Range aggregators (avg, sum, min, max, count, first, last, dev, percentile, least_squares, gaps):
 * the timeline is cut into sampling buckets and each bucket gives zero or more points.
 */
import type { Points } from '../point-types';
import { ServerError } from '../server-errors';
import { alignOrigin, bucketEnd, bucketStart, type RangeGrid } from './range';
import {
  javaDouble,
  readBoolean,
  readDouble,
  readDuration,
  readInteger,
  readLowercaseEnum,
  readTimeZone,
  type Duration,
} from './props';
import { numberOf, type AggregatorContext, type AggregatorSpec } from './types';

/** Where a bucket's output is stamped and what the sub-aggregator may need to know. */
interface BucketInfo {
  returnTime: number;
  alignStartTime: boolean;
  alignEndTime: boolean;
}

/** Reads points [from, to) of one bucket and appends its output. */
type BucketFn = (p: Points, from: number, to: number, info: BucketInfo, out: Points) => void;

interface RangeOptions {
  exhaustive?: boolean;
  extraSetters?: Record<string, (v: unknown) => void>;
  validate?: () => string[];
  /** Runs once per apply, before the buckets (percentile's range check sits here in spirit). */
  outputsNumbers: boolean;
}

/** Cap on gap markers so a 1 ms gaps over a long range cannot exhaust memory (KairosDB would). */
export const MAX_GAP_POINTS = 5_000_000;

function rangeSpec(qp: string, javaClass: string, numericOnly: boolean, bucket: BucketFn, opts: RangeOptions): AggregatorSpec {
  let sampling: Duration = { value: 1, unit: 'MILLISECONDS' };
  let alignSampling = true;
  let alignStartTime = false;
  let alignEndTime = false;
  let trim = false;
  let startTime: number | undefined;
  let endTime: number | undefined;
  let zone: string | undefined;

  const setters: Record<string, (v: unknown) => void> = {
    sampling: (v) => (sampling = readDuration(v, 'sampling', qp)),
    align_sampling: (v) => (alignSampling = readBoolean(v)),
    align_start_time: (v) => (alignStartTime = readBoolean(v)),
    align_end_time: (v) => (alignEndTime = readBoolean(v)),
    trim: (v) => (trim = readBoolean(v)),
    start_time: (v) => (startTime = readInteger(v, 64)),
    end_time: (v) => (endTime = readInteger(v, 64)),
    time_zone: (v) => (zone = readTimeZone(v, qp)),
    ...opts.extraSetters,
  };

  function apply(p: Points, ctx: AggregatorContext): Points {
    const out: Points = { ts: [], vs: [] };
    const n = p.ts.length;
    const tz = zone ?? ctx.timeZone ?? 'UTC';
    // setStartTime feeds both the bucket origin and the first gaps bucket; only the origin is aligned.
    const queryStart = startTime ?? ctx.queryStart;
    const grid: RangeGrid = {
      origin: alignSampling ? alignOrigin(queryStart, sampling.unit, tz) : queryStart,
      sampling,
      zone: tz,
    };
    const info: BucketInfo = { returnTime: 0, alignStartTime, alignEndTime };

    if (!opts.exhaustive) {
      let i = 0;
      while (i < n) {
        const t0 = p.ts[i];
        const end = bucketEnd(grid, t0);
        info.returnTime = alignStartTime ? bucketStart(grid, t0) : alignEndTime ? end : t0;
        let j = i + 1;
        while (j < n && p.ts[j] < end) j++;
        bucket(p, i, j, info, out);
        i = j;
      }
      return out;
    }

    // Exhaustive (gaps): walk every bucket from the query start to min(end, now), data or not.
    const rawEnd = endTime ?? ctx.queryEnd;
    const stop = rawEnd > ctx.now ? ctx.now : rawEnd;
    let next = queryStart;
    let started = false;
    let i = 0;
    while (i < n || (!trim && next <= stop)) {
      let from = next;
      if (trim && !started) {
        started = true;
        from = p.ts[i];
      }
      const start = bucketStart(grid, from);
      const end = bucketEnd(grid, from);
      next = end;
      let stamp = i < n ? p.ts[i] : Number.MAX_SAFE_INTEGER;
      if (alignStartTime || end <= stamp) stamp = start;
      info.returnTime = stamp;
      let j = i;
      while (j < n && p.ts[j] < end) j++;
      bucket(p, i, j, info, out);
      i = j;
      if (out.ts.length > MAX_GAP_POINTS + n) {
        throw new ServerError(500, `gaps would return more than ${MAX_GAP_POINTS} points; use a larger sampling`);
      }
    }
    return out;
  }

  return {
    javaClass,
    numericOnly,
    outputsNumbers: opts.outputsNumbers,
    setters,
    validate: opts.validate,
    apply,
  };
}

function push(out: Points, t: number, v: number | string | null): void {
  out.ts.push(t);
  out.vs.push(v);
}

const PKG = 'org.kairosdb.core.aggregator.';

export function avgSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'AvgAggregator', true, (p, from, to, info, out) => {
    let sum = 0;
    let count = 0;
    for (let k = from; k < to; k++) {
      const v = p.vs[k];
      // AvgAggregator only adds points that are doubles; gaps markers are skipped, not fatal.
      if (typeof v === 'number') {
        sum += v;
        count++;
      }
    }
    push(out, info.returnTime, sum / count);
  }, { outputsNumbers: true });
}

export function sumSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'SumAggregator', true, (p, from, to, info, out) => {
    let sum = 0;
    for (let k = from; k < to; k++) sum += numberOf(p.vs[k]);
    push(out, info.returnTime, sum);
  }, { outputsNumbers: true });
}

export function minSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'MinAggregator', true, (p, from, to, info, out) => {
    let min = Number.MAX_VALUE;
    for (let k = from; k < to; k++) min = Math.min(min, numberOf(p.vs[k]));
    push(out, info.returnTime, min);
  }, { outputsNumbers: true });
}

export function maxSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'MaxAggregator', true, (p, from, to, info, out) => {
    let max = -Number.MAX_VALUE;
    for (let k = from; k < to; k++) max = Math.max(max, numberOf(p.vs[k]));
    push(out, info.returnTime, max);
  }, { outputsNumbers: true });
}

export function countSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'CountAggregator', false, (_p, from, to, info, out) => {
    push(out, info.returnTime, to - from);
  }, { outputsNumbers: true });
}

export function firstSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'FirstAggregator', false, (p, from, _to, info, out) => {
    push(out, info.returnTime, p.vs[from]);
  }, { outputsNumbers: false });
}

export function lastSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'LastAggregator', false, (p, _from, to, info, out) => {
    // Unlike first, last keeps its own timestamp unless a bucket alignment was asked for.
    const t = info.alignStartTime || info.alignEndTime ? info.returnTime : p.ts[to - 1];
    push(out, t, p.vs[to - 1]);
  }, { outputsNumbers: false });
}

export function gapsSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'DataGapsMarkingAggregator', false, (p, from, to, info, out) => {
    if (to > from) {
      for (let k = from; k < to; k++) push(out, p.ts[k], p.vs[k]);
    } else {
      push(out, info.returnTime, null);
    }
  }, { exhaustive: true, outputsNumbers: false });
}

const DEV_TYPES = ['pos_sd', 'neg_sd', 'value'] as const;

export function devSpec(qp: string): AggregatorSpec {
  let returnType: (typeof DEV_TYPES)[number] | null = null;
  let devCount = 1;
  return rangeSpec(qp, PKG + 'StdAggregator', true, (p, from, to, info, out) => {
    // Same running mean / mean-of-squares as StdAggregator so the doubles match to the last bit.
    let count = 0;
    let average = 0;
    let pwrSumAvg = 0;
    for (let k = from; k < to; k++) {
      const v = numberOf(p.vs[k]);
      count++;
      average += (v - average) / count;
      pwrSumAvg += (v * v - pwrSumAvg) / count;
    }
    let sd = Math.sqrt((pwrSumAvg * count - count * average * average) / (count - 1));
    if (Number.isNaN(sd)) sd = 0;
    const value = returnType === 'pos_sd' ? average + sd * devCount : returnType === 'neg_sd' ? average - sd * devCount : sd;
    push(out, info.returnTime, value);
  }, {
    outputsNumbers: true,
    extraSetters: {
      return_type: (v) => (returnType = readLowercaseEnum(v, DEV_TYPES)),
      dev_count: (v) => (devCount = readInteger(v, 32)),
    },
  });
}

export function percentileSpec(qp: string): AggregatorSpec {
  let percentile = 0;
  return rangeSpec(qp, PKG + 'PercentileAggregator', true, (p, from, to, info, out) => {
    // KairosDB samples a 1028-value uniform reservoir; below that size it is exact, as here always.
    const values = new Float64Array(to - from);
    for (let k = from; k < to; k++) values[k - from] = numberOf(p.vs[k]);
    values.sort();
    if (percentile < 0 || percentile > 1) throw new ServerError(500, `${javaDouble(percentile)} is not in [0..1]`);
    const len = values.length;
    const pos = percentile * (len + 1);
    let result: number;
    if (pos < 1) result = values[0];
    else if (pos >= len) result = values[len - 1];
    else {
      const lower = values[Math.floor(pos) - 1];
      const upper = values[Math.floor(pos)];
      result = lower + (pos - Math.floor(pos)) * (upper - lower);
    }
    push(out, info.returnTime, result);
  }, {
    outputsNumbers: true,
    extraSetters: { percentile: (v) => (percentile = readDouble(v, 'percentile', qp)) },
    validate: () => (percentile === 0 ? [`${qp}.percentile may not be zero`] : []),
  });
}

export function leastSquaresSpec(qp: string): AggregatorSpec {
  return rangeSpec(qp, PKG + 'LeastSquaresAggregator', true, (p, from, to, _info, out) => {
    const count = to - from;
    // Running sums in the order commons-math SimpleRegression updates them.
    let sumX = 0;
    let sumY = 0;
    let sumXX = 0;
    let sumXY = 0;
    let xbar = 0;
    let ybar = 0;
    for (let k = from; k < to; k++) {
      const x = p.ts[k];
      const y = numberOf(p.vs[k]);
      const seen = k - from;
      if (seen === 0) {
        xbar = x;
        ybar = y;
      } else {
        const fact1 = 1 + seen;
        const fact2 = seen / (1 + seen);
        const dx = x - xbar;
        const dy = y - ybar;
        sumXX += dx * dx * fact2;
        sumXY += dx * dy * fact2;
        xbar += dx / fact1;
        ybar += dy / fact1;
      }
      sumX += x;
      sumY += y;
    }
    if (count <= 2) {
      for (let k = from; k < to; k++) push(out, p.ts[k], p.vs[k]);
      return;
    }
    const slope = Math.abs(sumXX) < 10 * Number.MIN_VALUE ? NaN : sumXY / sumXX;
    const intercept = (sumY - slope * sumX) / count;
    const first = p.ts[from];
    const last = p.ts[to - 1];
    push(out, first, intercept + slope * first);
    push(out, last, intercept + slope * last);
  }, { outputsNumbers: true });
}
