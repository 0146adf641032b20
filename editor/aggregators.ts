/**
 * The query dialog's aggregator list: the KairosDB 1.3 catalogue and the conversions between editor rows and
 * KairosDB aggregator objects. DOM-free; messages come from the translator the dialog passes in.
 */
import { TIME_UNITS } from '../src/time/unit-table';
import type { Translate } from './labels';

export interface CatalogueEntry {
  name: string;
  /** Takes a sampling (bucket) value and unit. */
  sampling?: boolean;
  /** Parameters it cannot run without. */
  required?: string[];
  /** Example parameters, shown as the placeholder of the parameter column. */
  hint?: string;
}

/** One row of the editor list as stored in the node (aggregators property). */
export interface AggregatorRow {
  name: string;
  value?: string | number;
  unit?: string;
  params?: string;
}

// Static so the dialog works before the server is reachable; unknown names still pass through raw JSON.
export const AGGREGATORS: readonly CatalogueEntry[] = [
  { name: 'avg', sampling: true }, { name: 'sum', sampling: true }, { name: 'min', sampling: true },
  { name: 'max', sampling: true }, { name: 'count', sampling: true }, { name: 'first', sampling: true },
  { name: 'last', sampling: true }, { name: 'dev', sampling: true, hint: '{"return_type":"value"}' },
  { name: 'percentile', sampling: true, required: ['percentile'], hint: '{"percentile":0.95}' },
  { name: 'least_squares', sampling: true }, { name: 'gaps', sampling: true },
  { name: 'rate', sampling: true }, { name: 'sampler', sampling: true },
  { name: 'diff' }, { name: 'div', required: ['divisor'], hint: '{"divisor":10}' },
  { name: 'scale', required: ['factor'], hint: '{"factor":0.1}' },
  { name: 'sma', required: ['size'], hint: '{"size":5}' },
  { name: 'filter', required: ['filter_op', 'threshold'], hint: '{"filter_op":"lt","threshold":0}' },
  { name: 'trim', required: ['trim'], hint: '{"trim":"both"}' },
  { name: 'score', required: ['thresholds'], hint: '{"thresholds":[{"value":10}]}' },
  { name: 'save_as', required: ['metric_name'], hint: '{"metric_name":"rollup.avg"}' },
];

/** The sampling units offered: KairosDB's names, from the runtime's unit table. */
export const UNITS: readonly string[] = TIME_UNITS;

export function catalogueEntry(name: string | undefined): CatalogueEntry | undefined {
  return AGGREGATORS.find((a) => a.name === name);
}

function isObject(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}

/** Checks one aggregator row; returns a message naming the row and the field, or undefined. */
export function rowProblem(row: AggregatorRow, index: number, t: Translate): string | undefined {
  const where = `#${index + 1} ${row.name || '?'}: `;
  const entry = catalogueEntry(row.name);
  if (!row.name) return where + t('proficloud-query.errors.aggName');
  const value = row.value === undefined ? '' : String(row.value).trim();
  if (value !== '') {
    if (entry && !entry.sampling) return where + t('proficloud-query.errors.aggNoSampling');
    if (!(Number(value) > 0)) return where + t('proficloud-query.errors.aggValue', { value });
  }
  let params: Record<string, unknown> = {};
  if (row.params && String(row.params).trim()) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(row.params);
    } catch {
      return where + t('proficloud-query.errors.aggParams', { value: row.params });
    }
    if (!isObject(parsed)) return where + t('proficloud-query.errors.aggParams', { value: row.params });
    params = parsed;
  }
  const missing = (entry?.required ?? []).filter((p) => !(p in params));
  if (missing.length) return where + t('proficloud-query.errors.aggRequired', { params: missing.join(', ') });
  return undefined;
}

/** The first problem of a stored list, or undefined. */
export function rowsProblem(rows: AggregatorRow[], t: Translate): string | undefined {
  for (let i = 0; i < rows.length; i++) {
    const problem = rowProblem(rows[i], i, t);
    if (problem) return problem;
  }
  return undefined;
}

/** The raw JSON mode's text: an array of objects that each have a name. Returns a message or undefined. */
export function aggJsonProblem(v: unknown, t: Translate): string | undefined {
  let list: unknown;
  try {
    list = JSON.parse(String(v));
  } catch {
    return t('proficloud-query.errors.aggJson');
  }
  if (!Array.isArray(list)) return t('proficloud-query.errors.aggJson');
  for (let i = 0; i < list.length; i++) {
    const item: unknown = list[i];
    if (!isObject(item) || typeof item.name !== 'string' || !item.name) return t('proficloud-query.errors.aggJsonName', { index: i });
  }
  return undefined;
}

/** Editor rows to KairosDB aggregator objects, the shape the raw JSON mode holds. */
export function rowsToKairos(rows: AggregatorRow[]): Array<Record<string, unknown>> {
  return rows.map((r) => {
    const out: Record<string, unknown> = { name: r.name };
    if (r.value !== undefined && String(r.value).trim() !== '') out.sampling = { value: Number(r.value), unit: r.unit || 'minutes' };
    if (r.params) {
      try {
        const params: unknown = JSON.parse(r.params);
        if (isObject(params)) Object.assign(out, params);
      } catch {
        // invalid rows are flagged in the list
      }
    }
    return out;
  });
}

/** KairosDB aggregator objects back to editor rows (switching from raw JSON to the list). */
export function kairosToRows(list: unknown[]): AggregatorRow[] {
  return list.filter(isObject).map((a) => {
    const { name, sampling, ...rest } = a;
    const s = isObject(sampling) ? sampling : undefined;
    const row: AggregatorRow = {
      name: String(name ?? ''),
      value: s ? (s.value as string | number) : '',
      unit: s ? String(s.unit) : 'minutes',
      params: '',
    };
    if (Object.keys(rest).length) row.params = JSON.stringify(rest);
    return row;
  });
}
