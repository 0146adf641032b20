/**
 * The query engine's view of the aggregator and grouper modules (src/server/aggregators.ts and
 * groupers.ts, written separately). They are loaded at run time and typed here against the agreed
 * contract, so the server still builds and serves raw and tag-grouped queries without them.
 */
import { ServerError } from './errors';
import type { Points, TypeGroup } from './points';

export interface AggregatorContext {
  queryStart: number;
  queryEnd: number;
  /** IANA zone, default 'UTC'. */
  timeZone: string;
  now: number;
  metricName: string;
  /** Tags of this result group. */
  groupTags: Record<string, string[]>;
  groupByTagNames: string[];
  saveAs(name: string, tags: Record<string, string>, points: Points, ttl: number): void;
}

export interface CompiledAggregator {
  name: string;
  numericOnly: boolean;
  apply(points: Points, ctx: AggregatorContext): Points;
}

export interface CompiledGrouper {
  name: 'time' | 'value' | 'bin';
  groupOf(t: number, v: number | string | null, queryStart: number): number;
  /** The results[].group_by entry for a group number. */
  describe(groupNumber: number): Record<string, unknown>;
}

export interface ParsedGroupBys {
  tagNames: string[] | null;
  groupers: CompiledGrouper[];
}

interface AggregatorsModule {
  parseAggregators(json: unknown, path: string): CompiledAggregator[];
  applyAggregators(aggs: CompiledAggregator[], points: Points, typeGroup: TypeGroup, ctx: AggregatorContext): Points;
  /** Optional: the type group after aggregation (count turns text into numbers). */
  aggregatedTypeGroup?(aggs: CompiledAggregator[], typeGroup: TypeGroup): TypeGroup;
}

interface GroupersModule {
  parseGroupBys(json: unknown, path: string): ParsedGroupBys;
}

interface FeaturesModule {
  FEATURES: unknown;
  featureComponents?(feature: string): unknown[] | undefined;
  unknownFeatureMessage?(feature: string): string;
}

/** require() of a sibling module, or null when it does not exist (yet). */
function optional<T>(name: string): T | null {
  try {
    return require(name) as T;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(name.slice(2))) return null;
    throw e;
  }
}

let aggregators: AggregatorsModule | null | undefined;
let groupers: GroupersModule | null | undefined;
let features: FeaturesModule | null | undefined;

function aggModule(): AggregatorsModule | null {
  if (aggregators === undefined) aggregators = optional<AggregatorsModule>('./aggregators');
  return aggregators;
}

function grouperModule(): GroupersModule | null {
  if (groupers === undefined) groupers = optional<GroupersModule>('./groupers');
  return groupers;
}

/** The features module (GET /api/v1/features), or null when features.ts is absent. */
export function loadFeatures(): FeaturesModule | null {
  if (features === undefined) features = optional<FeaturesModule>('./features');
  return features;
}

export function parseAggregators(json: unknown, path: string): CompiledAggregator[] {
  const m = aggModule();
  if (m) return m.parseAggregators(json, path);
  // Without the module every aggregator is unknown, which is how KairosDB reports it.
  const list = Array.isArray(json) ? json : [];
  if (list.length === 0) return [];
  const first = list[0] as { name?: unknown } | null;
  throw new ServerError(400, `${path}.aggregators[0].${String(first?.name)} invalid aggregators name`);
}

export function applyAggregators(aggs: CompiledAggregator[], points: Points, typeGroup: TypeGroup, ctx: AggregatorContext): Points {
  const m = aggModule();
  if (!m || aggs.length === 0) return points;
  return m.applyAggregators(aggs, points, typeGroup, ctx);
}

export function aggregatedTypeGroup(aggs: CompiledAggregator[], typeGroup: TypeGroup): TypeGroup {
  const m = aggModule();
  if (!m || aggs.length === 0 || !m.aggregatedTypeGroup) return typeGroup;
  return m.aggregatedTypeGroup(aggs, typeGroup);
}

export function parseGroupBys(json: unknown, path: string): ParsedGroupBys {
  const m = grouperModule();
  if (m) return m.parseGroupBys(json, path);
  return parseTagGroupByOnly(json, path);
}

/** Fallback used only while groupers.ts is missing: the tag grouper and KairosDB's messages. */
function parseTagGroupByOnly(json: unknown, path: string): ParsedGroupBys {
  if (!Array.isArray(json)) throw new ServerError(400, `${path}.group_by must be an array`);
  let tagNames: string[] | null = null;
  json.forEach((g: unknown, i: number) => {
    const entry = (g ?? {}) as { name?: unknown; tags?: unknown };
    const ctx = `${path}.group_by[${i}]`;
    if (entry.name !== 'tag') throw new ServerError(400, `${ctx}.${String(entry.name)} invalid group_by name`);
    if (entry.tags === undefined || entry.tags === null) throw new ServerError(400, `${ctx}.tags may not be null`);
    const tags = Array.isArray(entry.tags) ? entry.tags : [entry.tags];
    tagNames = [...(tagNames ?? []), ...tags.map(String)];
  });
  return { tagNames, groupers: [] };
}
