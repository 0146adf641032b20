#!/usr/bin/env node
// `npm start`: the local KairosDB-compatible server (in this process) plus Node-RED 4 (a child process) with
// this package loaded and the end-to-end example flow deployed against the local server.
//
// Environment: DEMO_PORT (Node-RED, default 1880), DEMO_KAIROS_PORT (server, default 8080; 0 = any free port),
// DEMO_DIR (state directory, default <repo>/.demo), DEMO_KEEP_FLOWS=1 (keep the flows edited in an earlier run
// instead of deploying the example afresh). A default port that is busy falls back to a free one;
// a port given explicitly that is busy is an error.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const HOST = '127.0.0.1';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const demoDir = process.env.DEMO_DIR ? resolve(process.env.DEMO_DIR) : join(root, '.demo');
const userDir = join(demoDir, 'node-red');
const settingsFile = join(root, 'scripts', 'demo-settings.cjs');
const exampleFile = join(root, 'examples', 'end-to-end.json');
const serverModule = join(root, 'dist', 'src', 'server', 'index.js');
const READY_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 8_000;

let nodeRed; // ChildProcess
let kairos; // { url, close() }
let shuttingDown = false;

const say = (msg) => console.log(`[demo] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function portFromEnv(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return { port: fallback, explicit: false };
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`${name}: must be a port number from 0 to 65535 (got ${JSON.stringify(raw)})`);
  }
  return { port, explicit: true };
}

function listenOnce(port) {
  return new Promise((resolvePort) => {
    const probe = createServer();
    probe.once('error', () => resolvePort(null));
    probe.listen(port, HOST, () => {
      const { port: bound } = probe.address();
      probe.close(() => resolvePort(bound));
    });
  });
}

/** The preferred port when free; otherwise (unless the user asked for it explicitly) any free one. */
async function choosePort({ port, explicit }, what) {
  const got = await listenOnce(port);
  if (got !== null) return got;
  if (explicit) throw new Error(`${what} port ${port} is already in use`);
  const other = await listenOnce(0);
  if (other === null) throw new Error(`no free port for ${what}`);
  say(`port ${port} is busy; ${what} uses ${other} instead`);
  return other;
}

function ensureBuilt() {
  if (existsSync(join(root, 'dist', 'src'))) return;
  say('dist/ is missing: building first (npm run build)');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`the build failed (exit ${r.status ?? r.signal}); fix it and run npm start again`);
}

async function startKairos(choice) {
  if (!existsSync(serverModule)) {
    say(`the local server is not built (${serverModule} missing); Node-RED starts without it`);
    return undefined;
  }
  const { startServer } = require(serverModule);
  if (typeof startServer !== 'function') {
    say('dist/src/server/index.js has no startServer(); Node-RED starts without the local server');
    return undefined;
  }
  const dataDir = join(demoDir, 'kairosdb');
  mkdirSync(dataDir, { recursive: true });
  try {
    return await startServer({ port: choice.port, host: HOST, dataDir });
  } catch (err) {
    // The port can be taken between the probe and the listen; only a default port may move.
    if (err?.code !== 'EADDRINUSE' || choice.explicit) throw err;
    say(`port ${choice.port} became busy; the local server uses a free port instead`);
    return await startServer({ port: 0, host: HOST, dataDir });
  }
}

/** A flow with core nodes only, used until examples/end-to-end.json exists. */
function placeholderFlow() {
  return [
    { id: 'demo-tab', type: 'tab', label: 'KairosDB demo', disabled: false, info: 'Placeholder: examples/end-to-end.json is not there yet.' },
    {
      id: 'demo-comment',
      type: 'comment',
      z: 'demo-tab',
      name: 'Placeholder flow: examples/end-to-end.json was not found',
      info: 'Build the package with its example flow and run npm start again.',
      x: 260,
      y: 60,
      wires: [],
    },
    {
      id: 'demo-inject',
      type: 'inject',
      z: 'demo-tab',
      name: 'tick',
      props: [{ p: 'payload' }],
      repeat: '',
      once: false,
      topic: '',
      payload: '',
      payloadType: 'date',
      x: 130,
      y: 120,
      wires: [['demo-debug']],
    },
    { id: 'demo-debug', type: 'debug', z: 'demo-tab', name: 'out', active: true, complete: 'payload', targetType: 'msg', x: 310, y: 120, wires: [] },
  ];
}

/** The example flow (or, with DEMO_KEEP_FLOWS=1, the last demo's flows) pointed at the local server. */
function demoFlow(serverUrl) {
  let nodes;
  let source;
  const previous = join(userDir, 'flows.json');
  if (process.env.DEMO_KEEP_FLOWS === '1' && existsSync(previous)) {
    nodes = JSON.parse(readFileSync(previous, 'utf8'));
    if (!Array.isArray(nodes)) throw new Error(`${previous}: must be a JSON array of nodes`);
    source = 'the flows of the previous demo run (DEMO_KEEP_FLOWS=1)';
  } else if (existsSync(exampleFile)) {
    nodes = JSON.parse(readFileSync(exampleFile, 'utf8'));
    if (!Array.isArray(nodes)) throw new Error(`${exampleFile}: must be a JSON array of nodes`);
    source = 'examples/end-to-end.json';
  } else {
    nodes = placeholderFlow();
    source = 'a placeholder (examples/end-to-end.json not found)';
  }
  // Examples may leave out their tab; give orphaned flow nodes one so the runtime starts them.
  const tabs = new Set(nodes.filter((n) => n.type === 'tab').map((n) => n.id));
  const orphans = nodes.filter((n) => n.type !== 'tab' && (n.z !== undefined || n.x !== undefined) && !tabs.has(n.z));
  if (orphans.length) {
    const tabId = 'kairos-demo-tab';
    nodes.unshift({ id: tabId, type: 'tab', label: 'KairosDB demo', disabled: false, info: '' });
    for (const n of orphans) n.z = tabId;
  }
  for (const n of nodes) {
    if (n.type !== 'proficloud-config' || !serverUrl) continue;
    n.urls = serverUrl;
    if ('url' in n) n.url = serverUrl;
    if (n.service === undefined) n.service = 'kairosdb';
  }
  return { nodes, source };
}

function pipeLines(stream, out, prefix) {
  createInterface({ input: stream }).on('line', (line) => out.write(`${prefix}${line}\n`));
}

function startNodeRed(port) {
  // DEMO_NODE_RED_CLI: another Node-RED's red.js (the test suite runs the demo on the Node-RED major it tests).
  const redJs = process.env.DEMO_NODE_RED_CLI || require.resolve('node-red/red.js');
  const child = spawn(process.execPath, [redJs, '--settings', settingsFile, '--userDir', userDir, '--port', String(port)], {
    cwd: root,
    env: { ...process.env, DEMO_DIR: demoDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  pipeLines(child.stdout, process.stdout, '[node-red] ');
  pipeLines(child.stderr, process.stderr, '[node-red] ');
  child.on('exit', (code, signal) => {
    if (shuttingDown) return;
    say(`Node-RED exited unexpectedly (${signal ?? `code ${code}`})`);
    void shutdown('node-red exit', 1);
  });
  return child;
}

/** Resolves once the admin API serves the flows we wrote; fails fast if Node-RED dies. */
async function waitForFlows(port, expectedIds) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (shuttingDown) throw new Error('stopped during start-up');
    try {
      const res = await fetch(`http://${HOST}:${port}/flows`, {
        headers: { 'Node-RED-API-Version': 'v2' },
        signal: AbortSignal.timeout(2000),
      });
      if (res.ok) {
        const body = await res.json();
        const ids = new Set((body.flows ?? []).map((n) => n.id));
        if (expectedIds.every((id) => ids.has(id))) return;
      } else {
        await res.body?.cancel();
      }
    } catch {
      // not listening yet
    }
    await sleep(250);
  }
  throw new Error(`Node-RED did not serve the demo flow within ${READY_TIMEOUT_MS / 1000} s`);
}

