/** URL handling for base URLs that may carry a path prefix (Proficloud: https://host/ds/v1/kairos/). */
import { ValidationError } from '../errors';

/** Parses and checks one base URL; credentials in the URL are refused so they can never leak into messages. */
export function parseBaseUrl(raw: unknown, field: string): URL {
  if (typeof raw !== 'string' || raw.trim() === '') throw new ValidationError(field, raw, 'must be a non-empty http(s) URL');
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new ValidationError(field, raw, 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(field, raw, 'must start with http:// or https://');
  }
  if (url.username || url.password) {
    // Show the URL without its credentials: the message must not carry the password.
    throw new ValidationError(field, `${url.protocol}//***@${url.host}${url.pathname}`, 'must not contain credentials; use the auth options');
  }
  if (url.search || url.hash) throw new ValidationError(field, raw, 'must not contain a query string or fragment');
  return url;
}

/**
 * Joins a base URL and a request path with exactly one slash between them, keeping a trailing slash
 * on the path (the Proficloud query path has one) and appending the query parameters.
 */
export function joinUrl(base: URL | string, path: string, query?: Record<string, string>): string {
  const b = typeof base === 'string' ? new URL(base) : base;
  const prefix = b.pathname.replace(/\/+$/, '');
  const rest = path.replace(/^\/+/, '');
  let out = `${b.origin}${prefix}/${rest}`;
  if (query) {
    const qs = new URLSearchParams(query).toString();
    if (qs) out += `?${qs}`;
  }
  return out;
}

/** The host part used in error messages ("host:port"), never the path or query. */
export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '(invalid URL)';
  }
}
