/**
 * Field checks of the editor dialogs, DOM-free so they run in Node tests too. Each answers whether a value is
 * acceptable as the runtime reads it; the dialogs attach their own message (in their catalogue) to a "no".
 */

const ENV = /^\$\{\w+\}$/;
const RELATIVE = /^\s*\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?|M|mo|months?|y|years?)(\s+ago)?\s*$/;
const ABSOLUTE = /^\s*\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?\s*$/;
// The stream window: no months or years (a buffer of that size makes no sense), no "ago".
const DURATION = /^\s*\d+(\.\d+)?\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|weeks?)\s*$/;
const HTTP_URL = /^https?:\/\/\S+$/;

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

/** A start/end text as the runtime reads it: relative, now, epoch ms or ISO-8601. */
export function timeTextOk(v: unknown): boolean {
  const s = text(v);
  return RELATIVE.test(s) || /^\s*now\s*$/i.test(s) || /^\s*\d+\s*$/.test(s) || (ABSOLUTE.test(s) && !isNaN(Date.parse(s.trim().replace(' ', 'T'))));
}

/** A relative span such as 1d or 6 hours (the query node's page size). */
export function spanOk(v: unknown): boolean {
  return RELATIVE.test(text(v));
}

/** The stream node's window: a duration such as 10m, or plain milliseconds. */
export function windowOk(v: unknown): boolean {
  const s = text(v);
  return isEnv(s) || DURATION.test(s) || /^\s*\d+\s*$/.test(s);
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
