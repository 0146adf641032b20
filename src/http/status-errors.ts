/** Reading error answers: KairosDB's `{"errors":[...]}` bodies, HTML pages from proxies, Retry-After. */
import { AuthenticationError, HttpStatusError, KairosError, redact } from '../errors';
import { MAX_TIMER_MS } from '../time/timer-limits';
import type { HttpResponse } from '../types';

const MAX_TEXT_ERROR = 200;

/** The server's messages from an error body; a short text excerpt when it is not KairosDB JSON. */
export function parseServerErrors(body: Buffer | string): string[] {
  const text = (typeof body === 'string' ? body : body.toString('utf8')).trim();
  if (!text) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && Array.isArray((parsed as { errors?: unknown }).errors)) {
      return ((parsed as { errors: unknown[] }).errors).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
    }
    if (parsed && typeof parsed === 'object' && typeof (parsed as { message?: unknown }).message === 'string') {
      return [(parsed as { message: string }).message];
    }
    return [];
  } catch {
    // HTML or plain text (Jetty 401 pages, reverse proxies): keep a readable excerpt of the text only.
    const plain = text.replace(/<(script|style)[\s\S]*?<\/\1>/gi, ' ').replace(/<[^>]*>/g, ' ').replace(/\s+/g, ' ').trim();
    if (!plain) return [];
    return [plain.length > MAX_TEXT_ERROR ? plain.slice(0, MAX_TEXT_ERROR - 3) + '...' : plain];
  }
}

/**
 * Retry-After in milliseconds: delta-seconds or an HTTP-date; undefined when absent or unreadable.
 * Capped at the longest timer (about 24.8 days): a longer wait would make setTimeout fire at once.
 */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const s = v.trim();
  if (/^\d+$/.test(s)) return Math.min(MAX_TIMER_MS, Number(s) * 1000);
  const at = Date.parse(s);
  if (Number.isNaN(at)) return undefined;
  return Math.min(MAX_TIMER_MS, Math.max(0, at - now));
}

/** The typed error for a non-success status: AuthenticationError for 401/403, HttpStatusError otherwise. */
export function errorForStatus(resp: HttpResponse, url: string, secrets: Array<string | undefined> = []): KairosError {
  const serverErrors = parseServerErrors(redact(resp.body.toString('utf8'), secrets));
  if (resp.status === 401 || resp.status === 403) {
    const detail = serverErrors.length ? `: ${serverErrors.join('; ')}` : '';
    const what = resp.status === 401 ? 'authentication failed (check the credentials)' : 'access forbidden';
    return new AuthenticationError(`HTTP ${resp.status} from ${url}: ${what}${detail}`, resp.status);
  }
  const err = new HttpStatusError(resp.status, url, serverErrors);
  const retryAfter = parseRetryAfter(resp.headers['retry-after']);
  if (retryAfter !== undefined) err.retryAfterMs = retryAfter;
  return err;
}
