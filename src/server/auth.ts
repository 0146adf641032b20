/**
 * Authentication for the local server: an optional static token for the KairosDB API, and an
 * OAuth-style token issuer for the proficloud.io emulation (/epts/token). Secrets are compared in
 * constant time and never echoed.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export function safeEqual(a: string, b: string): boolean {
  const ba = Buffer.from(a);
  const bb = Buffer.from(b);
  if (ba.length !== bb.length) {
    // Compare anyway so timing does not reveal the length match.
    timingSafeEqual(ba, ba);
    return false;
  }
  return timingSafeEqual(ba, bb);
}

/** The credential of an Authorization header (`Bearer x` or `Basic x`), or null. */
export function credentialOf(header: string | undefined): string | null {
  if (!header) return null;
  const m = /^(Bearer|Basic)\s+(.+)$/i.exec(header.trim());
  return m ? m[2].trim() : null;
}

/** Static-token check: Bearer <token> or Basic <token> (the token may be base64 of user:password). */
export function staticTokenOk(header: string | undefined, token: string): boolean {
  const cred = credentialOf(header);
  return cred !== null && safeEqual(cred, token);
}

export interface OAuthOptions {
  username: string;
  password: string;
  /** Access token lifetime, seconds (default 300). */
  accessTtlS?: number;
  /** Refresh token lifetime, seconds (default 1800). */
  refreshTtlS?: number;
}

export interface TokenResponse {
  access_token: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  token_type: 'Bearer';
}

/** Issues and checks opaque access/refresh tokens against one configured user. */
export class TokenIssuer {
  private readonly access = new Map<string, number>();
  private readonly refresh = new Map<string, number>();
  private readonly accessTtlS: number;
  private readonly refreshTtlS: number;

  constructor(
    private readonly opts: OAuthOptions,
    private readonly now: () => number,
  ) {
    this.accessTtlS = opts.accessTtlS ?? 300;
    this.refreshTtlS = opts.refreshTtlS ?? 1800;
  }

  login(username: string, password: string): TokenResponse | null {
    // Evaluate both comparisons so a wrong user and a wrong password take the same time.
    const userOk = safeEqual(username, this.opts.username);
    const passOk = safeEqual(password, this.opts.password);
    return userOk && passOk ? this.issue() : null;
  }

  /** Exchanges a refresh token (single use) for a new pair. */
  refreshWith(token: string): TokenResponse | null {
    const exp = this.refresh.get(token);
    if (exp === undefined) return null;
    this.refresh.delete(token);
    if (exp <= this.now()) return null;
    return this.issue();
  }

  accessOk(header: string | undefined): boolean {
    const m = /^Bearer\s+(.+)$/i.exec((header ?? '').trim());
    if (!m) return false;
    const exp = this.access.get(m[1].trim());
    if (exp === undefined) return false;
    if (exp <= this.now()) {
      this.access.delete(m[1].trim());
      return false;
    }
    return true;
  }

  private issue(): TokenResponse {
    const now = this.now();
    this.prune(now);
    const access = randomBytes(24).toString('base64url');
    const refresh = randomBytes(24).toString('base64url');
    this.access.set(access, now + this.accessTtlS * 1000);
    this.refresh.set(refresh, now + this.refreshTtlS * 1000);
    return {
      access_token: access,
      expires_in: this.accessTtlS,
      refresh_token: refresh,
      refresh_expires_in: this.refreshTtlS,
      token_type: 'Bearer',
    };
  }

  private prune(now: number): void {
    for (const [t, exp] of this.access) if (exp <= now) this.access.delete(t);
    for (const [t, exp] of this.refresh) if (exp <= now) this.refresh.delete(t);
  }
}
