/**
 * A real Node-RED runtime (the major test/helpers/node-red-module.ts picks) in a child process, for restart,
 * SIGKILL and admin-auth tests. The parent forks it with tsx and an IPC channel; it loads this repository as a
 * Node-RED package (the built dist/nodes), runs <userDir>/flows.json, and answers over IPC:
 *   parent -> child  {type:'send', node, msgs}   feed messages into a node (node.receive)
 *                    {type:'stop'}               RED.stop() and exit 0 (a clean restart)
 *   child -> parent  {type:'ready', port}         admin API on 127.0.0.1:port
 *                    {type:'complete', counts}    messages whose done() ran, per node id (batched)
 *                    {type:'log', level, msg, id} every runtime log line (node.log/warn/error too)
 * SIGTERM also stops cleanly; SIGKILL is what the tests use to model a crash.
 */
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { NODE_RED_MAIN } from '../helpers/node-red-module';

const userDir = process.env.RED_USERDIR;
if (!userDir || !process.send) throw new Error('red-child needs RED_USERDIR and an IPC channel');
const send = (m: unknown): void => {
  if (process.connected) process.send!(m);
};

const ROOT = join(__dirname, '..', '..');
if (!existsSync(join(ROOT, 'dist', 'nodes', 'proficloud-query.js'))) throw new Error('dist/nodes is not built: run `npm run build` first (npm test does)');

interface RedRuntime {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  httpAdmin: http.RequestListener;
  nodes: { getNode(id: string): { receive(msg: unknown): void } | null };
  hooks: { add(name: string, fn: (ev: { node: { id: string } }) => void): void };
  events: { once(name: string, fn: () => void): void };
}

async function main(): Promise<void> {
  // Node-RED ships no type declarations; the parts used here are typed by RedRuntime.
  const RED = require(NODE_RED_MAIN) as RedRuntime;
  const server = http.createServer((req, res) => RED.httpAdmin(req, res));
  const logHandler = () => (m: { level: number; msg: unknown; id?: string; type?: string }) => {
    send({ type: 'log', level: m.level, msg: typeof m.msg === 'string' ? m.msg : m.msg instanceof Error ? m.msg.message : JSON.stringify(m.msg), id: m.id, nodeType: m.type });
  };
  const settings: Record<string, unknown> = {
    userDir,
    // The repository as a Node-RED package (package.json's node-red.nodes, i.e. the built dist/nodes), the way the
    // node tests, the browser tests and the demo load it.
    nodesDir: [ROOT],
    flowFile: 'flows.json',
    credentialSecret: false,
    uiHost: '127.0.0.1',
    httpAdminRoot: '/',
    httpNodeRoot: false,
    disableEditor: true,
    editorTheme: { tours: false },
    logging: { console: { level: 'off' }, capture: { level: 'trace', metrics: false, audit: false, handler: logHandler } },
    proficloudRetry: { initialMs: 50, maxMs: 400 },
    ...(process.env.RED_SETTINGS ? (JSON.parse(process.env.RED_SETTINGS) as Record<string, unknown>) : {}),
  };
  RED.init(server, settings);
  const started = new Promise<void>((resolve) => RED.events.once('flows:started', () => resolve()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  await RED.start();
  await started;

  const counts: Record<string, number> = {};
  let dirty = false;
  RED.hooks.add('onComplete', (ev) => {
    counts[ev.node.id] = (counts[ev.node.id] ?? 0) + 1;
    dirty = true;
  });
  setInterval(() => {
    if (!dirty) return;
    dirty = false;
    send({ type: 'complete', counts });
  }, 20).unref();

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await RED.stop();
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('message', (m: { type: string; node?: string; msgs?: unknown[] }) => {
    if (m.type === 'stop') void stop();
    if (m.type === 'send' && m.node && m.msgs) {
      const node = RED.nodes.getNode(m.node);
      if (!node) {
        send({ type: 'log', level: 20, msg: `red-child: no node ${m.node}` });
        return;
      }
      for (const msg of m.msgs) node.receive(msg);
    }
  });
  // The parent going away must not leave an orphan runtime behind.
  process.on('disconnect', () => void stop());
  send({ type: 'ready', port: (server.address() as AddressInfo).port });
}

main().catch((err: unknown) => {
  send({ type: 'log', level: 20, msg: `red-child failed: ${err instanceof Error ? err.stack : String(err)}` });
  process.exit(1);
});
