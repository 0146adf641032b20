/**
 * Turning editor text and loosely typed msg properties into the library's option shapes.
 * Every failure is a ValidationError naming the field and the value, so a Catch node can show it.
 */
import { ValidationError } from '../errors';
import { emptyTagName } from './push-body';
import type { Aggregator, GroupBy, TagFilter, Tags } from '../types';
import { normalizeTimeUnit } from '../time/time-units';
import { MAX_NAME_LENGTH } from './write-limits';
import { isPlainObject } from '../util/validate';

/** Metric names from "a, b", "a\nb", ["a","b"]; an empty list is an error. */
export function parseMetricList(raw: unknown, field: string): string[] {
  let list: unknown[];
  if (typeof raw === 'string') list = raw.split(/[,\n]/);
  else if (Array.isArray(raw)) list = raw;
  else throw new ValidationError(field, raw, 'must be a metric name, a comma-separated list or an array of names');
  const names: string[] = [];
  for (const [i, item] of list.entries()) {
    if (typeof item !== 'string') throw new ValidationError(`${field}[${i}]`, item, 'metric name must be a string');
    const name = item.trim();
    // A blank piece of a comma list is editor slack; an explicit empty array element is a mistake.
    if (!name && Array.isArray(raw)) throw new ValidationError(`${field}[${i}]`, item, 'metric name must not be empty');
    if (name.length > MAX_NAME_LENGTH) throw new ValidationError(`${field}[${i}]`, name, `metric name is longer than ${MAX_NAME_LENGTH} characters`);
    if (name) names.push(name);
  }
  if (names.length === 0) throw new ValidationError(field, raw, 'at least one metric name is required');
  return names;
}

function splitPairs(text: string): string[] {
  return text.split(/[,;\n]/).map((s) => s.trim()).filter(Boolean);
}

/** "key=value" into its trimmed halves; both must be non-empty. */
function keyValue(pair: string, field: string, expected: string): [string, string] {
  const eq = pair.indexOf('=');
  if (eq <= 0 || eq === pair.length - 1) throw new ValidationError(field, pair, expected);
  return [pair.slice(0, eq).trim(), pair.slice(eq + 1).trim()];
}

/** JSON typed into the editor or set on msg; `shown` is the value the error names (the untrimmed input). */
function parseJson(text: string, field: string, shown: unknown = text): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new ValidationError(field, shown, 'is not valid JSON');
  }
}

/** Write tags: a JSON object or "k=v, k2=v2"; every value becomes a non-empty string. */
export function parseTags(raw: unknown, field: string): Tags {
  if (raw === undefined || raw === null || raw === '') return {};
  let obj: unknown = raw;
  if (typeof raw === 'string') {
    const text = raw.trim();
    if (!text) return {};
    if (text.startsWith('{')) {
      obj = parseJson(text, field, raw);
    } else {
      // Object.fromEntries keeps "__proto__" an own key (an assignment would set the prototype).
      return Object.fromEntries(splitPairs(text).map((pair) => keyValue(pair, field, 'expected key=value')));
    }
  }
  if (!isPlainObject(obj)) throw new ValidationError(field, raw, 'must be an object of tag name to value or a key=value list');
  const tags: Array<[string, string]> = [];
  for (const [k, v] of Object.entries(obj)) {
    if (!k.trim()) {
      const err = new ValidationError(field, k, 'tag name must not be empty');
      err.message = emptyTagName(field, k, v);
      throw err;
    }
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ValidationError(`${field}.${k}`, v, 'tag value must be a string, number or boolean');
    const s = String(v);
    if (!s) throw new ValidationError(`${field}.${k}`, v, 'tag value must not be empty');
    tags.push([k, s]);
  }
  return Object.fromEntries(tags) as Tags;
}

