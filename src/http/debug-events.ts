/** Shapes DebugEvents: redacted headers and bodies, bounded size. */
import { redact } from '../errors';

/** Bodies in debug events are cut here: a 20 MB push must not end up in the Node-RED debug sidebar. */
export const DEBUG_BODY_LIMIT = 16 * 1024;

const SECRET_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'set-cookie', 'x-api-key']);

export function redactHeaders(headers: Record<string, string>, secrets: Array<string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    out[k] = SECRET_HEADERS.has(k.toLowerCase()) ? '***' : redact(v, secrets);
  }
  return out;
}

export function debugBody(body: Buffer | string | undefined, secrets: Array<string | undefined>, limit = DEBUG_BODY_LIMIT): string | undefined {
  if (body === undefined) return undefined;
  const buf = typeof body === 'string' ? Buffer.from(body) : body;
  if (buf.length === 0) return '';
  // Redact before cutting so a secret split by the cut cannot survive half-visible.
  const text = redact(buf.subarray(0, limit + 1024).toString('utf8'), secrets);
  if (buf.length <= limit) return text;
  return `${text.slice(0, limit)}... [${buf.length} bytes, truncated]`;
}
