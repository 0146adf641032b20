/**
 * Everything a browser test needs running: the local KairosDB-compatible server, Node-RED (a child
 * process with a temporary userDir and this package from dist/), and Debian's chromium driven by
 * playwright-core. All of it listens on 127.0.0.1 and is torn down by PID / handle only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { startServer, type LocalServer } from '../../src/server';
import { NODE_RED_CLI } from '../helpers/node-red-module';

export const CHROMIUM = '/usr/bin/chromium';
export const ROOT = join(__dirname, '..', '..');
const HOST = '127.0.0.1';
// Without the networking flags Chromium keeps trying to reach Google services on a closed network.
const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export interface Stack {
  kairos: LocalServer;
  editorUrl: string;
  page: Page;
  /** Uncaught page errors and console errors seen so far. */
  problems: string[];
  /** Node-RED's own output, for failure messages. */
  log: () => string;
  stop(): Promise<void>;
}

/** A port nothing listens on right now (for the server and for a deliberately closed address). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitForEditor(url: string, child: ChildProcess, deadlineMs: number): Promise<void> {
  const deadline = Date.now() + deadlineMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode} during start-up`);
    try {
      const res = await fetch(`${url}/nodes`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(1000) });
      if (res.ok) {
        const list = (await res.json()) as Array<{ types?: string[] }>;
        if (list.some((set) => set.types?.includes('proficloud-query'))) return;
      } else {
        await res.body?.cancel();
      }
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  throw new Error(`Node-RED did not load the proficloud nodes within ${deadlineMs / 1000} s`);
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

export async function startStack(): Promise<Stack> {
  if (!existsSync(join(ROOT, 'dist', 'nodes', 'proficloud-query.html'))) {
    throw new Error('dist/nodes is not built: run `npm run build` first (npm test does)');
  }
  const work = mkdtempSync(join(tmpdir(), 'proficloud-browser-'));
  const cleanups: Array<() => Promise<void> | void> = [() => rmSync(work, { recursive: true, force: true })];
  const stop = async (): Promise<void> => {
    for (const fn of cleanups.reverse()) {
      try {
        await fn();
      } catch {
        // keep tearing down the rest
      }
    }
  };
  try {
    const kairos = await startServer({ port: 0, host: HOST, selfMetrics: false });
    cleanups.push(() => kairos.close());

    const userDir = join(work, 'node-red');
    const settingsFile = join(work, 'settings.cjs');
    writeFileSync(
      settingsFile,
      `module.exports = ${JSON.stringify({
        uiHost: HOST,
        flowFile: 'flows.json',
        credentialSecret: 'browser-test-only',
        nodesDir: [ROOT],
        editorTheme: { tours: false, projects: { enabled: false } },
        telemetry: { enabled: false, updateNotification: false },
        diagnostics: { enabled: false, ui: false },
        externalModules: { autoInstall: false, palette: { allowInstall: false } },
        logging: { console: { level: 'warn', metrics: false, audit: false } },
      })};\n`,
    );
    const port = await freePort();
    let output = '';
    const child = spawn(process.execPath, [NODE_RED_CLI, '--settings', settingsFile, '--userDir', userDir, '--port', String(port)], {
      cwd: work,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    cleanups.push(async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGINT');
      if (!(await waitExit(child, 8000))) {
        child.kill('SIGKILL');
        await waitExit(child, 2000);
      }
    });
    const editorUrl = `http://${HOST}:${port}`;
    await waitForEditor(editorUrl, child, 90_000);

    const profile = join(work, 'chromium-profile');
    const context: BrowserContext = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: CHROMIUM_FLAGS,
      viewport: { width: 1280, height: 800 },
      locale: 'en-US',
    });
    cleanups.push(() => context.close());
    const page = context.pages()[0] ?? (await context.newPage());
    // Generous: the editor fetches flows, help and examples from Node-RED, which a busy machine answers slowly.
    page.setDefaultTimeout(30_000);
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`);
    });
    return { kairos, editorUrl, page, problems, log: () => output, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
