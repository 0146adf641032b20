/**
 * Point arithmetic on push batches: counting, splitting to a size limit, and coalescing entries of the
 * same series so a burst of small messages becomes one compact request.
 */
import { ValidationError } from '../errors';
import { countPoints as metricPoints } from './push-body';
import type { KairosPushMetric } from '../types';

type Datapoint = NonNullable<KairosPushMetric['datapoints']>[number];

/** Points in a list of metric entries (push.countPoints counts one entry). */
export function countBatchPoints(metrics: readonly KairosPushMetric[]): number {
  let n = 0;
  for (const m of metrics) n += metricPoints(m);
  return n;
}

function hasSinglePoint(m: KairosPushMetric): boolean {
  return m.timestamp !== undefined && m.value !== undefined;
}

/**
 * Shape check at the queue's door. Deep validation (types, tag rules) belongs to the connector and the
 * server, whose messages are reported per batch; here we only refuse what could not even be stored.
 */
export function assertPushMetrics(metrics: unknown, field = 'metrics'): asserts metrics is KairosPushMetric[] {
  if (!Array.isArray(metrics)) throw new ValidationError(field, metrics, 'must be an array of push metrics');
  metrics.forEach((m: unknown, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m)) {
      throw new ValidationError(`${field}[${i}]`, m, 'must be an object with name, tags and datapoints');
    }
    const rec = m as Record<string, unknown>;
    if (typeof rec.name !== 'string' || rec.name === '') {
      throw new ValidationError(`${field}[${i}].name`, rec.name, 'must be a non-empty string');
    }
    const where = `${field}[${i}](name=${rec.name})`;
    if (rec.datapoints !== undefined) {
      if (!Array.isArray(rec.datapoints)) throw new ValidationError(`${where}.datapoints`, rec.datapoints, 'must be an array of [timestamp, value]');
      const dps: unknown[] = rec.datapoints;
      for (let j = 0; j < dps.length; j++) {
        const p = dps[j];
        if (!Array.isArray(p)) throw new ValidationError(`${where}.datapoints[${j}]`, p, 'must be a [timestamp, value] pair');
        // Field names are only built for a point that fails (a million points pass here per large message).
        if (!storable(p[0])) assertStorable(`${where}.datapoints[${j}][0]`, p[0]);
        if (!storable(p[1])) assertStorable(`${where}.datapoints[${j}][1]`, p[1]);
      }
    }
    assertStorable(`${where}.timestamp`, rec.timestamp);
    assertStorable(`${where}.value`, rec.value);
  });
}

function storable(v: unknown): boolean {
  return typeof v === 'number' ? Number.isFinite(v) : typeof v !== 'bigint';
}

/** JSON (the outbox's format and the wire's) would silently turn these into null. */
function assertStorable(field: string, v: unknown): void {
  if (typeof v === 'number' && !Number.isFinite(v)) throw new ValidationError(field, v, 'must be a finite number (JSON cannot carry NaN or Infinity)');
  if (typeof v === 'bigint') throw new ValidationError(field, String(v), 'must be a number or string, not a BigInt');
}

/**
 * Cuts a batch into pieces of at most `maxPoints` points, splitting one metric's datapoints across
 * pieces when needed. Order of points is kept, which matters: KairosDB keeps the last of equal timestamps.
 */
export function splitByPoints(metrics: readonly KairosPushMetric[], maxPoints: number): KairosPushMetric[][] {
  const out: KairosPushMetric[][] = [];
  let cur: KairosPushMetric[] = [];
  let curPoints = 0;
  const flush = (): void => {
    if (cur.length) out.push(cur);
    cur = [];
    curPoints = 0;
  };
  for (const m of metrics) {
    const n = metricPoints(m);
    if (curPoints + n <= maxPoints) {
      cur.push(m);
      curPoints += n;
      continue;
    }
    // Too big for what is left: spread its points over as many pieces as it takes.
    const points = toDatapoints(m);
    const base = stripPoints(m);
    let i = 0;
    while (i < points.length) {
      if (curPoints >= maxPoints) flush();
      const take = Math.min(maxPoints - curPoints, points.length - i);
      cur.push({ ...base, datapoints: points.slice(i, i + take) });
      curPoints += take;
      i += take;
    }
  }
  flush();
  return out;
}