/** Query tag filter: like parseTags but a value may list alternatives ("site=a|b") or be an array. */
export function parseTagFilter(raw: unknown, field: string): TagFilter | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'string' && !raw.trim().startsWith('{')) {
    const filter: TagFilter = {};
    for (const pair of splitPairs(raw)) {
      const [k, alternatives] = keyValue(pair, field, 'expected key=value or key=v1|v2');
      const values = alternatives.split('|').map((v) => v.trim()).filter(Boolean);
      filter[k] = values.length === 1 ? values[0] : values;
    }
    return Object.keys(filter).length ? filter : undefined;
  }
  const obj = typeof raw === 'string' ? parseJson(raw, field) : raw;
  if (!isPlainObject(obj)) throw new ValidationError(field, raw, 'must be an object of tag name to value(s)');
  const filter: TagFilter = {};
  for (const [k, v] of Object.entries(obj)) {
    if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) filter[k] = v.map(String);
    else if (typeof v === 'string' || typeof v === 'number') filter[k] = String(v);
    else throw new ValidationError(`${field}.${k}`, v, 'must be a string or an array of strings');
  }
  return Object.keys(filter).length ? filter : undefined;
}

/** One row of the editor's aggregator list. */
export interface AggregatorRow {
  name: string;
  value?: string | number;
  unit?: string;
  params?: string;
}

/** Aggregators from the editor list, a JSON string, or an array of KairosDB aggregator objects. */
export function parseAggregators(raw: unknown, field: string): Aggregator[] | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const list = typeof raw === 'string' ? parseJson(raw, field) : raw;
  if (!Array.isArray(list)) throw new ValidationError(field, raw, 'must be an array of aggregators');
  if (list.length === 0) return undefined;
  return list.map((item, i) => toAggregator(item, `${field}[${i}]`));
}

function toAggregator(item: unknown, field: string): Aggregator {
  if (!isPlainObject(item)) throw new ValidationError(field, item, 'aggregator must be an object with a name');
  const src = item;
  if (typeof src.name !== 'string' || !src.name.trim()) throw new ValidationError(`${field}.name`, src.name, 'aggregator name is required');
  const agg: Aggregator = { name: src.name.trim() };
  // Editor rows carry sampling as value + unit + a JSON params string; KairosDB objects pass through.
  const isEditorRow = 'params' in src || ('unit' in src && !('sampling' in src));
  if (isEditorRow) {
    if (src.value !== undefined && src.value !== '') {
      const value = Number(src.value);
      if (!Number.isFinite(value) || value <= 0) throw new ValidationError(`${field}.value`, src.value, 'sampling value must be a positive number');
      agg.sampling = { value, unit: normalizeTimeUnit(src.unit ?? 'minutes', `${field}.unit`) };
    }
    if (typeof src.params === 'string' && src.params.trim()) {
      const params = parseJson(src.params, `${field}.params`);
      if (!isPlainObject(params)) throw new ValidationError(`${field}.params`, src.params, 'must be a JSON object');
      Object.assign(agg, params);
    }
    return agg;
  }
  Object.assign(agg, src, { name: agg.name });
  return agg;
}

/** group_by from msg (KairosDB objects) or a tag-name list from the editor. */
export function parseGroupBy(raw: unknown, field: string): GroupBy[] | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  if (typeof raw === 'string' && !raw.trim().startsWith('[')) {
    const tags = raw.split(/[,\n]/).map((s) => s.trim()).filter(Boolean);
    return tags.length ? [{ name: 'tag', tags }] : undefined;
  }
  const list = typeof raw === 'string' ? parseJson(raw, field) : raw;
  if (!Array.isArray(list)) throw new ValidationError(field, raw, 'must be an array of group_by objects or a list of tag names');
  return list.map((g, i) => {
    if (!g || typeof g !== 'object' || typeof (g as GroupBy).name !== 'string') throw new ValidationError(`${field}[${i}]`, g, 'group_by entry needs a name');
    return g as GroupBy;
  });
}

/** Non-negative integer or undefined for empty; names the field otherwise. */
export function parseOptionalInt(raw: unknown, field: string, min = 0): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const n = typeof raw === 'string' ? Number(raw.trim()) : raw;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < min) throw new ValidationError(field, raw, `must be an integer >= ${min}`);
  return n;
}
