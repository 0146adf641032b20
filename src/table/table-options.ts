/** Table options checked once (field and value named on error). */
import { ValidationError } from '../errors';
import type { FillNaMethod, TableOptions, TimestampFormat } from '../types';

export type CheckedTableOptions = Required<Omit<TableOptions, 'fillNaMethod'>> & { fillNaMethod: FillNaMethod };

export function checkTableOptions(opts: TableOptions): CheckedTableOptions {
  const fill = opts.fillNaMethod ?? null;
  if (fill !== null && !['ffill', 'pad', 'bfill', 'backfill'].includes(fill)) {
    throw new ValidationError('fillNaMethod', fill, 'must be "ffill", "pad", "bfill", "backfill" or null');
  }
  const convert: TimestampFormat = opts.convertTimestamp ?? 'ms';
  if (!['ms', 'iso', 'date'].includes(convert)) {
    throw new ValidationError('convertTimestamp', convert, 'must be "ms", "iso" or "date"');
  }
  const tsName = opts.timestampColumnName ?? 'Timestamp';
  if (typeof tsName !== 'string' || tsName === '') {
    throw new ValidationError('timestampColumnName', tsName, 'must be a non-empty string');
  }
  for (const key of ['dropTrailingNa', 'orderDesc'] as const) {
    if (opts[key] !== undefined && typeof opts[key] !== 'boolean') throw new ValidationError(key, opts[key], 'must be true or false');
  }
  return {
    fillNaMethod: fill,
    dropTrailingNa: opts.dropTrailingNa ?? true,
    orderDesc: opts.orderDesc ?? false,
    convertTimestamp: convert,
    timestampColumnName: tsName,
  };
}
