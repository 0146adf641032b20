/**
 * The package as users get it: `npm pack` (which builds in prepack) once per test process, then installs of
 * that tarball the way Node-RED's palette manager runs npm. Shared by test/package.test.ts and
 * test/install/*.test.ts. Every npm call is bounded by a timeout; the npm cache is used first
 * (--prefer-offline) and the registry only for what it lacks.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = join(__dirname, '..', '..');
export const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  repository: { url: string };
  exports: Record<string, unknown>;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  files: string[];
  engines: { node: string };
  peerDependencies?: Record<string, string>;
  'node-red': { version: string; nodes: Record<string, string> };
};
export const NODE_TYPES = Object.keys(PKG['node-red'].nodes);

/** The flags Node-RED's palette manager (registry/installer.js) gives `npm install`, plus the npm cache first. */
export const PALETTE_INSTALL_ARGS = [
  'install',
  '--no-audit',
  '--no-update-notifier',
  '--no-fund',
  '--save',
  '--save-prefix=~',
  '--omit=dev',
  '--engine-strict',
  '--prefer-offline',
];

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The environment without what `npm test` adds for its own run (npm_lifecycle_*, npm_package_*,
 * npm_config_local_prefix pointing at this repository, ...), so a child npm behaves as in a user's shell.
 * Cache, registry and CA settings stay: they are the machine's, not this run's.
 */
export function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const keep = new Set(['npm_config_cache', 'npm_config_registry', 'npm_config_cafile', 'npm_config_userconfig', 'npm_config_globalconfig']);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^npm_/i.test(k) && !keep.has(k.toLowerCase())) continue;
    env[k] = v;
  }
  // The npm below runs on the node under test: this process's node first on PATH.
  env.PATH = `${join(process.execPath, '..')}:${process.env.PATH ?? ''}`;
  return { ...env, NO_UPDATE_NOTIFIER: '1', ...extra };
}

/** Runs a command to completion (or the timeout, which kills it by its PID) and keeps its output. */
export function run(cmd: string, args: string[], cwd: string, timeoutMs: number, env: NodeJS.ProcessEnv = userEnv()): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
      resolve({
        code: e ? (typeof e.code === 'number' ? e.code : -1) : 0,
        signal: e?.signal ?? null,
        stdout: String(stdout),
        stderr: String(stderr) + (e && typeof e.code === 'string' ? `\n${e.code}: ${e.message}` : ''),
      });
    });
  });
}

/** npm's own output lines that are warnings or errors (npm 11 writes "npm warn ..." / "npm error ..."). */
export function npmProblems(r: RunResult): string[] {
  return `${r.stdout}\n${r.stderr}`.split('\n').filter((l) => /^npm (warn|error|ERR!|WARN)/i.test(l.trim()));
}

export interface Packed {
  dir: string;
  tgz: string;
  /** Paths inside the tarball, relative to the package root. */
  files: string[];
}

let packing: Promise<Packed> | undefined;

/** `npm pack` of this repository, once per process (it runs prepack, i.e. the build). */
export function packOnce(): Promise<Packed> {
  packing ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'proficloud-pack-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const r = await run('npm', ['pack', '--json', '--pack-destination', dir], ROOT, 180_000);
    if (r.code !== 0) throw new Error(`npm pack failed (${r.code ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
    // prepack's build prints to stdout before npm's JSON array.
    const json = r.stdout.slice(r.stdout.indexOf('\n[') + 1);
    const [info] = JSON.parse(json) as Array<{ filename: string; files: Array<{ path: string }> }>;
    const tgz = join(dir, info.filename);
    if (!existsSync(tgz)) throw new Error(`npm pack reported ${info.filename}, but ${tgz} does not exist`);
    return { dir, tgz, files: info.files.map((f) => f.path).sort() };
  })();
  return packing;
}

/** A fresh Node-RED user directory as Node-RED creates it, without node-red itself in it. */
export function freshUserDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'node-red-project', description: 'A Node-RED Project', version: '0.0.1', private: true }, null, 4),
  );
  return dir;
}

/** Installs the tarball into userDir exactly as the palette manager does; throws with npm's output on failure. */
export async function paletteInstall(userDir: string, tgz: string): Promise<RunResult> {
  const r = await run('npm', [...PALETTE_INSTALL_ARGS, tgz], userDir, 180_000);
  if (r.code !== 0) throw new Error(`palette-style npm install failed (${r.code ?? r.signal}):\n${r.stderr}\n${r.stdout}`);
  return r;
}

/** Waits for a child to exit, up to ms; true when it did. */
export function exited(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGINT to our child's PID, then SIGKILL if it has not gone after graceMs. */
export async function stopChild(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGINT');
  if (!(await exited(child, graceMs))) {
    child.kill('SIGKILL');
    await exited(child, 5000);
  }
}

/** Starts a long-running child and resolves with it once a line of its output matches `ready`. */
export function startUntil(
  cmd: string,
  args: string[],
  opts: { cwd: string; env?: NodeJS.ProcessEnv; ready: RegExp; timeoutMs: number; what: string },
): Promise<{ child: ChildProcess; match: RegExpExecArray; output: () => string }> {
  const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const output = (): string => out;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stopChild(child).then(() => reject(new Error(`${opts.what} was not ready within ${opts.timeoutMs / 1000} s:\n${out.slice(-4000)}`)));
    }, opts.timeoutMs);
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      const m = opts.ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m, output });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${opts.what} exited (${code ?? signal}) before it was ready:\n${out.slice(-4000)}`));
    });
  });
}
