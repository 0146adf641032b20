import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_RED_CLI } from './helpers/node-red-module';

const root = join(__dirname, '..');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess, ms: number): Promise<number | string | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? child.signalCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal);
    });
  });
}

interface FlowNode {
  id: string;
  type: string;
  urls?: string;
}

describe('npm start (scripts/demo.mjs)', function () {
  // Start-up includes a build when dist/ is missing; the run itself takes a few seconds.
  this.timeout(150_000);

  let child: ChildProcess | undefined;
  let demoDir: string;
  let output = '';

  before(() => {
    demoDir = mkdtempSync(join(tmpdir(), 'kairos-demo-'));
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null && child.pid) {
      // Our own detached child: its process group holds the demo and the Node-RED it started.
      child.kill('SIGINT');
      if ((await exited(child, 8000)) === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(demoDir, { recursive: true, force: true });
  });

  it('starts the server and Node-RED with the flow deployed, and stops cleanly on SIGINT', async () => {
    const [nrPort, kairosPort] = [await freePort(), await freePort()];
    child = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs')], {
      cwd: root,
      env: { ...process.env, DEMO_NODE_RED_CLI: NODE_RED_CLI, DEMO_PORT: String(nrPort), DEMO_KAIROS_PORT: String(kairosPort), DEMO_DIR: demoDir },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    const proc = child;
    proc.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
    proc.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));

    const editorLine = await new Promise<RegExpMatchArray>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no editor URL within 120 s:\n${output.slice(-3000)}`)), 120_000);
      const check = (): void => {
        const m = /^Node-RED editor: (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m);
        }
      };
      proc.stdout?.on('data', check);
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`demo exited (${code}) before it was ready:\n${output.slice(-3000)}`));
      });
      check();
    });
    const editor = editorLine[1];
    assert.equal(Number(editorLine[2]), nrPort);

    const serverMatch = /^Local KairosDB server: (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(output);
    assert.ok(serverMatch, `the local server URL is printed:\n${output.slice(-2000)}`);
    const serverUrl = serverMatch[1];
    assert.equal(Number(serverMatch[2]), kairosPort);
    const version = await fetch(`${serverUrl}/api/v1/version`);
    assert.equal(version.status, 200);
    await version.arrayBuffer();

    const home = await fetch(`${editor}/`);
    assert.equal(home.status, 200);
    await home.arrayBuffer();

    const res = await fetch(`${editor}/flows`, { headers: { 'Node-RED-API-Version': 'v2' } });
    assert.equal(res.status, 200);
    const deployed = ((await res.json()) as { flows: FlowNode[] }).flows;
    const written = JSON.parse(readFileSync(join(demoDir, 'node-red', 'flows.json'), 'utf8')) as FlowNode[];
    assert.ok(deployed.some((n) => n.type === 'tab'), 'a flow tab is deployed');
    assert.deepEqual(deployed.map((n) => n.id).sort(), written.map((n) => n.id).sort());
    for (const cfg of deployed.filter((n) => n.type === 'proficloud-config')) {
      assert.equal(cfg.urls, serverUrl, `config node ${cfg.id} points at the local server`);
    }

    proc.kill('SIGINT');
    const code = await exited(proc, 12_000);
    assert.equal(code, 0, `demo exits 0 after SIGINT:\n${output.slice(-2000)}`);
    await assert.rejects(fetch(`${editor}/`, { signal: AbortSignal.timeout(2000) }), 'Node-RED is gone too');
    await assert.rejects(fetch(`${serverUrl}/api/v1/version`, { signal: AbortSignal.timeout(2000) }), 'the server is closed');
  });
});
