/**
 * Reads a push body (`POST /api/v1/datapoints`) the way KairosDB 1.3's DataPointsParser does:
 * metric by metric, validating each and keeping the valid ones even when others fail, with the
 * same messages. Numbers keep their text so the stored type follows KairosDB's rule (a '.' makes a
 * double, anything else a long, truncated like BigDecimal.longValue()).
 */
import { ServerError } from './server-errors';
import { GsonError, JsonReader, javaLongOf, type JsonPrimitive } from './json-reader';
import type { StoredType } from './point-types';
import type { SeriesWrite, TagMap } from './store';

/** A datapoint element or metric value: a primitive, or a marker for a nested array/object. */
type Element = JsonPrimitive | { kind: 'array' } | { kind: 'object' };

interface RawMetric {
  name?: string | null;
  timestamp?: number | null;
  time?: number | null;
  value?: Element;
  tags?: Array<[string, string | null]> | null;
  datapoints?: Array<Element[] | null> | null;
  type?: string | null;
  ttl?: number;
  skipValidate?: boolean;
}

const NO_CONTENT = 'Invalid json. No content due to end of input.';

/**
 * Parses and validates a push body. Accepted points are appended to `out` as they are read, so a
 * caller that stores `out` in a finally block keeps the partial-push semantics. Returns the
 * validation messages (empty for a 204); throws ServerError for bodies KairosDB rejects whole.
 */
export function parsePush(text: string, out: SeriesWrite[]): string[] {
  const errors: string[] = [];
  const r = new JsonReader(text, false);
  try {
    const first = r.peek();
    if (first === 'END_DOCUMENT') throw new ServerError(400, NO_CONTENT);
    if (first === 'BEGIN_ARRAY') {
      r.beginArray();
      let i = 0;
      while (r.hasNext()) {
        const m = readMetric(r);
        validateMetric(m, i++, errors, out);
      }
      r.endArray();
    } else if (first === 'BEGIN_OBJECT') {
      validateMetric(readMetric(r), 0, errors, out);
    } else {
      errors.push('Invalid start of json.');
    }
  } catch (e) {
    if (e instanceof GsonError) {
      if (e.javaClass === 'java.io.EOFException' && !(e as WrappedFlag).insideMetric) throw new ServerError(400, NO_CONTENT);
      throw new ServerError(400, (e as WrappedFlag).insideMetric ? e.wrapped() : e.message);
    }
    throw e;
  }
  return errors;
}

type WrappedFlag = GsonError & { insideMetric?: boolean };

/** One metric object, read leniently as Gson's fromJson does; failures are marked as wrapped. */
function readMetric(r: JsonReader): RawMetric {
  r.lenient = true;
  try {
    const m: RawMetric = {};
    r.beginObject();
    while (r.hasNext()) {
      const field = r.nextName();
      switch (field) {
        case 'name':
          m.name = readString(r);
          break;
        case 'timestamp':
          m.timestamp = readLong(r);
          break;
        case 'time':
          m.time = readLong(r);
          break;
        case 'value':
          m.value = readElement(r);
          break;
        case 'type':
          m.type = readString(r);
          break;
        case 'ttl':
          m.ttl = readLong(r) ?? 0;
          break;
        case 'skip_validate':
          m.skipValidate = readBoolean(r);
          break;
        case 'tags':
          m.tags = readTags(r);
          break;
        case 'datapoints':
          m.datapoints = readDatapoints(r);
          break;
        default:
          r.skipValue();
      }
    }
    r.endObject();
    return m;
  } catch (e) {
    if (e instanceof GsonError) (e as WrappedFlag).insideMetric = true;
    throw e;
  } finally {
    r.lenient = false;
  }
}

function readString(r: JsonReader): string | null {
  const p = r.peek();
  if (p === 'NULL') {
    r.nextPrimitive();
    return null;
  }
  if (p === 'BOOLEAN') {
    const b = r.nextPrimitive();
    return b.kind === 'boolean' ? String(b.value) : null;
  }
  return r.nextString();
}

function readLong(r: JsonReader): number | null {
  if (r.peek() === 'NULL') {
    r.nextPrimitive();
    return null;
  }
  return r.nextLong();
}

function readBoolean(r: JsonReader): boolean {
  const p = r.peek();
  if (p === 'STRING') return r.nextString() === 'true';
  const v = r.nextPrimitive();
  return v.kind === 'boolean' && v.value;
}

