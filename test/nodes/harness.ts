/**
 * Shared set-up for the node tests: node-red-node-test-helper with the BUILT nodes from dist/nodes,
 * the local KairosDB-compatible server on 127.0.0.1, and small waiting utilities.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type LocalServer } from '../../src/server/index';
import { NODE_RED_MAIN } from '../helpers/node-red-module';

export interface SpyCall {
  args: unknown[];
  thisValue: unknown;
}

/** The parts of node-red-node-test-helper we use (it ships no type declarations). */
export interface TestNode {
  id: string;
  on(event: string, fn: (arg: never) => void): void;
  receive(msg: Record<string, unknown>): void;
  status: { (s: unknown): void; getCalls(): SpyCall[] };
  error: { getCalls(): SpyCall[] };
  warn: { getCalls(): SpyCall[] };
  context(): { get(key: string): unknown; set(key: string, value: unknown): void };
}
export interface TestHelper {
  init(runtimePath: string, userSettings?: Record<string, unknown>): void;
  settings(s: Record<string, unknown>): void;
  startServer(done: (err?: unknown) => void): void;
  stopServer(done: (err?: unknown) => void): void;
  load(nodes: unknown[], flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode;
  request(): import('./supertest-shim').Agent;
}

export const helper: TestHelper = require('node-red-node-test-helper');
helper.init(NODE_RED_MAIN);

const DIST = join(__dirname, '..', '..', 'dist', 'nodes');
/** Built node modules in config, query, write, batch, stream order. */
export function builtNodes(): unknown[] {
  return ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch', 'proficloud-stream'].map((t) => require(join(DIST, `${t}.js`)));
}

export const userDir = mkdtempSync(join(tmpdir(), 'proficloud-nodes-'));
helper.settings({ userDir });

export function startHelper(): Promise<void> {
  return new Promise((resolve, reject) => helper.startServer((err) => (err ? reject(err) : resolve())));
}
export function stopHelper(): Promise<void> {
  return new Promise((resolve, reject) => helper.stopServer((err) => (err ? reject(err) : resolve())));
}
export function cleanUserDir(): void {
  rmSync(userDir, { recursive: true, force: true });
}

export async function kairos(opts: { token?: string } = {}): Promise<LocalServer> {
  return startServer({ port: 0, host: '127.0.0.1', selfMetrics: false, ...opts });
}

/** Mocha hooks of a node suite: the helper's runtime for the suite, the flow unloaded after each test, the user dir removed at the end. */
export function useNodeRed(): void {
  before(startHelper);
  after(async function () {
    await stopHelper();
    cleanUserDir();
  });
  afterEach(async function () {
    await helper.unload();
  });
}

/** useNodeRed plus one local KairosDB for the whole suite; `server` is set once the before hook has run. */
export function useNodeRedAndKairos(): { readonly server: LocalServer } {
  let server: LocalServer | undefined;
  useNodeRed();
  before(async function () {
    server = await kairos();
  });
  after(async function () {
    await server?.close();
  });
  return {
    get server(): LocalServer {
      if (!server) throw new Error('the local KairosDB is not started yet (use it inside hooks and tests)');
      return server;
    },
  };
}

export function configNode(url: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'cfg', type: 'proficloud-config', service: 'kairosdb', environment: 'custom', urls: url, authMode: 'none', timeZone: 'UTC', timeout: 5, gzip: true, proxyMode: 'none', tlsVerify: true, ...extra };
}

/** Posts points straight to the server, bypassing the nodes under test. */
export async function seed(url: string, metrics: unknown[]): Promise<void> {
  const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(metrics) });
  if (res.status !== 204) throw new Error(`seed failed: ${res.status} ${await res.text()}`);
}

/** Reads every stored point of a metric (all series, or those matching `tags`) back from the server. */
export async function readBack(url: string, metric: string, tags?: Record<string, string[]>): Promise<Array<[number, unknown]>> {
  const body = { start_absolute: 1, metrics: [{ name: metric, ...(tags ? { tags } : {}) }] };
  const res = await fetch(`${url}/api/v1/datapoints/query`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`query failed: HTTP ${res.status} ${await res.text()}`);
  const json = (await res.json()) as { queries: Array<{ results: Array<{ values: Array<[number, unknown]> }> }> };
  return json.queries[0].results.flatMap((r) => r.values);
}

/** Collects messages arriving at a helper node. */
export function collect(node: TestNode): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  node.on('input', (msg: never) => got.push(msg));
  return got;
}

/** Deploys a config node for `url` and the node under test wired to a helper node 'out'; returns what reaches 'out'. */
export async function loadWithOutput(url: string, node: Record<string, unknown>, cfgExtra: Record<string, unknown> = {}): Promise<Array<Record<string, unknown>>> {
  await helper.load(builtNodes(), [configNode(url, cfgExtra), node, { id: 'out', type: 'helper' }]);
  return collect(helper.getNode('out'));
}

/** Resolves when cond() holds; fails after timeoutMs (bounded polling, never endless; generous, as a busy machine is no failure). */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** The helper spies on the Node prototype, so calls of every node land in one spy: keep this node's. */
export function callsOf(node: TestNode, method: 'status' | 'error' | 'warn'): SpyCall[] {
  return node[method].getCalls().filter((c) => c.thisValue === node);
}

/** Messages of every node.error(err, msg) call on a node under test. */
export function errorsOf(node: TestNode): string[] {
  return callsOf(node, 'error').map((c) => {
    const e = c.args[0] as { message?: string } | string;
    return typeof e === 'string' ? e : String(e?.message);
  });
}

export function lastStatus(node: TestNode): { fill?: string; shape?: string; text?: string } {
  const calls = callsOf(node, 'status');
  return (calls.length ? calls[calls.length - 1].args[0] : {}) as { fill?: string; text?: string };
}