function waitExit(child, ms) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolveExit) => {
    const timer = setTimeout(() => resolveExit(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolveExit(true);
    });
  });
}

async function shutdown(reason, code = 0) {
  if (shuttingDown) return;
  shuttingDown = true;
  say(`stopping (${reason})`);
  if (nodeRed && nodeRed.exitCode === null && nodeRed.signalCode === null) {
    // Node-RED stops its flows on SIGINT; SIGKILL only if it hangs. child.kill() targets this child's PID.
    nodeRed.kill('SIGINT');
    if (!(await waitExit(nodeRed, STOP_TIMEOUT_MS))) {
      say('Node-RED did not stop in time; killing it');
      nodeRed.kill('SIGKILL');
      await waitExit(nodeRed, 2000);
    }
  }
  if (kairos) {
    try {
      await Promise.race([Promise.resolve(kairos.close()), sleep(3000)]);
    } catch (err) {
      say(`closing the local server failed: ${err?.message ?? err}`);
    }
  }
  process.exit(code);
}

async function main() {
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));

  const nrChoice = portFromEnv('DEMO_PORT', 1880);
  const kairosChoice = portFromEnv('DEMO_KAIROS_PORT', 8080);
  ensureBuilt();

  const kairosPort = kairosChoice.port === 0 ? { port: 0, explicit: true } : { port: await choosePort(kairosChoice, 'the local server'), explicit: kairosChoice.explicit };
  kairos = await startKairos(kairosPort);
  if (shuttingDown) return;
  const serverUrl = kairos?.url?.replace(/\/+$/, '');

  const nrPort = nrChoice.port === 0 ? await listenOnce(0) : await choosePort(nrChoice, 'Node-RED');
  const { nodes, source } = demoFlow(serverUrl);
  mkdirSync(userDir, { recursive: true });
  // Written before start so the runtime starts the flow with the right URL (and no deploy race).
  writeFileSync(join(userDir, 'flows.json'), JSON.stringify(nodes, null, 2));
  say(`deploying ${source} (${nodes.length} nodes) to ${join(userDir, 'flows.json')}`);
  if (process.env.DEMO_KEEP_FLOWS !== '1') say('flows edited in an earlier run are replaced; set DEMO_KEEP_FLOWS=1 to keep them');

  nodeRed = startNodeRed(nrPort);
  await waitForFlows(nrPort, nodes.map((n) => n.id));

  console.log(`Local KairosDB server: ${serverUrl ?? 'not available (see above)'}`);
  console.log(`Node-RED editor: http://${HOST}:${nrPort}`);
  say('press Ctrl-C to stop both');
}

main().catch((err) => {
  console.error(`[demo] ${err?.message ?? err}`);
  void shutdown('start-up failed', 1);
});