function readElement(r: JsonReader): Element {
  const p = r.peek();
  if (p === 'BEGIN_ARRAY') {
    r.skipValue();
    return { kind: 'array' };
  }
  if (p === 'BEGIN_OBJECT') {
    r.skipValue();
    return { kind: 'object' };
  }
  return r.nextPrimitive();
}

/** Gson's Map adapter: an object, or (its array form) a list of [key, value] pairs. */
function readTags(r: JsonReader): Array<[string, string | null]> | null {
  const p = r.peek();
  if (p === 'NULL') {
    r.nextPrimitive();
    return null;
  }
  const out: Array<[string, string | null]> = [];
  const seen = new Set<string>();
  const add = (k: string, v: string | null): void => {
    if (seen.has(k)) throw new GsonError('com.google.gson.JsonSyntaxException', `duplicate key: ${k}`);
    seen.add(k);
    out.push([k, v]);
  };
  if (p === 'BEGIN_ARRAY') {
    r.beginArray();
    while (r.hasNext()) {
      r.beginArray();
      const k = readString(r) ?? 'null';
      const v = readString(r);
      r.endArray();
      add(k, v);
    }
    r.endArray();
    return out;
  }
  r.beginObject();
  while (r.hasNext()) {
    const k = r.nextName();
    add(k, readString(r));
  }
  r.endObject();
  return out;
}

function readDatapoints(r: JsonReader): Array<Element[] | null> | null {
  if (r.peek() === 'NULL') {
    r.nextPrimitive();
    return null;
  }
  const out: Array<Element[] | null> = [];
  r.beginArray();
  while (r.hasNext()) {
    if (r.peek() === 'NULL') {
      r.nextPrimitive();
      out.push(null);
      continue;
    }
    r.beginArray();
    const dp: Element[] = [];
    while (r.hasNext()) dp.push(readElement(r));
    r.endArray();
    out.push(dp);
  }
  r.endArray();
  return out;
}

const REGISTERED_TYPES = new Set(['long', 'double', 'string']);

/** KairosDB's Util.isNumber: optional '-', digits and at most one '.'. */
function isNumericString(s: string): boolean {
  return /^-?[0-9]*\.?[0-9]*$/.test(s) && s.length > 0;
}

function elementText(e: Element): string | null {
  if (e.kind === 'number') return e.text;
  if (e.kind === 'string') return e.value;
  if (e.kind === 'boolean') return String(e.value);
  return null;
}

/** findType(): the stored type KairosDB infers from a value's JSON text. */
function inferType(v: Element): string {
  if (v.kind === 'number') return v.text.includes('.') ? 'double' : 'long';
  if (v.kind === 'string' && isNumericString(v.value)) return v.value.includes('.') ? 'double' : 'long';
  if (v.kind === 'string' || v.kind === 'boolean') return 'string';
  throw new ServerError(400, 'value is an invalid type');
}

function numberFormat(text: string): ServerError {
  return new ServerError(500, `For input string: "${text}"`);
}

/** A datapoint factory's conversion; Java's parse failures surface as 500s like KairosDB's. */
function convert(type: StoredType, v: Element): number | string {
  const text = elementText(v);
  if (text === null) throw new ServerError(500, v.kind === 'array' ? 'This is not a JSON Array.' : 'Not a JSON Primitive');
  if (type === 'string') return text;
  if (type === 'long') {
    const n = javaLongOf(text);
    if (n === null || v.kind === 'boolean') throw numberFormat(text);
    if (!Number.isSafeInteger(n) && /^[+-]?\d+$/.test(text)) return exactLong(text, v.kind === 'number');
    return n;
  }
  const trimmed = text.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?$/.test(trimmed) || v.kind === 'boolean') throw numberFormat(text);
  return Number(trimmed.replace(/[dDfF]$/, ''));
}

/**
 * A plain integer beyond 2^53 as canonical decimal text. Out of the long range, a JSON number wraps
 * (BigDecimal.longValue()) and a numeric string fails (Long.parseLong), as in KairosDB.
 */
function exactLong(text: string, wrap: boolean): string {
  const big = BigInt(text.replace(/^\+/, ''));
  if (big >= -(2n ** 63n) && big < 2n ** 63n) return big.toString();
  if (!wrap) throw numberFormat(text);
  return BigInt.asIntN(64, big).toString();
}

