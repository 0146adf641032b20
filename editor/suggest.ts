/** Metric-name suggestions for a comma-separated list, DOM-free part: what to ask for and what to offer. */

export interface Suggestion {
  value: string;
  label: string;
}

/** The name being typed (after the last comma) and the names already chosen before it. */
export function metricQuery(value: unknown): { prefix: string; chosen: string[] } {
  const parts = String(value || '').split(',');
  const prefix = (parts.pop() ?? '').trim();
  return { prefix, chosen: parts.map((s) => s.trim()).filter(Boolean) };
}

/** Up to 30 offers, each completing the list with one name not yet chosen. */
export function suggestions(chosen: string[], names: unknown): Suggestion[] {
  const list = Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
  return list
    .filter((n) => chosen.indexOf(n) === -1)
    .slice(0, 30)
    .map((n) => ({ value: chosen.concat([n]).join(', '), label: n }));
}