/** All points of an entry in the list form, the single form last (KairosDB stores both when both are given). */
function toDatapoints(m: KairosPushMetric): Datapoint[] {
  const list: Datapoint[] = Array.isArray(m.datapoints) ? m.datapoints.slice() : [];
  if (hasSinglePoint(m)) list.push([m.timestamp as number, m.value as NonNullable<KairosPushMetric['value']>]);
  return list;
}

function stripPoints(m: KairosPushMetric): KairosPushMetric {
  const copy: KairosPushMetric = { ...m };
  delete copy.datapoints;
  delete copy.timestamp;
  delete copy.value;
  return copy;
}

/**
 * Merges entries with the same name, tags, type and ttl into one entry whose datapoints keep arrival
 * order. Entries that are malformed (timestamp without value, say) pass through untouched so the
 * server's own message reaches the user.
 */
export function coalesceMetrics(metrics: readonly KairosPushMetric[]): KairosPushMetric[] {
  const out: KairosPushMetric[] = [];
  const bySeries = new Map<string, KairosPushMetric & { datapoints: Datapoint[] }>();
  for (const m of metrics) {
    const malformed = (m.timestamp === undefined) !== (m.value === undefined) || (m.datapoints !== undefined && !Array.isArray(m.datapoints));
    if (malformed || m.tags === null || typeof m.tags !== 'object') {
      out.push(m);
      continue;
    }
    const key = seriesKey(m);
    const single = hasSinglePoint(m) || 'timestamp' in m || 'value' in m;
    const existing = bySeries.get(key);
    if (existing) {
      const dps = m.datapoints;
      if (single) for (const p of toDatapoints(m)) existing.datapoints.push(p);
      else if (dps) for (let i = 0; i < dps.length; i++) existing.datapoints.push(dps[i]);
      continue;
    }
    // Without the single-point fields a spread keeps the object's fast shape (delete would not).
    const entry = single ? { ...stripPoints(m), datapoints: toDatapoints(m) } : { ...m, datapoints: m.datapoints ? m.datapoints.slice() : [] };
    bySeries.set(key, entry);
    out.push(entry);
  }
  return out;
}

/** Name, type, ttl and the tags sorted by name (their order in the object does not matter), as one string. */
function seriesKey(m: KairosPushMetric): string {
  return `${m.name}\u0000${m.type ?? ''}\u0000${m.ttl ?? ''}${tagsKey(m.tags)}`;
}

/** The tags part of seriesKey; kept per frozen tag set (the write nodes share one across messages). */
const frozenTagsKeys = new WeakMap<object, string>();
function tagsKey(tags: KairosPushMetric['tags']): string {
  const frozen = Object.isFrozen(tags);
  if (frozen) {
    const hit = frozenTagsKeys.get(tags);
    if (hit !== undefined) return hit;
  }
  const names = Object.keys(tags);
  if (names.length > 1) names.sort();
  let key = '';
  for (const k of names) key += `\u0001${k}\u0002${String(tags[k])}`;
  if (frozen) frozenTagsKeys.set(tags, key);
  return key;
}

/**
 * Push bodies (JSON arrays of metrics) joined into one: the outer brackets of each dropped, their
 * contents separated by commas. One body is returned as it is; empty arrays are left out.
 */
export function joinPushBodies(bodies: readonly Buffer[]): Buffer {
  if (bodies.length === 1) return bodies[0];
  let total = 2;
  let parts = 0;
  for (const b of bodies) {
    if (b.length <= 2) continue;
    total += b.length - 2 + (parts > 0 ? 1 : 0);
    parts++;
  }
  const out = Buffer.allocUnsafe(total);
  out[0] = 0x5b;
  let pos = 1;
  let first = true;
  for (const b of bodies) {
    if (b.length <= 2) continue;
    if (!first) out[pos++] = 0x2c;
    pos += b.copy(out, pos, 1, b.length - 1);
    first = false;
  }
  out[pos] = 0x5d;
  return out;
}