/** Timestamp of a datapoint array: JsonElement.getAsLong(). */
function timestampOf(e: Element): number | null {
  if (e.kind === 'null') return null;
  if (e.kind === 'number') {
    const n = javaLongOf(e.text);
    if (n === null) throw numberFormat(e.text);
    return n;
  }
  const text = elementText(e);
  if (text === null) throw new ServerError(500, 'Not a JSON Primitive');
  if (!/^[+-]?\d+$/.test(text)) throw numberFormat(text);
  return Number(text);
}

function validateMetric(m: RawMetric, index: number, errors: string[], out: SeriesWrite[]): void {
  const before = errors.length;
  const validate = !m.skipValidate;
  let ctx = `metric[${index}]`;
  if (validate) {
    if (m.name === undefined || m.name === null) errors.push(`${ctx}.name may not be null.`);
    else if (m.name === '') errors.push(`${ctx}.name may not be empty.`);
    else ctx = `metric[${index}](name=${m.name})`;

    const ts = m.time ?? m.timestamp;
    if (ts !== undefined && ts !== null) {
      if (m.value === undefined) errors.push(`${ctx}.value may not be null.`);
      else if (m.value.kind === 'null') errors.push(`${ctx}.value may not be empty.`);
    } else if (m.value !== undefined && m.value.kind !== 'null') {
      errors.push(`${ctx}.timestamp may not be null.`);
    }

    const tags = m.tags ?? [];
    if (tags.length < 1) errors.push(`${ctx}.tags count must be greater than or equal to 1.`);
    else {
      tags.forEach(([k, v], i) => {
        if (k === '') errors.push(`${ctx}.tag[${i}].name may not be empty.`);
        else if (v === null) errors.push(`${ctx}.tag[${k}].value may not be null.`);
        else if (v === '') errors.push(`${ctx}.tag[${k}].value may not be empty.`);
      });
    }
  } else if (m.name) {
    ctx = `metric[${index}](name=${m.name})`;
  }
  if (errors.length > before || !m.name) return;

  // Object.fromEntries keeps a tag named "__proto__" an own key (an assignment would set the prototype).
  const tags: TagMap = Object.fromEntries((m.tags ?? []).map(([k, v]) => [k, v ?? '']));
  // Points of this metric grouped by stored type, in arrival order.
  const byType = new Map<StoredType, SeriesWrite>();
  const add = (type: string, t: number, v: Element): boolean => {
    if (!REGISTERED_TYPES.has(type)) {
      errors.push(`Unregistered data point type '${type}'`);
      return false;
    }
    const st = type as StoredType;
    let w = byType.get(st);
    if (!w) {
      w = { metric: m.name as string, tags, type: st, ts: [], vs: [] };
      byType.set(st, w);
    }
    w.ts.push(t);
    w.vs.push(convert(st, v));
    return true;
  };

  const single = m.time ?? m.timestamp;
  if (single !== undefined && single !== null && m.value !== undefined) {
    const type = m.type ?? inferType(m.value);
    add(type, single, m.value);
  }

  const dps = m.datapoints;
  if (dps && dps.length > 0) {
    // KairosDB does not advance its datapoint counter after a rejected point; messages follow that.
    let count = 0;
    for (const dp of dps) {
      const dctx = `${ctx}.datapoints[${count}]`;
      if (!dp || dp.length < 1) {
        errors.push(`${dctx}.timestamp cannot be null or empty.`);
        continue;
      }
      if (dp.length < 2) {
        errors.push(`${dctx}.value cannot be null or empty.`);
        continue;
      }
      const t = timestampOf(dp[0]);
      if (t === null) {
        if (validate) {
          errors.push(`${dctx}.timestamp may not be null.`);
          continue;
        }
        count++;
        continue;
      }
      let type: string | null = m.type ?? null;
      if (dp.length > 2) type = elementText(dp[2]);
      const v = dp[1];
      if (v.kind === 'null') {
        errors.push(`${dctx}.value may not be empty.`);
        continue;
      }
      if (v.kind === 'string' && v.value === '' && type !== 'string') {
        errors.push(`${dctx}.value may not be empty.`);
        continue;
      }
      if (type === null) type = inferType(v);
      add(type, t, v);
      count++;
    }
  }
  for (const w of byType.values()) out.push(w);
}
