/**
 * In-memory shape of a series' points inside the local server: parallel arrays rather than one
 * object per point, so a million-point query allocates a few arrays instead of a million objects.
 */
export interface Points {
  /** Epoch ms, ascending unless a caller documents otherwise. */
  ts: number[];
  /** Numbers (long or double), strings (text type), or null (gaps markers). */
  vs: Array<number | string | null>;
}

/** KairosDB's storage type of a series: part of its identity (a long and a double series never merge). */
export type StoredType = 'long' | 'double' | 'string';

/** The value group KairosDB reports in group_by type: "number" for long/double, "text" for strings. */
export type TypeGroup = 'number' | 'text';
