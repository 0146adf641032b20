/**
 * Runs parsed queries against the store and writes KairosDB's response JSON directly as a string
 * (a million raw points would otherwise mean a million small arrays for JSON.stringify).
 * Per metric: select series by tag filter, group by tag, merge each group's series by time, apply
 * limit/order, split by the other groupers and by type group, aggregate, and report sample_size.
 */
import type { Points, TypeGroup } from './point-types';
import { aggregatedTypeGroup, applyAggregators, type AggregatorContext } from './aggregators/compile';
import { matchesTags, type MetricQuery, type ParsedQuery } from './query-parse';
import type { Series, Store } from './store';

export interface ExecContext {
  store: Store;
  now: number;
  /** save_as writes go here (the caller logs and stores them). */
  saveAs(metric: string, tags: Record<string, string>, points: Points, ttl: number): void;
}

export interface QueryStats {
  sampleSize: number;
  series: number;
}

/** Merged points of one tag group, with the index of the series each point came from. */
interface Merged {
  ts: number[];
  vs: Array<number | string>;
  src: number[];
}

/** One series' points in the query range; `id` is its index in the selected series. */
interface Part {
  ts: number[];
  vs: Array<number | string>;
  id: number;
}

/**
 * k-way merge by timestamp into one allocation. Equal timestamps keep the parts' order, so the
 * output is stable in series order. `withSrc` also records each point's part index.
 */
function mergeAll(parts: Part[], withSrc: boolean): Merged {
  let n = 0;
  for (const p of parts) n += p.ts.length;
  const ts = new Array<number>(n);
  const vs = new Array<number | string>(n);
  const src = withSrc ? new Array<number>(n) : [];
  // Binary min-heap of part indexes, keyed by (head timestamp, part index).
  const pos = new Array<number>(parts.length).fill(0);
  const heap: number[] = [];
  const less = (a: number, b: number): boolean => {
    const c = comparePoints(parts[a], pos[a], parts[b], pos[b]);
    return c < 0 || (c === 0 && a < b);
  };
  const siftDown = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  parts.forEach((p, i) => {
    if (p.ts.length > 0) heap.push(i);
  });
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
  let k = 0;
  while (heap.length > 0) {
    const top = heap[0];
    const part = parts[top];
    // Copy the run of this part that stays ahead of the next-best head.
    let best = -1;
    if (heap.length > 1) {
      const c1 = heap[1];
      const c2 = heap.length > 2 ? heap[2] : -1;
      best = c2 >= 0 && less(c2, c1) ? c2 : c1;
    }
    let i = pos[top];
    const end = part.ts.length;
    while (i < end) {
      if (best >= 0) {
        const c = comparePoints(part, i, parts[best], pos[best]);
        if (c > 0 || (c === 0 && top > best)) break;
      }
      ts[k] = part.ts[i];
      vs[k] = part.vs[i];
      if (withSrc) src[k] = part.id;
      k++;
      i++;
    }
    pos[top] = i;
    if (i >= end) {
      const last = heap.pop() as number;
      if (heap.length > 0) {
        heap[0] = last;
        siftDown(0);
      }
    } else siftDown(0);
  }
  return { ts, vs, src };
}

/**
 * SortingDataPointGroup's order: by timestamp, then by double value (text counts as 0); KairosDB
 * breaks remaining ties by identity hash, here by series order.
 */
function comparePoints(a: Part, i: number, b: Part, j: number): number {
  const d = a.ts[i] - b.ts[j];
  if (d !== 0) return d;
  return javaDoubleCompare(numberOrZero(a.vs[i]), numberOrZero(b.vs[j]));
}

function numberOrZero(v: number | string): number {
  return typeof v === 'number' ? v : 0;
}

/** Double.compare: -0.0 below 0.0, NaN above everything. */
function javaDoubleCompare(x: number, y: number): number {
  if (x < y) return -1;
  if (x > y) return 1;
  const xn = Number.isNaN(x);
  const yn = Number.isNaN(y);
  if (xn || yn) return xn === yn ? 0 : xn ? 1 : -1;
  if (x === 0 && y === 0) return Object.is(x, y) ? 0 : Object.is(x, -0) ? -1 : 1;
  return 0;
}

function typeGroupOf(s: Series): TypeGroup {
  return s.type === 'string' ? 'text' : 'number';
}

function valuesJson(p: Points): string {
  const n = p.ts.length;
  if (n === 0) return '[]';
  // Native JSON.stringify over chunks of [t, v] pairs beats string building in JS by far; the
  // chunks stay small so the pair arrays die young. Non-finite numbers come out as null.
  const chunks: string[] = [];
  const CHUNK = 4096;
  for (let start = 0; start < n; start += CHUNK) {
    const end = Math.min(n, start + CHUNK);
    const pairs = new Array<[number, number | string | null]>(end - start);
    for (let i = start; i < end; i++) pairs[i - start] = [p.ts[i], p.vs[i]];
    const text = JSON.stringify(pairs);
    chunks.push(text.slice(1, -1));
  }
  return '[' + chunks.join(',') + ']';
}

