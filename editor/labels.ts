/**
 * Node labels as the flow shows them, DOM-free. Node-RED calls them with the node as `this`; the node
 * has its name and the properties its dialog saved.
 */
import { timeUnitOf, type TimeUnit } from '../src/time/unit-table';
import { splitNames } from './checks';

/** t(key, subs) in one node type's catalogue. */
export type Translate = (key: string, subs?: Record<string, unknown>) => string;

/** The saved properties a label reads (all optional: a label also runs for a freshly dropped node). */
export interface LabelNode {
  name?: string;
  [property: string]: unknown;
}

const UNIT_SHORT: Record<TimeUnit, string> = { milliseconds: 'ms', seconds: 's', minutes: 'min', hours: 'h', days: 'd', weeks: 'w', months: 'mo', years: 'y' };
const SERVICE_NAMES: Record<string, string> = { tsd: 'Proficloud TSD', ewima: 'Proficloud EWIMA', io: 'proficloud.io' };

/** A unit as the label abbreviates it, any spelling the runtime accepts. */
function unitShort(unit: unknown): string {
  const u = typeof unit === 'string' ? timeUnitOf(unit) : undefined;
  return u ? UNIT_SHORT[u] : '';
}

/** Up to two names for a node label, then how many more. */
export function namesLabel(names: string[]): string {
  return names.length > 2 ? `${names.slice(0, 2).join(', ')} +${names.length - 2}` : names.join(', ');
}

/** A poll interval in the largest whole unit: 2 s, 5 min, 250 ms. */
export function every(ms: unknown): string {
  const n = Number(ms);
  if (n >= 60000 && n % 60000 === 0) return `${n / 60000} min`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000} s`;
  return `${n} ms`;
}

/** Italic while the user gave the node a name, as core nodes do. */
export function labelStyle(this: LabelNode): string {
  return this.name ? 'node_label_italic' : '';
}

export function configLabel(this: LabelNode): string {
  if (this.name) return this.name;
  const service = String(this.service ?? '');
  if (service === 'kairosdb' || this.environment === 'custom') return String(this.urls || '').split(/[\s,]+/)[0] || 'KairosDB';
  return (SERVICE_NAMES[service] || service) + (this.environment === 'staging' ? ' (staging)' : '');
}

/** Its metrics, the first aggregator and the range: `a, b · avg 10s (10m)`. */
export function queryLabel(this: LabelNode): string {
  if (this.name) return this.name;
  const metricsType = String(this.metricsType || 'str');
  const what = metricsType === 'str' ? namesLabel(splitNames(this.metrics)) : metricsType + (metricsType === 'json' ? '' : `.${String(this.metrics ?? '')}`);
  const aggs = (this.aggMode || 'list') === 'list' && Array.isArray(this.aggregators) ? (this.aggregators as Array<{ name?: string; value?: unknown; unit?: string }>) : [];
  const first = aggs[0];
  const agg = first
    ? ` · ${String(first.name)}${first.value ? ` ${String(first.value)}${unitShort(first.unit)}` : ''}${aggs.length > 1 ? ` +${aggs.length - 1}` : ''}`
    : '';
  const range = this.startType === 'str' && this.start ? ` (${String(this.start)})` : '';
  return (what || 'query') + agg + range;
}

/** How the write node batches: points or seconds, whichever comes first. */
export function writeLabel(this: LabelNode): string {
  if (this.name) return this.name;
  return `write ${String(this.maxBatchPoints)} pts / ${String(this.maxDelay)} s`;
}

export function batchLabel(this: LabelNode): string {
  if (this.name) return this.name;
  return `batch write ${String(this.batchSize)} pts/request`;
}

export function streamLabel(this: LabelNode): string {
  if (this.name) return this.name;
  return `${namesLabel(splitNames(this.metrics)) || 'stream'} every ${every(this.interval)}`;
}
