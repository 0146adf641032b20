/**
 * Typed errors of the connector library. Every error has a stable `code` (Node-RED Catch nodes and
 * the write outbox branch on it) and a message that names the field and value at fault but never
 * carries a token, password or Authorization header (see redact()).
 */

export type ErrorCode =
  | 'EVALIDATION' // bad input, found before any request
  | 'EHTTP' // the server answered with an error status
  | 'ETIMEOUT' // no (complete) answer in time
  | 'ENETWORK' // connection refused/reset, DNS failure, TLS failure
  | 'EAUTH' // 401/403 or a failed login / token
  | 'EREADONLY' // a write against a read-only service (TSD)
  | 'EPARSE' // a response body we cannot read
  | 'ETOOLARGE'; // a response body (or its decompressed form) above the configured limit

export class KairosError extends Error {
  readonly code: ErrorCode;
  /** True when sending the same request again later may succeed (network, timeout, 5xx, 429). */
  readonly retryable: boolean;
  /** From a Retry-After header, when the server sent one. */
  retryAfterMs?: number;

  constructor(code: ErrorCode, message: string, retryable: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.retryable = retryable;
  }
}

/** Bad input: names the field and the value. */
export class ValidationError extends KairosError {
  readonly field: string;
  readonly value: unknown;
  constructor(field: string, value: unknown, reason: string) {
    super('EVALIDATION', `${field}: ${reason} (got ${describeValue(value)})`, false);
    this.field = field;
    this.value = value;
  }
}

/** An error status from the server, with its own error list when the body had one. */
export class HttpStatusError extends KairosError {
  readonly status: number;
  readonly serverErrors: string[];
  readonly url: string;
  constructor(status: number, url: string, serverErrors: string[], message?: string) {
    const retryable = status >= 500 || status === 429 || status === 408;
    const detail = serverErrors.length ? `: ${serverErrors.join('; ')}` : '';
    super('EHTTP', message ?? `HTTP ${status} from ${url}${detail}`, retryable);
    this.status = status;
    this.url = url;
    this.serverErrors = serverErrors;
  }
}

export class TimeoutError extends KairosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ETIMEOUT', message, true, options);
  }
}

export class NetworkError extends KairosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ENETWORK', message, true, options);
  }
}

export class AuthenticationError extends KairosError {
  readonly status?: number;
  constructor(message: string, status?: number) {
    super('EAUTH', message, false);
    this.status = status;
  }
}

export class ReadOnlyError extends KairosError {
  constructor(message: string) {
    super('EREADONLY', message, false);
  }
}

export class ParseError extends KairosError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('EPARSE', message, false, options);
  }
}

/**
 * A response body, or what it decompresses to, above the client's limit (maxResponseBytes): reading
 * stops there, so a broken or hostile server (or a gzip bomb) cannot exhaust memory. Not retried: the
 * same request would get the same answer.
 */
export class ResponseTooLargeError extends KairosError {
  /** The limit in bytes. */
  readonly limit: number;
  constructor(limit: number, what: string) {
    super('ETOOLARGE', `${what} exceeds the limit of ${limit} bytes (maxResponseBytes); query a shorter range, use paging or aggregators, or raise the limit`, false);
    this.limit = limit;
  }
}

/** A short, safe rendering of a bad value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return Number.isNaN(value) ? 'NaN' : String(value);
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? value.slice(0, 77) + '...' : value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
  if (Array.isArray(value)) return `array(${value.length})`;
  if (typeof value === 'object') return 'object';
  return typeof value;
}

/** Replaces every occurrence of each secret (and its base64 form) with "***". */
export function redact(text: string, secrets: Iterable<string | undefined | null>): string {
  let out = text;
  for (const s of secrets) {
    if (!s || s.length < 3) continue;
    for (const form of [s, Buffer.from(s).toString('base64'), encodeURIComponent(s)]) {
      if (form.length >= 3) out = out.split(form).join('***');
    }
  }
  return out;
}