function tagsJson(tags: Map<string, Set<string>>): string {
  const names = [...tags.keys()].sort();
  return '{' + names.map((n) => JSON.stringify(n) + ':' + JSON.stringify([...(tags.get(n) as Set<string>)].sort())).join(',') + '}';
}

function unionTags(series: Series[], used: Iterable<number>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const i of used) {
    const tags = series[i].tags;
    for (const k in tags) {
      let set = out.get(k);
      if (!set) out.set(k, (set = new Set()));
      set.add(tags[k]);
    }
  }
  return out;
}

function emptyResult(name: string): string {
  return `{"sample_size":0,"results":[{"name":${JSON.stringify(name)},"tags":{},"values":[]}]}`;
}

interface SubGroup {
  groupNumbers: number[];
  ts: number[];
  vs: Array<number | string>;
  /** Series index per point (empty when not tracked). */
  src: number[];
}

/** One result family before the other groupers: the rows of one type group and one tag-group key. */
interface TagGroup {
  typeGroup: TypeGroup;
  /** getTagsKey: grouped tag names and values concatenated, the sort key. */
  key: string;
  /** The grouped tags' values ("" where a series lacks one); the last series' wins, as in KairosDB's map. */
  values: string[];
  members: number[];
}

function byText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** First `limit` points of a stream (ascending, or descending when `desc`) held in ascending arrays. */
function limitAsc(ts: number[], vs: Array<number | string>, src: number[], limit: number, desc: boolean): SubGroup {
  const n = ts.length;
  const [a, b] = limit > 0 && n > limit ? (desc ? [n - limit, n] : [0, limit]) : [0, n];
  if (a === 0 && b === n) return { groupNumbers: [], ts, vs, src };
  return { groupNumbers: [], ts: ts.slice(a, b), vs: vs.slice(a, b), src: src.slice(a, b) };
}

/**
 * Runs one metric query; returns its `queries[]` entry as JSON text. Follows KairosDatastore: the
 * datastore applies `limit` per stored series (that is sample_size), rows are grouped by type group
 * (number before text) and tag-group key (sorted), merged in SortingDataPointGroup order, split by the
 * other groupers in order of first appearance, limited again per result, then aggregated.
 */
