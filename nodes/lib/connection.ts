/**
 * From a proficloud-config node's properties and credentials to a live client. The config node owns
 * the result; query/write/batch/stream nodes only borrow it through ProficloudConfigNode.
 */
import { readFileSync } from 'node:fs';
import { ValidationError } from '../../src/errors';
import { parseTags, type KairosConnector } from '../../src/kairos';
import type { ProficloudIOMetrics } from '../../src/clients';
import { checkTimerMs, MAX_TIMER_MS } from '../../src/time';
import type { Logger, Tags } from '../../src/types';
import type { Node, NodeAPI } from './red';

/**
 * The clients, loaded when the first config node is deployed rather than when Node-RED loads the
 * package (with undici and the push and table code they are most of the package's load time).
 */
function clients(): typeof import('../../src/clients') {
  return require('../../src/clients') as typeof import('../../src/clients');
}

export type ServiceKind = 'kairosdb' | 'tsd' | 'ewima' | 'io';
export type Environment = 'production' | 'staging' | 'custom';
export type AuthMode = 'none' | 'token' | 'tokenFile' | 'account' | 'login';

/** The config node's editor properties, as strings/booleans straight from the flow file. */
export interface ConfigProps {
  service?: string;
  environment?: string;
  urls?: string;
  authMode?: string;
  defaultTags?: string;
  timeZone?: string;
  timeout?: string | number;
  /** Largest response in MB (empty: the client's default, 512 MiB). */
  maxResponseMB?: string | number;
  gzip?: boolean;
  proxyMode?: string;
  proxyUrl?: string;
  tlsVerify?: boolean;
  tls?: string;
}

export interface ConfigCredentials {
  token?: string;
  tokenFile?: string;
  accountId?: string;
  username?: string;
  password?: string;
}

/** What a config node hands its users. Exactly one of connector / io is set. */
export interface Service {
  kind: ServiceKind;
  connector?: KairosConnector;
  io?: ProficloudIOMetrics;
  readOnly: boolean;
  defaultTags: Tags;
  timeZone: string;
  close(): Promise<void>;
}

const SERVICES: ServiceKind[] = ['kairosdb', 'tsd', 'ewima', 'io'];
const ENVIRONMENTS: Environment[] = ['production', 'staging', 'custom'];

function pick<T extends string>(raw: unknown, allowed: readonly T[], field: string, fallback: T): T {
  if (raw === undefined || raw === null || raw === '') return fallback;
  if ((allowed as readonly unknown[]).includes(raw)) return raw as T;
  throw new ValidationError(field, raw, `must be one of ${allowed.join(', ')}`);
}

export function parseUrls(raw: unknown, field: string): string[] {
  const list = typeof raw === 'string' ? raw.split(/[\s,]+/).filter(Boolean) : [];
  if (list.length === 0) throw new ValidationError(field, raw, 'at least one http(s) URL is required');
  for (const u of list) {
    let ok = false;
    try {
      const parsed = new URL(u);
      ok = parsed.protocol === 'http:' || parsed.protocol === 'https:';
    } catch {
      ok = false;
    }
    if (!ok) throw new ValidationError(field, u, 'is not an http(s) URL');
  }
  return list;
}

/** Reads a tls-config node's CA the way Node-RED stores it: a loaded file (`ca`) or uploaded data (credentials.cadata). */
function tlsCa(RED: NodeAPI, tlsId: string | undefined): string | Buffer | undefined {
  if (!tlsId) return undefined;
  const tlsNode = RED.nodes.getNode(tlsId) as (Node & { ca?: string | Buffer }) | null;
  if (tlsNode) return tlsNode.ca || tlsNode.credentials?.cadata || undefined;
  // The editor's Test button runs before deploy, so fall back to stored credentials only.
  return RED.nodes.getCredentials(tlsId)?.cadata || undefined;
}

/** The timeout setting in seconds, as milliseconds for a timer (at most about 24.8 days). */
function timeoutMs(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const s = Number(raw);
  if (!Number.isFinite(s) || s <= 0) throw new ValidationError('timeout', raw, 'must be a positive number of seconds');
  const ms = Math.round(s * 1000);
  if (ms > MAX_TIMER_MS) throw new ValidationError('timeout', raw, `must be at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds (about 24.8 days), the longest a timer can wait`);
  return checkTimerMs(ms, 'timeout');
}

/** The response size setting in MB as bytes; empty keeps the client's default (512 MiB). */
function maxResponseBytes(raw: unknown): number | undefined {
  if (raw === undefined || raw === null || raw === '') return undefined;
  const mb = Number(raw);
  if (!Number.isFinite(mb) || mb <= 0 || mb > 8 * 1024 * 1024) throw new ValidationError('maxResponseMB', raw, 'must be a size in MB greater than 0');
  return Math.max(1, Math.round(mb * 1024 * 1024));
}

