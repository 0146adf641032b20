/**
 * Column names for the series of a response (rules in src/table/table-builder.ts). Works on the name, group_by and
 * tags of a result only, so the parsed-object path and the byte-scanning path name columns alike.
 */
import type { KairosGroupByResult } from '../types';
import { setOwn } from '../util/own-key';

/** What naming needs from a result. */
export interface ResultHead {
  name: string;
  group_by?: KairosGroupByResult[];
  tags?: Record<string, string[]>;
}

export interface GroupInfo {
  tagPart: string;
  otherPart: string;
  type?: string;
  group: Record<string, unknown>;
}

export function groupInfo(res: ResultHead): GroupInfo {
  const tags: Array<[string, string]> = [];
  const others: string[] = [];
  const group: Record<string, unknown> = {};
  let type: string | undefined;
  for (const g of res.group_by ?? []) {
    if (g === null || typeof g !== 'object') continue;
    if (g.name === 'type') {
      if (typeof g.type === 'string') type = g.type;
      continue;
    }
    const values = g.group && typeof g.group === 'object' ? g.group : {};
    // Not Object.assign: a tag named "__proto__" would set the group's prototype instead of a key.
    for (const [k, v] of Object.entries(values)) setOwn(group, k, v);
    if (g.name === 'tag') {
      for (const [k, v] of Object.entries(values)) tags.push([k, String(v)]);
    } else {
      for (const [k, v] of Object.entries(values)) others.push(`${k}=${String(v)}`);
    }
  }
  tags.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  if (type !== undefined) group.type = type;
  return {
    tagPart: tags.length ? `{${tags.map(([k, v]) => `${k}=${v}`).join(',')}}` : '',
    otherPart: others.length ? `[${others.join(',')}]` : '',
    type,
    group,
  };
}

export function uniqueName(base: string, used: Set<string>): string {
  let name = base;
  for (let n = 2; used.has(name); n++) name = `${base}#${n}`;
  used.add(name);
  return name;
}

/**
 * Column names for the non-empty results, query by query (`queries[q]` lists that query's non-empty
 * results), with their group info; `used` carries names across queries.
 */
export function nameQueryResults(results: ResultHead[], used: Set<string>): Array<{ column: string; info: GroupInfo }> {
  if (results.length === 1) {
    const info = groupInfo(results[0]);
    // A grouped query keeps its group suffix even when only one group came back, so columns do not rename with the data.
    return [{ column: uniqueName(results[0].name + info.tagPart + info.otherPart, used), info }];
  }
  const infos = results.map(groupInfo);
  const namesWithNumber = new Set<string>();
  results.forEach((r, i) => {
    if (infos[i].type !== 'text') namesWithNumber.add(r.name);
  });
  return results.map((r, i) => {
    const info = infos[i];
    const textSuffix = info.type === 'text' && namesWithNumber.has(r.name) ? ':text' : '';
    return { column: uniqueName(r.name + info.tagPart + info.otherPart + textSuffix, used), info };
  });
}

/** Column names as used in rows: the series' columns, renamed with #n if one equals the timestamp column. */
export function rowColumnNames(columns: string[], tsName: string): string[] {
  const used = new Set<string>([tsName]);
  const taken = new Set(columns);
  return columns.map((column) => {
    if (column !== tsName) return column;
    let n = 2;
    while (taken.has(`${column}#${n}`) || used.has(`${column}#${n}`)) n++;
    const name = `${column}#${n}`;
    used.add(name);
    return name;
  });
}
