/**
 * KairosDB 1.3.0 group_by entries for the local server: tag (done by the server when it splits series),
 * and the per-point groupers time, value and bin, with KairosDB's validation messages.
 */
import { ServerError, badRequest } from './server-errors';
import { configure, entryName } from './aggregators/compile';
import { readDoubleList, readDuration, readInteger, readStringList, unitMs, type Duration } from './aggregators/props';

export interface CompiledGrouper {
  name: 'time' | 'value' | 'bin';
  /** The group number of one raw point; queryStart is where time groups count from. */
  groupOf(t: number, v: number | string | null, queryStart: number): number;
  /** The results[].group_by entry for a group number. */
  describe(groupNumber: number): Record<string, unknown>;
}

const PKG = 'org.kairosdb.core.groupby.';

/** Java's (int) cast of a double: truncation, saturating at the int range, NaN to 0. */
function javaIntFromDouble(x: number): number {
  if (Number.isNaN(x)) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x);
}

function fixedMillis(d: Duration): number {
  // TimeGroupBy's switch falls through: a year is 52 weeks here, not a calendar year; months have no case (NaN).
  if (d.unit === 'MONTHS') return NaN;
  return d.value * (d.unit === 'YEARS' ? 52 * unitMs('WEEKS') : unitMs(d.unit));
}

function timeGrouper(qp: string, entry: Record<string, unknown>): CompiledGrouper {
  let rangeSize: Duration | null = null;
  let groupCount = 0;
  let startDate: number | undefined;
  configure(
    {
      javaClass: PKG + 'TimeGroupBy',
      setters: {
        range_size: (v) => (rangeSize = readDuration(v, 'range_size', qp)),
        group_count: (v) => (groupCount = readInteger(v, 32)),
        start_date: (v) => (startDate = readInteger(v, 64)),
      },
      validate() {
        const problems: string[] = [];
        if (rangeSize === null) problems.push(`${qp}.rangeSize may not be null`);
        if (groupCount < 1) problems.push(`${qp}.groupCount must be greater than or equal to 1`);
        return problems;
      },
    },
    entry,
    'time',
  );
  const size = rangeSize as unknown as Duration;
  const count = groupCount;
  return {
    name: 'time',
    groupOf(t, _v, queryStart) {
      const origin = startDate ?? queryStart;
      if (size.unit === 'MONTHS') {
        // Months are counted on the UTC calendar whatever the query's time zone.
        const a = new Date(t);
        const b = new Date(origin);
        const months = (a.getUTCFullYear() - b.getUTCFullYear()) * 12 + (a.getUTCMonth() - b.getUTCMonth());
        return months % count;
      }
      const ms = fixedMillis(size);
      if (ms === 0) throw new ServerError(500, '/ by zero');
      return Math.trunc((t - origin) / ms) % count | 0;
    },
    describe: (k) => ({
      name: 'time',
      range_size: { value: size.value, unit: size.unit },
      group_count: count,
      group: { group_number: k },
    }),
  };
}

function valueGrouper(qp: string, entry: Record<string, unknown>): CompiledGrouper {
  let rangeSize = 0;
  configure(
    {
      javaClass: PKG + 'ValueGroupBy',
      setters: {
        range_size: (v) => (rangeSize = readInteger(v, 32)),
        start_date: (v) => void readInteger(v, 64),
      },
      validate: () => (rangeSize < 1 ? [`${qp}.rangeSize must be greater than or equal to 1`] : []),
    },
    entry,
    'value',
  );
  const size = rangeSize;
  return {
    name: 'value',
    groupOf(_t, v) {
      if (typeof v !== 'number') return -1;
      // Longs divide as longs then narrow; doubles are cast to int before the (int) division.
      if (Number.isInteger(v)) return Math.trunc(v / size) | 0;
      return Math.trunc(javaIntFromDouble(v) / size) | 0;
    },
    describe: (k) => ({ name: 'value', range_size: size, group: { group_number: k } }),
  };
}

function binGrouper(qp: string, entry: Record<string, unknown>): CompiledGrouper {
  let bins: number[] | null = null;
  configure(
    {
      javaClass: PKG + 'BinGroupBy',
      setters: {
        bins: (v) => (bins = readDoubleList(v, 'bins', qp)),
        start_date: (v) => void readInteger(v, 64),
      },
    },
    entry,
    'bin',
  );
  const list = bins as number[] | null;
  return {
    name: 'bin',
    groupOf(_t, v) {
      if (typeof v !== 'number') return -1;
      if (!list || list.length === 0) throw new ServerError(500, `${qp}.bins must list at least one bin value`);
      if (v < list[0]) return 0;
      for (let i = 0; i < list.length - 1; i++) {
        if (v >= list[i] && v < list[i + 1]) return i + 1;
      }
      return list.length;
    },
    describe: (k) => ({ name: 'bin', bins: list ? list.slice() : [], group: { bin_number: k } }),
  };
}

/**
 * Parses a metric's `group_by` member. `tagNames` comes from the first tag entry (KairosDB uses only that
 * one); the other groupers keep their request order. Throws ServerError with KairosDB's messages.
 */
export function parseGroupBys(json: unknown, path: string): { tagNames: string[] | null; groupers: CompiledGrouper[] } {
  let tagNames: string[] | null = null;
  const groupers: CompiledGrouper[] = [];
  if (json === undefined) return { tagNames, groupers };
  if (!Array.isArray(json)) throw new ServerError(500, `Not a JSON Array: ${JSON.stringify(json)}`);
  json.forEach((entry, i) => {
    const name = entryName(entry, 'group_by', i, path);
    const qp = `${path}.group_by[${i}]`;
    const obj = entry as Record<string, unknown>;
    switch (name) {
      case 'tag': {
        let tags: string[] | null = null;
        configure(
          {
            javaClass: PKG + 'TagGroupBy',
            setters: {
              tags: (v) => (tags = readStringList(v)),
              start_date: (v) => void readInteger(v, 64),
            },
            validate() {
              if (tags === null) return [`${qp}.tags may not be null`];
              return tags.length === 0 ? [`${qp}.tags may not be empty`] : [];
            },
          },
          obj,
          'tag',
        );
        if (tagNames === null) tagNames = tags;
        break;
      }
      case 'time':
        groupers.push(timeGrouper(qp, obj));
        break;
      case 'value':
        groupers.push(valueGrouper(qp, obj));
        break;
      case 'bin':
        groupers.push(binGrouper(qp, obj));
        break;
      default:
        throw badRequest(`${qp}.${name} invalid group_by name`);
    }
  });
  return { tagNames, groupers };
}

/** The results[].group_by entry of a tag group; a tag missing on the series shows as "". */
export function describeTagGroup(tagNames: string[], groupValues: Record<string, string>): Record<string, unknown> {
  const group: Record<string, string> = {};
  for (const name of tagNames) group[name] = groupValues[name] ?? '';
  return { name: 'tag', tags: tagNames.slice(), group };
}
