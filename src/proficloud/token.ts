/**
 * Basic-auth "login tokens" of the legacy Proficloud KairosDB services: base64("<id>:<password>"),
 * the account id for TSD and the client uuid for EWIMA. Tokens and passwords never appear in errors
 * or logs; only their shape ("a 12-character string") does.
 */
import { readFile, stat } from 'node:fs/promises';
import { ValidationError } from '../errors';
import type { Logger } from '../types';

const BASE64_RE = /^[A-Za-z0-9+/]+={0,2}$/;

/** What an error may say about a secret: its type and length, never its content. */
function secretShape(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '' : `<hidden ${value.length}-character string>`;
  if (value === undefined || value === null) return String(value);
  return `<hidden ${typeof value}>`;
}

/** base64("<id>:<password>") for `Authorization: Basic ...`. */
export function generateToken(accountIdOrUuid: string, password: string): string {
  if (typeof accountIdOrUuid !== 'string' || accountIdOrUuid.trim() === '') {
    throw new ValidationError('accountId', accountIdOrUuid, 'must be a non-empty string (the account id or client uuid)');
  }
  if (accountIdOrUuid.includes(':')) {
    throw new ValidationError('accountId', accountIdOrUuid, 'must not contain ":" (Basic auth separates id and password with it)');
  }
  if (typeof password !== 'string' || password === '') {
    throw new ValidationError('password', secretShape(password), 'must be a non-empty string');
  }
  return Buffer.from(`${accountIdOrUuid.trim()}:${password}`, 'utf8').toString('base64');
}

/** The id inside a login token (a leading "Basic " is allowed); the password stays inside. */
export function decodeToken(token: string): { id: string } {
  if (typeof token !== 'string' || token.trim() === '') {
    throw new ValidationError('token', secretShape(token), 'must be a non-empty base64 string');
  }
  const t = token.trim().replace(/^Basic\s+/i, '');
  if (!BASE64_RE.test(t) || t.length % 4 === 1) {
    throw new ValidationError('token', secretShape(token), 'is not base64 (expected base64 of "<id>:<password>")');
  }
  const decoded = Buffer.from(t, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new ValidationError('token', secretShape(token), 'does not decode to "<id>:<password>"');
  }
  return { id: decoded.slice(0, colon) };
}

/**
 * Reads a token file (trimmed). Warns, without the token, when group or others may read the file.
 * Errors name the path and the reason, never the content.
 */
export async function readTokenFile(path: string, logger?: Logger): Promise<string> {
  if (typeof path !== 'string' || path.trim() === '') throw new ValidationError('tokenFile', path, 'must be a file path');
  let content: string;
  let mode: number;
  try {
    mode = (await stat(path)).mode;
    content = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'read error';
    throw new ValidationError('tokenFile', path, `cannot read token file (${code})`);
  }
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    logger?.warn(`token file ${path} can be read by other users (mode ${(mode & 0o777).toString(8)}); restrict it with chmod 600`);
  }
  const token = content.trim();
  if (token === '') throw new ValidationError('tokenFile', path, 'token file is empty');
  return token;
}
