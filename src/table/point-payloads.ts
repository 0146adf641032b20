/**
 * msg.payload arrays built straight from points in typed arrays (series pairs or {x, y}, ui-chart
 * points), in steps (src/util/slices.ts). Straight from the scan's arrays, a large answer is built
 * once instead of first as `[ts, value]` series values and then again as the payload.
 */
import { formatTimestamp } from '../time/timestamps';
import type { PointValue, TimestampFormat } from '../types';
import { ascendingPoints } from './column-join';
import type { PointColumns } from './point-columns';
import type { SeriesPoints } from './table-builder';
import { chunks, SLICE_UNITS, type Steps } from '../util/slices';

/** One point of Dashboard 2's ui-chart: x in epoch ms. */
export interface ChartPoint {
  series: string;
  x: number;
  y: PointValue | null;
}

/** A series point as the series output sends it: a pair, or {x, y} for ui-chart's point format. */
export type PayloadPoint = [number | string | Date, PointValue | null] | { x: number | string | Date; y: PointValue | null };

/** The value of point i (a numeric NaN was a JSON null). */
function valueAt(p: PointColumns, i: number): PointValue | null {
  if (p.num) {
    const v = p.num[i];
    return v !== v ? null : v;
  }
  return (p.cells as Array<PointValue | null>)[i];
}

/** The `[timestamp, value]` values of points (as Series hold them), in the points' order. */
export function* valuesSteps(p: PointColumns): Steps<Array<[number, PointValue | null]>> {
  const out = new Array<[number, PointValue | null]>(p.length);
  const { ts } = p;
  yield* chunks(p.length, SLICE_UNITS, (start, end) => {
    for (let i = start; i < end; i++) out[i] = [ts[i], valueAt(p, i)];
  });
  return out;
}

/** `[timestamp, value]` pairs in the points' order, timestamps formatted as asked ('ms' keeps the number). */
export function* pairsSteps(p: PointColumns, fmt: TimestampFormat): Steps<Array<[number | string | Date, PointValue | null]>> {
  if (fmt === 'ms') return yield* valuesSteps(p);
  const out = new Array<[number | string | Date, PointValue | null]>(p.length);
  const { ts } = p;
  yield* chunks(p.length, SLICE_UNITS, (start, end) => {
    for (let i = start; i < end; i++) out[i] = [formatTimestamp(ts[i], fmt), valueAt(p, i)];
  });
  return out;
}

/** `{x, y}` points in the points' order. */
export function* xySteps(p: PointColumns, fmt: TimestampFormat): Steps<Array<{ x: number | string | Date; y: PointValue | null }>> {
  const out = new Array<{ x: number | string | Date; y: PointValue | null }>(p.length);
  const { ts } = p;
  yield* chunks(p.length, SLICE_UNITS, (start, end) => {
    for (let i = start; i < end; i++) out[i] = { x: formatTimestamp(ts[i], fmt), y: valueAt(p, i) };
  });
  return out;
}

/** The series payload of `[timestamp, value]` values (as Series hold them), formatted like pairsSteps / xySteps. */
export function* valuesPayloadSteps(values: ReadonlyArray<readonly [number, PointValue | null]>, fmt: TimestampFormat, pointFormat: 'pairs' | 'xy'): Steps<PayloadPoint[]> {
  const out = new Array<PayloadPoint>(values.length);
  yield* chunks(values.length, SLICE_UNITS, (start, end) => {
    if (pointFormat === 'xy') {
      for (let i = start; i < end; i++) out[i] = { x: formatTimestamp(values[i][0], fmt), y: values[i][1] };
    } else for (let i = start; i < end; i++) out[i] = [formatTimestamp(values[i][0], fmt), values[i][1]];
  });
  return out;
}

/** ui-chart points series by series, each in ascending time order (as seriesToChart gives them). */
export function* chartFromPointsSteps(list: SeriesPoints[]): Steps<ChartPoint[]> {
  let total = 0;
  for (const s of list) total += s.points.length;
  const out = new Array<ChartPoint>(total);
  let at = 0;
  for (const s of list) {
    const p = ascendingPoints(s.points);
    const column = s.info.column;
    const base = at;
    yield* chunks(p.length, SLICE_UNITS, (start, end) => {
      for (let i = start; i < end; i++) out[base + i] = { series: column, x: p.ts[i], y: valueAt(p, i) };
    });
    at += p.length;
    yield;
  }
  return out;
}