export function runMetric(q: MetricQuery, timeZone: string, ctx: ExecContext, stats: QueryStats): string {
  const { store } = ctx;
  const series = store.seriesOf(q.name).filter((s) => matchesTags(s.tags, q.tags));
  const desc = q.order === 'desc';
  const groups = new Map<string, TagGroup>();
  const parts: Part[] = [];
  let sampleSize = 0;
  series.forEach((s, i) => {
    let [lo, hi] = store.range(s, q.start, q.end);
    if (q.limit > 0 && hi - lo > q.limit) {
      if (desc) lo = hi - q.limit;
      else hi = lo + q.limit;
    }
    if (hi <= lo) {
      parts.push({ ts: [], vs: [], id: i });
      return;
    }
    parts.push({ ts: s.ts.slice(lo, hi), vs: s.vs.slice(lo, hi), id: i });
    sampleSize += hi - lo;
    const typeGroup = typeGroupOf(s);
    let key = '';
    let values: string[] = [];
    if (q.groupByTags) {
      for (const t of q.groupByTags) if (s.tags[t] !== undefined) key += t + s.tags[t];
      values = q.groupByTags.map((t) => s.tags[t] ?? '');
    }
    const id = typeGroup + '\u0000' + key;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { typeGroup, key, values, members: [] }));
    g.values = values;
    g.members.push(i);
  });
  stats.series += series.length;
  if (groups.size === 0) return emptyResult(q.name);

  const ordered = [...groups.values()].sort((a, b) => byText(a.typeGroup, b.typeGroup) || byText(a.key, b.key));
  const results: string[] = [];
  const nameJson = JSON.stringify(q.name);
  for (const tg of ordered) {
    const hasExact = q.aggregators.length === 0 && tg.members.some((i) => (series[i].exact?.size ?? 0) > 0);
    const merged = mergeAll(
      tg.members.map((i) => parts[i]),
      q.groupers.length > 0 || hasExact,
    );
    // Every row of the group lends its tags to each result split from it.
    const tags = unionTags(series, tg.members);

    const subs: SubGroup[] = [];
    if (q.groupers.length === 0) {
      subs.push(limitAsc(merged.ts, merged.vs, merged.src, q.limit, desc));
    } else {
      // Walk the stream in query order so groups appear as KairosDB's Grouper meets them.
      const byKey = new Map<string, SubGroup>();
      const n = merged.ts.length;
      for (let k = 0; k < n; k++) {
        const p = desc ? n - 1 - k : k;
        const nums = q.groupers.map((g) => g.groupOf(merged.ts[p], merged.vs[p], q.start));
        const key = nums.join(',');
        let sub = byKey.get(key);
        if (!sub) {
          byKey.set(key, (sub = { groupNumbers: nums, ts: [], vs: [], src: [] }));
          subs.push(sub);
        }
        sub.ts.push(merged.ts[p]);
        sub.vs.push(merged.vs[p]);
        sub.src.push(merged.src[p]);
      }
      for (let k = 0; k < subs.length; k++) {
        const sub = subs[k];
        if (desc) {
          sub.ts.reverse();
          sub.vs.reverse();
          sub.src.reverse();
        }
        subs[k] = { ...limitAsc(sub.ts, sub.vs, sub.src, q.limit, desc), groupNumbers: sub.groupNumbers };
      }
    }

    for (const sub of subs) {
      const groupTags: Record<string, string[]> = Object.fromEntries([...tags].map(([k, set]) => [k, [...set].sort()]));
      let points: Points = { ts: sub.ts, vs: sub.vs };
      if (q.aggregators.length > 0) {
        const actx: AggregatorContext = {
          queryStart: q.start,
          queryEnd: q.end,
          timeZone,
          now: ctx.now,
          metricName: q.name,
          groupTags,
          groupByTagNames: q.groupByTags ?? [],
          saveAs: (name, t, pts, ttl) => ctx.saveAs(name, t, pts, ttl),
        };
        points = applyAggregators(q.aggregators, { ts: sub.ts.slice(), vs: sub.vs.slice() }, tg.typeGroup, actx);
      }
      const exactTexts: string[] = [];
      if (hasExact) points = markExact(points, sub.src, series, exactTexts);
      if (desc) points = { ts: points.ts.slice().reverse(), vs: points.vs.slice().reverse() };

      // Grouper results come first, then the tag and type results of the row group (Group.addGroupByResults).
      const groupBy: string[] = [];
      q.groupers.forEach((g, i) => groupBy.push(JSON.stringify(g.describe(sub.groupNumbers[i]))));
      if (q.groupByTags) {
        const group: Record<string, string> = {};
        q.groupByTags.forEach((t, i) => (group[t] = tg.values[i]));
        groupBy.push(JSON.stringify({ name: 'tag', tags: q.groupByTags, group }));
      }
      groupBy.push(`{"name":"type","type":"${aggregatedTypeGroup(q.aggregators, tg.typeGroup)}"}`);
      results.push(
        `{"name":${nameJson},"group_by":[${groupBy.join(',')}]` +
          (q.excludeTags ? '' : `,"tags":${tagsJson(tags)}`) +
          `,"values":${exactTexts.length ? unmarkExact(valuesJson(points), exactTexts) : valuesJson(points)}}`,
      );
    }
  }
  stats.sampleSize += sampleSize;
  return `{"sample_size":${sampleSize},"results":[${results.join(',')}]}`;
}

const MARK = '\u0001';

/** Replaces oversized longs by markers that unmarkExact() turns into their exact digits. */
function markExact(p: Points, src: number[], series: Series[], texts: string[]): Points {
  const vs = p.vs.slice();
  for (let i = 0; i < vs.length; i++) {
    const text = series[src[i]].exact?.get(p.ts[i]);
    if (text !== undefined && typeof vs[i] === 'number') {
      vs[i] = MARK + texts.length;
      texts.push(text);
    }
  }
  return { ts: p.ts, vs };
}

function unmarkExact(json: string, texts: string[]): string {
  return json.replace(/"\\u0001(\d+)"/g, (_, k: string) => texts[Number(k)]);
}

export function runQuery(q: ParsedQuery, ctx: ExecContext, stats: QueryStats): string {
  return '{"queries":[' + q.metrics.map((m) => runMetric(m, q.timeZone, ctx, stats)).join(',') + ']}';
}

/** POST /api/v1/datapoints/query/tags: tag names and values of matching series (time range ignored, as on H2). */
export function runTagsQuery(q: ParsedQuery, store: Store): string {
  const entries = q.metrics.map((m) => {
    const series = store.seriesOf(m.name).filter((s) => matchesTags(s.tags, m.tags));
    const tags = unionTags(series, series.keys());
    return `{"results":[{"name":${JSON.stringify(m.name)},"tags":${tagsJson(tags)},"values":[]}]}`;
  });
  return '{"queries":[' + entries.join(',') + ']}';
}

/** Deletes the raw points a query selects; returns the ranges removed, for the log. */
export function runDelete(q: ParsedQuery, store: Store): Array<{ series: Series; start: number; end: number }> {
  const out: Array<{ series: Series; start: number; end: number }> = [];
  for (const m of q.metrics) {
    for (const s of store.seriesOf(m.name)) {
      if (!matchesTags(s.tags, m.tags)) continue;
      if (store.deleteRange(s, m.start, m.end) > 0) out.push({ series: s, start: m.start, end: m.end });
    }
  }
  return out;
}
