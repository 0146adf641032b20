/** Shapes shared by the aggregator modules (re-exported from ../aggregators). */
import { ServerError } from '../server-errors';
import type { Points } from '../point-types';

export interface AggregatorContext {
  queryStart: number;
  queryEnd: number;
  /** IANA zone, default 'UTC'. */
  timeZone: string;
  now: number;
  metricName: string;
  /** Tags of this result group: every value seen per tag name. */
  groupTags: Record<string, string[]>;
  groupByTagNames: string[];
  saveAs(name: string, tags: Record<string, string>, points: Points, ttl: number): void;
}

export interface CompiledAggregator {
  name: string;
  /** Skipped for text groups, as KairosDB's canAggregate does. */
  numericOnly: boolean;
  /** True when the output is numeric whatever came in (count on text), so later numeric aggregators run. */
  outputsNumbers: boolean;
  apply(points: Points, ctx: AggregatorContext): Points;
}

/** One aggregator being parsed: its property setters, bean validation and the compiled step. */
export interface AggregatorSpec {
  javaClass: string;
  numericOnly: boolean;
  outputsNumbers: boolean;
  setters: Record<string, (value: unknown) => void>;
  /** Violation lines (already prefixed with the context). */
  validate?(): string[];
  apply(points: Points, ctx: AggregatorContext): Points;
}

const GAPS_CLASS = 'org.kairosdb.core.aggregator.DataGapsMarkingAggregator';

/** getDoubleValue(): a gaps marker has none, which KairosDB reports as a 500. */
export function numberOf(v: number | string | null): number {
  if (typeof v === 'number') return v;
  if (v === null) throw new ServerError(500, `No aggregator can be chained after ${GAPS_CLASS}`);
  // Text never reaches number-only aggregators; a numeric string is what Java would parse.
  return Number(v);
}
