#!/usr/bin/env node
// `npm run test:matrix`: the whole mocha suite on both supported stacks, one after the other:
//   1. this machine's node (Node 20 in CI) with Node-RED 4 (devDependency `node-red`)
//   2. Node 24 with Node-RED 5 (devDependency alias `node-red-5`)
// Node 24 comes from the npm registry (the node-<os>-<arch>@24 package carries the binary) into .cache/node24,
// once. Each run prints mocha's own "tests: N passed, N failed, N skipped" line; the script closes with one line
// summing both and exits non-zero when either run failed, crashed or did not finish within RUN_TIMEOUT_MS.
// Extra arguments go to mocha (e.g. one spec file). Build and lint first: `npm run test:matrix` does.
// --install-only: only fetch Node 24 (CI does that before `npm ci`; it needs no dependencies).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const RUN_TIMEOUT_MS = Number(process.env.RUN_TIMEOUT_MS ?? 30 * 60_000);
/** Mocha runs without `exit: true`: once it printed its result it must exit by itself, or something was left open. */
const EXIT_GRACE_MS = 60_000;
const installOnly = process.argv.includes('--install-only');
const extraArgs = process.argv.slice(2).filter((a) => a !== '--install-only');

/** The Node 24 binary, installed from the registry into .cache/node24 when missing. */
function node24() {
  const os = process.platform === 'win32' ? 'win' : process.platform;
  const pkg = `node-${os}-${process.arch}`;
  const prefix = join(root, '.cache', 'node24');
  const bin = join(prefix, 'node_modules', pkg, 'bin', process.platform === 'win32' ? 'node.exe' : 'node');
  if (!existsSync(bin)) {
    console.log(`[matrix] installing ${pkg}@24 into .cache/node24`);
    mkdirSync(prefix, { recursive: true });
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const r = spawnSync(npm, ['install', '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--prefix', prefix, `${pkg}@24`], { stdio: 'inherit' });
    if (r.status !== 0 || !existsSync(bin)) throw new Error(`could not install ${pkg}@24 from the npm registry (exit ${r.status})`);
  }
  return bin;
}

function versionOf(nodeBin) {
  return spawnSync(nodeBin, ['--version'], { encoding: 'utf8' }).stdout.trim();
}

/** Runs mocha with nodeBin first on PATH, so child processes (Node-RED, npm, the demo) use the same node. */
function run(label, nodeBin, major) {
  return new Promise((resolve) => {
    console.log(`\n[matrix] ${label}`);
    const env = { ...process.env, NODE_RED_MAJOR: String(major), PATH: `${dirname(nodeBin)}${delimiter}${process.env.PATH ?? ''}` };
    const mocha = require.resolve('mocha/bin/mocha.js');
    const child = spawn(nodeBin, [mocha, ...extraArgs], { cwd: root, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let tail = '';
    let timedOut = false;
    let lingering;
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      tail = (tail + chunk.toString()).slice(-4000);
      if (!lingering && /tests: \d+ passed/.test(tail)) {
        lingering = setTimeout(() => {
          timedOut = true;
          console.log(`[matrix] ${label}: mocha did not exit ${EXIT_GRACE_MS / 1000} s after its result (a server, socket, timer or child process was left open); killing PID ${child.pid}`);
          child.kill('SIGKILL');
        }, EXIT_GRACE_MS);
      }
    });
    const timer = setTimeout(() => {
      timedOut = true;
      console.log(`[matrix] ${label}: still running after ${RUN_TIMEOUT_MS / 60_000} min; killing PID ${child.pid}`);
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(lingering);
      const m = /tests: (\d+) passed, (\d+) failed, (\d+) skipped/.exec(tail);
      const counts = m ? { passed: Number(m[1]), failed: Number(m[2]), skipped: Number(m[3]) } : { passed: 0, failed: 0, skipped: 0 };
      // A crash or a hang is a failure even when every test that ran passed.
      const ok = !timedOut && code === 0 && m !== null && counts.failed === 0;
      resolve({ label, ok, code: code ?? signal, counts, summarised: m !== null });
    });
  });
}

if (installOnly) {
  console.log(`[matrix] ${versionOf(node24())} ready in .cache/node24`);
  process.exit(0);
}

const results = [];
const here = process.execPath;
results.push(await run(`Node ${versionOf(here)} + Node-RED 4`, here, 4));
let n24;
try {
  n24 = node24();
} catch (err) {
  console.log(`[matrix] ${err.message}`);
}
if (n24) results.push(await run(`Node ${versionOf(n24)} + Node-RED 5`, n24, 5));
else results.push({ label: 'Node 24 + Node-RED 5', ok: false, code: 'not installed', counts: { passed: 0, failed: 0, skipped: 0 }, summarised: false });

console.log('\n[matrix] summary');
const total = { passed: 0, failed: 0, skipped: 0 };
for (const r of results) {
  for (const k of Object.keys(total)) total[k] += r.counts[k];
  const note = r.summarised ? '' : ` (no result line: exit ${r.code})`;
  console.log(`[matrix] ${r.ok ? 'ok  ' : 'FAIL'} ${r.label}: ${r.counts.passed} passed, ${r.counts.failed} failed, ${r.counts.skipped} skipped${note}`);
}
const allOk = results.every((r) => r.ok);
// A run that crashed or hung counts as one more failure, so the closing line never reads green for a red run.
const failed = total.failed + results.filter((r) => !r.ok && r.counts.failed === 0).length;
console.log(`${total.passed} passed, ${failed} failed, ${total.skipped} skipped`);
process.exit(allOk ? 0 : 1);