async function basicToken(mode: AuthMode, creds: ConfigCredentials, logger: Logger): Promise<string | undefined> {
  if (mode === 'token') {
    if (!creds.token) throw new ValidationError('token', undefined, 'the token credential is empty');
    return creds.token.trim();
  }
  if (mode === 'tokenFile') {
    if (!creds.tokenFile) throw new ValidationError('tokenFile', undefined, 'the token file path is empty');
    return await clients().readTokenFile(creds.tokenFile, logger);
  }
  if (mode === 'account') {
    if (!creds.accountId) throw new ValidationError('accountId', undefined, 'the account id is empty');
    if (!creds.password) throw new ValidationError('password', undefined, 'the password is empty');
    return clients().generateToken(creds.accountId, creds.password);
  }
  return undefined;
}

/** Builds (but does not contact) the client described by a config node. */
export async function createService(RED: NodeAPI, props: ConfigProps, creds: ConfigCredentials, logger: Logger): Promise<Service> {
  const kind = pick(props.service, SERVICES, 'service', 'kairosdb');
  const environment = pick(props.environment, ENVIRONMENTS, 'environment', kind === 'kairosdb' ? 'custom' : 'production');
  const authMode = pick<AuthMode>(props.authMode, ['none', 'token', 'tokenFile', 'account', 'login'], 'authMode', 'none');
  const defaultTags = parseTags(props.defaultTags, 'defaultTags');
  const timeZone = (props.timeZone || 'UTC').trim();
  const proxyMode = pick(props.proxyMode, ['none', 'env', 'url'], 'proxyMode', 'none');
  const proxy = proxyMode === 'url' ? parseUrls(props.proxyUrl, 'proxyUrl')[0] : proxyMode;
  const rejectUnauthorized = props.tlsVerify !== false;
  const ca = tlsCa(RED, props.tls);
  const base = {
    defaultTags,
    proxy,
    tls: { rejectUnauthorized, ...(ca ? { ca } : {}) },
    timeoutMs: timeoutMs(props.timeout),
    maxResponseBytes: maxResponseBytes(props.maxResponseMB),
    // Infinity = never compress; KairosDB accepts gzip bodies, but some proxies in front of it do not.
    gzipThresholdBytes: props.gzip === false ? Number.POSITIVE_INFINITY : 1024,
    timeZone,
    logger,
  };
  const baseUrls = kind === 'kairosdb' || environment === 'custom' ? parseUrls(props.urls, 'urls') : undefined;

  if (kind === 'io') {
    if (!creds.username) throw new ValidationError('username', undefined, 'proficloud.io needs a username');
    if (!creds.password) throw new ValidationError('password', undefined, 'proficloud.io needs a password');
    const io = new (clients().ProficloudIOMetrics)({
      environment: environment === 'staging' ? 'staging' : 'production',
      baseUrl: baseUrls?.[0],
      username: creds.username,
      password: creds.password,
      timeoutMs: base.timeoutMs,
      maxResponseBytes: base.maxResponseBytes,
      proxy,
      tls: base.tls,
      logger,
    });
    return { kind, io, readOnly: true, defaultTags, timeZone, close: () => io.close() };
  }

  const token = await basicToken(authMode, creds, logger);
  let connector: KairosConnector;
  if (kind === 'kairosdb') {
    connector = new (clients().KairosConnector)({ ...base, baseUrl: baseUrls!, token });
  } else {
    if (!token) throw new ValidationError('authMode', authMode, `${kind === 'tsd' ? 'TSD' : 'EWIMA'} needs a token, token file or account id + password`);
    const env: 'production' | 'staging' = environment === 'staging' ? 'staging' : 'production';
    const opts = { ...base, token, environment: env, ...(baseUrls ? { baseUrl: baseUrls[0] } : {}) };
    const { createTsdConnector, createEwimaConnector } = clients();
    connector = kind === 'tsd' ? createTsdConnector(opts) : createEwimaConnector(opts);
  }
  return { kind, connector, readOnly: kind === 'tsd', defaultTags, timeZone, close: () => connector.close() };
}

/** Every secret a config could hold, for redacting messages we did not build ourselves. */
export function secretsOf(creds: ConfigCredentials): string[] {
  const out = [creds.token, creds.password].filter((s): s is string => typeof s === 'string' && s.length > 0);
  if (creds.tokenFile) {
    try {
      out.push(readFileSync(creds.tokenFile, 'utf8').trim());
    } catch {
      // unreadable file: nothing of it can leak either
    }
  }
  return out;
}

/** What user nodes see of a deployed proficloud-config node. */
export interface ProficloudConfigNode extends Node {
  getService(): Promise<Service>;
  register(user: Node): void;
  deregister(user: Node): void;
  /** Users report the outcome of each request so every node's dot follows the connection. */
  reportOk(): void;
  reportFailure(err: unknown): void;
}

/** Resolves a user node's `server` property to its deployed config node, or throws a clear error. */
export function configNodeOf(RED: NodeAPI, id: unknown): ProficloudConfigNode {
  const config = typeof id === 'string' && id ? (RED.nodes.getNode(id) as ProficloudConfigNode | null) : null;
  if (!config || typeof config.getService !== 'function') throw new ValidationError('server', id, 'no proficloud-config node is selected or it is not deployed');
  return config;
}

