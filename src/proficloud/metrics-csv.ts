/**
 * The metrics CSV that EWIMA's "client metrics" UI imports: a `selector;metricalias` header, one metric
 * per line, ';' separated, fields quoted (with doubled quotes) when they hold ';', '"', a line break or
 * edge spaces. An entry without an alias uses its selector as the alias.
 */
import { writeFile } from 'node:fs/promises';
import { ValidationError } from '../errors';

export type MetricsCsvEntry = string | { selector: string; alias?: string };

export const METRICS_CSV_HEADER = 'selector;metricalias';

function quote(field: string): string {
  return /[;"\r\n]|^\s|\s$/.test(field) ? `"${field.replace(/"/g, '""')}"` : field;
}

export function generateMetricsCsv(metrics: MetricsCsvEntry[]): string {
  if (!Array.isArray(metrics)) throw new ValidationError('metrics', metrics, 'must be an array of selectors or {selector, alias}');
  const lines = [METRICS_CSV_HEADER];
  const seen = new Set<string>();
  metrics.forEach((m, i) => {
    const field = `metrics[${i}]`;
    let selector: unknown;
    let alias: unknown;
    if (typeof m === 'string') {
      selector = m;
    } else if (m !== null && typeof m === 'object' && !Array.isArray(m)) {
      selector = m.selector;
      alias = m.alias;
    } else {
      throw new ValidationError(field, m, 'must be a selector string or {selector, alias}');
    }
    if (typeof selector !== 'string' || selector.trim() === '') {
      throw new ValidationError(`${field}.selector`, selector, 'must be a non-empty string');
    }
    if (alias !== undefined && (typeof alias !== 'string' || alias.trim() === '')) {
      throw new ValidationError(`${field}.alias`, alias, 'must be a non-empty string when given');
    }
    if (seen.has(selector)) throw new ValidationError(`${field}.selector`, selector, 'appears twice');
    seen.add(selector);
    lines.push(`${quote(selector)};${quote((alias as string | undefined) ?? selector)}`);
  });
  return lines.join('\n') + '\n';
}

export async function writeMetricsCsv(path: string, metrics: MetricsCsvEntry[]): Promise<void> {
  if (typeof path !== 'string' || path.trim() === '') throw new ValidationError('path', path, 'must be a file path');
  const csv = generateMetricsCsv(metrics);
  try {
    await writeFile(path, csv, 'utf8');
  } catch (err) {
    throw new ValidationError('path', path, `cannot write the CSV file (${(err as NodeJS.ErrnoException).code ?? 'write error'})`);
  }
}
