/**
 * Field checks of the editor dialogs, DOM-free so they run in Node tests too. Each answers whether a value is
 * acceptable as the runtime reads it; the dialogs attach their own message (in their catalogue) to a "no".
 * Durations and relative times are read with the runtime's own unit table (src/time/unit-table.ts, bundled).
 */
import { durationTextMs, relativeText } from '../src/time/unit-table';

const ENV = /^\$\{\w+\}$/;
const ABSOLUTE = /^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?\s*$/;
const HTTP_URL = /^https?:\/\/\S+$/;
/** The stream's late-data horizon: at most 7 days (MAX_HORIZON_MS in src/stream, which the editor cannot load). */
export const MAX_HORIZON_MS = 7 * 86_400_000;
/** The stream node's defaults for an empty window or horizon. */
const DEFAULT_WINDOW = '10m';
const DEFAULT_HORIZON_MS = 3_600_000;

function text(v: unknown): string {
  return v === undefined || v === null ? '' : String(v);
}

/** A whole-field ${VAR} reference: resolved by the runtime, so the editor cannot judge it. */
export function isEnv(v: unknown): boolean {
  return ENV.test(text(v));
}

/** Tags as the runtime reads them: a JSON object or key=value pairs split by , ; or newline. */
export function tagsOk(v: unknown): boolean {
  const s = text(v);
  if (!s || ENV.test(s)) return true;
  const trimmed = s.trim();
  if (trimmed.charAt(0) === '{') {
    try {
      const o: unknown = JSON.parse(trimmed);
      return !!o && typeof o === 'object' && !Array.isArray(o);
    } catch {
      return false;
    }
  }
  return trimmed.split(/[,;\n]/).every((p) => {
    const pair = p.trim();
    return !pair || /^[^=]+=[^=]+$/.test(pair);
  });
}

/** A whole number of at least 1, blanks around it allowed. */
export function isCount(v: unknown): boolean {
  return /^\s*\d+\s*$/.test(text(v)) && Number(v) >= 1;
}

/** Metric names from a comma- or line-separated list. */
export function splitNames(v: unknown): string[] {
  return text(v)
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A start/end text as the runtime reads it: relative ("2h", "3 days ago"), now, epoch ms or ISO-8601. */
export function timeTextOk(v: unknown): boolean {
  const s = text(v);
  return relativeText(s) !== undefined || /^\s*now\s*$/i.test(s) || /^\s*\d+\s*$/.test(s) || (ABSOLUTE.test(s) && !isNaN(Date.parse(s.trim().replace(' ', 'T'))));
}

/**
 * Milliseconds of a duration as the runtime's parseDurationMs reads it: "10m", "1.5 hours", "1M" (months),
 * a plain number of milliseconds; NaN for anything it refuses.
 */
export function durationMs(v: unknown): number {
  if (typeof v === 'number') return isFinite(v) && v > 0 ? v : NaN;
  return typeof v === 'string' ? (durationTextMs(v) ?? NaN) : NaN;
}

/** A duration field whose empty value means the node's default: the query's page size (1 day). */
export function spanOk(v: unknown): boolean {
  return isEnv(v) || durationMs(v || '1d') > 0;
}

/** The stream's window in ms as the node reads it (empty: 10 minutes, rounded to whole ms), NaN when refused. */
export function windowMs(v: unknown): number {
  const ms = Math.round(durationMs(v || DEFAULT_WINDOW));
  return ms >= 1 ? ms : NaN;
}

/** The stream node's window: a duration as windowMs reads it. */
export function windowOk(v: unknown): boolean {
  return isEnv(v) || windowMs(v) >= 1;
}

/** The late-data horizon in ms as the stream node reads it: empty is 1 hour, "0" off, else a duration; NaN when refused. */
export function horizonMs(v: unknown): number {
  const s = text(v);
  if (s.trim() === '') return DEFAULT_HORIZON_MS;
  if (/^\s*0+(\.0*)?\s*$/.test(s)) return 0;
  const ms = Math.round(durationMs(v));
  return ms <= MAX_HORIZON_MS ? ms : NaN;
}

/** The late-data horizon: up to 7 days, 0 turns it off. */
export function horizonOk(v: unknown): boolean {
  return isEnv(v) || horizonMs(v) >= 0;
}

/** The stream node's poll interval in milliseconds: 100 ms up to the largest timer delay. */
export function intervalOk(v: unknown): boolean {
  return isEnv(v) || (/^\s*\d+(\.\d+)?\s*$/.test(text(v)) && Number(v) >= 100 && Number(v) <= 2147483647);
}

/** group_by tag names: a JSON array of KairosDB groupers or a comma-separated list of tag names. */
export function groupByOk(v: unknown): boolean {
  const s = text(v);
  if (!s || isEnv(s)) return true;
  if (s.trim().charAt(0) === '[') {
    try {
      return Array.isArray(JSON.parse(s));
    } catch {
      return false;
    }
  }
  return /^[\w.\-\s,]+$/.test(s);
}

/** One or more http(s) URLs separated by blanks or commas. */
export function urlsOk(v: unknown): boolean {
  if (isEnv(v)) return true;
  const list = text(v).split(/[\s,]+/).filter(Boolean);
  return list.length > 0 && list.every((u) => /^https?:\/\/[^\s]+$/.test(u));
}

/** A proxy URL (checked only when the proxy mode is "url"). */
export function proxyUrlOk(v: unknown): boolean {
  return HTTP_URL.test(text(v)) || isEnv(v);
}

/** An IANA time zone the browser knows (it has the same ICU list as the runtime). */
export function timeZoneOk(v: unknown): boolean {
  const s = text(v);
  if (!s || isEnv(s)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: s.trim() });
    return true;
  } catch {
    return false;
  }
}

/** The request timeout in seconds: positive and within the largest timer delay; blank means the default. */
export function timeoutOk(v: unknown): boolean {
  return v === '' || isEnv(v) || (Number(v) > 0 && Number(v) <= 2147483);
}

/** A positive number, or blank for the default. */
export function optionalPositiveOk(v: unknown): boolean {
  return v === '' || v === undefined || isEnv(v) || Number(v) > 0;
}

/** Seconds of delay, zero allowed, not blank. */
export function delayOk(v: unknown): boolean {
  return text(v).trim() !== '' && Number(v) >= 0;
}

/** The outbox size in MB. It bounds the memory queue too when the outbox is off, so it is always checked. */
export function outboxMaxMBOk(v: unknown): boolean {
  return Number(v) > 0;
}

/** A non-blank text (column names). */
export function filled(v: unknown): boolean {
  return text(v).trim() !== '';
}
