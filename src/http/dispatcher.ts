/** Builds the one undici dispatcher a client uses: direct keep-alive Agent, explicit proxy, or the environment's proxy. */
import type { Dispatcher } from 'undici';
import { ValidationError } from '../errors';
import type { Logger } from '../types';
import { undici } from './undici';

export interface TlsOptions {
  /** Default true. false accepts any certificate (and logs a warning once). */
  rejectUnauthorized?: boolean;
  /** Extra trusted CA certificate(s), PEM. */
  ca?: string | Buffer;
}

/** 'none' (default) connects directly; 'env' honours HTTP_PROXY/HTTPS_PROXY/NO_PROXY; otherwise a proxy URL. */
export type ProxySetting = 'none' | 'env' | string;

const KEEP_ALIVE_MS = 30_000;

export function createDispatcher(proxy: ProxySetting | undefined, tls: TlsOptions | undefined, logger?: Logger): Dispatcher {
  const connect = tlsConnectOptions(tls);
  if (tls?.rejectUnauthorized === false) {
    const msg = 'TLS certificate verification is disabled (rejectUnauthorized: false): connections can be intercepted';
    if (logger) logger.warn(msg);
    else process.emitWarning(msg);
  }
  const common = { keepAliveTimeout: KEEP_ALIVE_MS, connect };
  const setting = proxy === undefined || proxy === '' ? 'none' : proxy;
  const { Agent, EnvHttpProxyAgent, ProxyAgent } = undici();
  if (setting === 'none') return new Agent(common);
  // proxyTunnel false: plain http:// targets go through the proxy as absolute-URI requests
  // (works with every forward proxy); https:// targets still use CONNECT.
  const proxied = { ...common, requestTls: connect, proxyTunnel: false };
  if (setting === 'env') return new EnvHttpProxyAgent(proxied);
  return new ProxyAgent({ ...proxied, uri: checkProxyUrl(setting) });
}

function tlsConnectOptions(tls: TlsOptions | undefined): { rejectUnauthorized?: boolean; ca?: string | Buffer } {
  const out: { rejectUnauthorized?: boolean; ca?: string | Buffer } = {};
  if (tls?.rejectUnauthorized === false) out.rejectUnauthorized = false;
  if (tls?.ca !== undefined) {
    if (!(typeof tls.ca === 'string' || Buffer.isBuffer(tls.ca)) || tls.ca.length === 0) {
      throw new ValidationError('tls.ca', tls.ca, 'must be a non-empty PEM string or Buffer');
    }
    out.ca = tls.ca;
  }
  return out;
}

function checkProxyUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError('proxy', maskUserinfo(raw), "must be 'none', 'env' or a proxy URL such as http://proxy:3128");
  }
  if (!['http:', 'https:', 'socks5:', 'socks:'].includes(url.protocol)) {
    throw new ValidationError('proxy', maskUserinfo(raw), 'must use http://, https:// or socks5://');
  }
  return raw;
}

/** A proxy URL with its password replaced, for messages. */
export function maskUserinfo(raw: string): string {
  return raw.replace(/^([a-z0-9+.-]+:\/\/)[^@/]*@/i, '$1***@');
}

/** The password (and user:password pair) of a proxy URL, so redaction can remove them. */
export function proxySecrets(proxy: ProxySetting | undefined): string[] {
  if (!proxy || proxy === 'none' || proxy === 'env') return [];
  try {
    const u = new URL(proxy);
    const pw = decodeURIComponent(u.password);
    return pw ? [pw, `${decodeURIComponent(u.username)}:${pw}`] : [];
  } catch {
    return [];
  }
}
