// The package as a user gets it: the tarball `npm pack` makes (built in prepack), installed the way Node-RED's
// palette manager installs it, and beside node-red@5 in one project. From there: `exports` from a plain
// Node script (CommonJS and ESM), the kairosdb-local bin, a strict TypeScript consumer, what the tarball
// holds (no source maps, README images that render off GitHub). test/install/node-red.test.ts starts
// Node-RED on such an install.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PUBLIC_RUNTIME_EXPORTS, SEED_NAMES } from './install/public-api';
import { PKG, ROOT, freshUserDir, npmProblems, packOnce, paletteInstall, run, type Packed } from './install/packed';

// Runs in a separate node process from the user directory, which only sees the package through node_modules.
const CJS_SCRIPT = `
const lib = require('${PKG.name}');
const { startServer, VERSION } = require('${PKG.name}/server');
const names = ${JSON.stringify(SEED_NAMES)};
const out = { missing: names.filter((n) => typeof lib[n] !== 'function'), proficloudMetrics: Object.keys(lib.ProficloudMetrics || {}) };
try { require('${PKG.name}/dist/src/time'); out.deep = 'allowed'; } catch (e) { out.deep = e.code; }
out.pkgName = require('${PKG.name}/package.json').name;
out.resolved = require.resolve('${PKG.name}');
(async () => {
  const server = await startServer({ port: 0, selfMetrics: false });
  const kairos = new lib.KairosConnector({ baseUrl: server.url, defaultTags: { host: 'script' } });
  const t = lib.datetimeToTimestampMs('2026-01-02 03:04:05.000000');
  out.write = await kairos.addMetrics({ 'pkg.temp': 21.5 }, { timestamp: t });
  out.rows = await kairos.queryMetrics({ metrics: 'pkg.temp', startAbsolute: t - 1000, endAbsolute: t + 1000, convertTimestamp: 'iso' });
  out.version = (await kairos.version()) === VERSION;
  out.token = lib.generateToken('id', 'pw');
  await kairos.close();
  await server.close();
  process.stdout.write(JSON.stringify(out));
})().catch((e) => { console.error(e); process.exit(1); });
`;

// Node's ESM loader sees the CommonJS exports by static analysis: every public name must come through.
const ESM_SCRIPT = `
import { createRequire } from 'node:module';
import * as lib from '${PKG.name}';
import { KairosConnector, generateToken } from '${PKG.name}';
import { startServer } from '${PKG.name}/server';
const skip = new Set(['default', 'module.exports', '__esModule']);
const names = Object.keys(lib).filter((n) => !skip.has(n)).sort();
const cjs = Object.keys(createRequire(import.meta.url)('${PKG.name}')).filter((n) => !skip.has(n)).sort();
process.stdout.write(JSON.stringify({ names, cjs, named: typeof KairosConnector === 'function' && typeof generateToken === 'function', server: typeof startServer }));
`;

// A strict TypeScript consumer of the public API and the server entry.
const TS_CONSUMER = `
import {
  KairosConnector,
  datetimeToTimestampMs,
  timestampMsToDatetime,
  rowsFromQueryResponse,
  MetricsStream,
  ValidationError,
  KairosError,
  createTsdConnector,
  type DateTimeLike,
  type KairosConnectorOptions,
  type QueryOptions,
  type Row,
  type WriteResult,
  type MetricsStreamOptions,
} from '${PKG.name}';
import { startServer } from '${PKG.name}/server';

export async function main(): Promise<number> {
  const server = await startServer({ port: 0 });
  const opts: KairosConnectorOptions = { baseUrl: server.url, defaultTags: { site: 'ts' } };
  const kairos = new KairosConnector(opts);
  const written: WriteResult = await kairos.addMetrics({ 'ts.temp': 1 }, { timestamp: datetimeToTimestampMs(new Date()) });
  const query: QueryOptions = { metrics: 'ts.temp', startRelative: { value: 1, unit: 'hours' } };
  const rows: Row[] = rowsFromQueryResponse(await kairos.query(query));
  const when = timestampMsToDatetime(0, { format: 'datetime' });
  const millis = typeof when === 'object' && !(when instanceof Date) ? (when as DateTimeLike).toMillis() : 0;
  const streamOpts: MetricsStreamOptions = { connector: kairos, metrics: ['ts.temp'], intervalMs: 1000, windowMs: 60_000, onData: () => undefined };
  const stream = new MetricsStream(streamOpts);
  await stream.stop();
  try {
    createTsdConnector({ token: '' });
  } catch (e) {
    if (e instanceof ValidationError && e instanceof KairosError) return e.field.length;
  }
  await kairos.close();
  await server.close();
  return written.written + rows.length + millis;
}
`;

describe('the package as installed from its tarball', function () {
  this.timeout(300_000);
  let packed: Packed;
  let userDir: string;
  let installed: string;
  let installOutput: string[];
  const dirs: string[] = [];

  before(async function () {
    packed = await packOnce();
    userDir = freshUserDir('proficloud-palette-');
    dirs.push(userDir);
    installOutput = npmProblems(await paletteInstall(userDir, packed.tgz));
    installed = join(userDir, 'node_modules', ...PKG.name.split('/'));
  });
  after(function () {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('npm pack runs the build in prepack, not prepare; npm test builds, lints, then runs mocha', function () {
    assert.equal(PKG.scripts.build, 'node scripts/build.mjs');
    assert.match(PKG.scripts.prepack, /scripts\/build\.mjs|npm run build/);
    assert.equal(PKG.scripts.prepare, undefined, 'no prepare: npm 11 reports it as an unreviewed install script on every tarball install');
    assert.match(PKG.scripts.test, /^npm run build && npm run lint && mocha\b/);
    assert.match(PKG.scripts.lint, /^eslint\b/);
    assert.equal(PKG.engines.node, '>=20.18.1');
    assert.equal(PKG['node-red'].version, '>=4.0.0');
    for (const [name, range] of Object.entries(PKG.peerDependencies ?? {})) {
      assert.ok(!/^[~^]|<|\s-\s/.test(range), `peer ${name}@${range} must not exclude newer majors (Node-RED 5)`);
    }
  });

  it('the tarball holds the built nodes, editor files, examples and docs; no sources, tests or source maps', function () {
    const f = new Set(packed.files);
    for (const p of ['package.json', 'README.md', 'LICENSE', 'dist/src/index.js', 'dist/src/index.d.ts', 'dist/src/server/index.js', PKG.bin['kairosdb-local']]) {
      assert.ok(f.has(p), `${p} is in the tarball`);
    }
    for (const rel of Object.values(PKG['node-red'].nodes)) {
      assert.ok(f.has(rel), `${rel} is in the tarball`);
      assert.ok(f.has(rel.replace(/\.js$/, '.html')), `${rel.replace(/\.js$/, '.html')} is in the tarball`);
    }
    for (const lang of ['en-US', 'de']) assert.ok(packed.files.some((p) => p.startsWith(`dist/nodes/locales/${lang}/`)), `${lang} locales`);
    assert.ok(f.has('resources/editor.js'), 'the shared editor script (resources/editor.js) is in the tarball');
    for (const ex of readdirSync(join(ROOT, 'examples'))) assert.ok(f.has(`examples/${ex}`), `examples/${ex}`);
    const stray = packed.files.filter((p) => p.endsWith('.map') || /^(src|nodes|test|bench|scripts|docs)\//.test(p) || (p.endsWith('.ts') && !p.endsWith('.d.ts')));
    assert.deepEqual(stray, [], 'no sources, tests or source maps in the tarball');
    const dangling = packed.files
      .filter((p) => p.endsWith('.js'))
      .filter((p) => readFileSync(join(installed, p), 'utf8').includes('sourceMappingURL'));
    assert.deepEqual(dangling, [], 'no shipped file points at a source map');
  });

  it('installs as the palette manager installs it: no npm warning, saved to the user directory, dependencies only', function () {
    assert.deepEqual(installOutput, [], 'npm warned during the install');
    const userPkg = JSON.parse(readFileSync(join(userDir, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    assert.ok(userPkg.dependencies[PKG.name], 'saved to the user directory package.json');
    const mods = readdirSync(join(userDir, 'node_modules')).filter((d) => !d.startsWith('.'));
    assert.ok(!mods.includes('node-red'), 'node-red is not pulled into the user directory');
    assert.ok(!existsSync(join(userDir, 'node_modules', 'typescript')), 'no devDependencies installed');
    assert.equal((JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')) as { version: string }).version, PKG.version);
  });

  it("require('<package>') and '<package>/server' work from a plain Node script; deep paths are closed", async function () {
    writeFileSync(join(userDir, 'consumer.cjs'), CJS_SCRIPT);
    const r = await run(process.execPath, ['consumer.cjs'], userDir, 30_000);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.deepEqual(out.missing, [], 'seed names missing from the package root');
    assert.deepEqual(out.proficloudMetrics, ['tsd', 'ewima']);
    assert.equal(out.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'only the exports map is public');
    assert.equal(out.pkgName, PKG.name);
    assert.ok(String(out.resolved).startsWith(join(userDir, 'node_modules')), `resolved from the install, not the repository: ${String(out.resolved)}`);
    assert.equal((out.write as { written: number }).written, 1);
    assert.deepEqual(out.rows, [{ Timestamp: '2026-01-02T03:04:05.000Z', 'pkg.temp': 21.5 }]);
    assert.equal(out.version, true);
    assert.equal(out.token, Buffer.from('id:pw').toString('base64'));
  });

  it('an ES module imports the same public names', async function () {
    writeFileSync(join(userDir, 'consumer.mjs'), ESM_SCRIPT);
    const r = await run(process.execPath, ['consumer.mjs'], userDir, 30_000);
    assert.equal(r.code, 0, r.stderr);
    // (Not required in this process: the installed undici would become Node's global fetch dispatcher here.)
    const out = JSON.parse(r.stdout) as { names: string[]; cjs: string[]; named: boolean; server: string };
    assert.deepEqual(out.cjs, PUBLIC_RUNTIME_EXPORTS);
    assert.deepEqual(out.names, out.cjs);
    assert.equal(out.named, true);
    assert.equal(out.server, 'function');
  });

  it('the installed kairosdb-local bin starts from node_modules/.bin', async function () {
    const r = await run(process.execPath, [join(userDir, 'node_modules', '.bin', 'kairosdb-local'), '--help'], userDir, 15_000);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /--port/);
    assert.match(r.stdout, /--host/);
    assert.match(r.stdout, /--data/);
  });

  it('a strict TypeScript consumer compiles against the installed declarations (no @types beyond node)', async function () {
    writeFileSync(join(userDir, 'consumer.ts'), TS_CONSUMER);
    // Only @types/node is visible: typeRoots holds nothing else, and the user directory has no @types.
    const typeRoots = join(userDir, 'types');
    mkdirSync(typeRoots);
    symlinkSync(join(ROOT, 'node_modules', '@types', 'node'), join(typeRoots, 'node'), 'dir');
    const tsc = require.resolve('typescript/bin/tsc', { paths: [ROOT] });
    const common = ['--strict', '--noEmit', '--target', 'es2022', '--types', 'node', '--typeRoots', typeRoots, 'consumer.ts'];
    for (const mode of [
      ['--module', 'nodenext', '--moduleResolution', 'nodenext'],
      ['--module', 'commonjs', '--moduleResolution', 'node10', '--esModuleInterop'],
    ]) {
      const r = await run(process.execPath, [tsc, ...mode, ...common], userDir, 120_000);
      assert.equal(r.code, 0, `tsc ${mode.join(' ')}:\n${r.stdout}${r.stderr}`);
    }
  });

  it('README in the tarball is the repository README; its images and links are absolute and point at files that exist', function () {
    const readme = readFileSync(join(installed, 'README.md'), 'utf8');
    assert.equal(readme, readFileSync(join(ROOT, 'README.md'), 'utf8'));
    const repo = /github\.com\/([^/]+\/[^/.]+)/.exec(PKG.repository.url)?.[1];
    assert.ok(repo, `repository URL ${PKG.repository.url}`);
    const targets = [...readme.matchAll(/\]\(([^)\s]+)[^)]*\)/g)].map((m) => m[1]);
    targets.push(...[...readme.matchAll(/<img[^>]*src="([^"]+)"/g)].map((m) => m[1]));
    assert.ok(targets.length > 0);
    for (const t of targets) {
      if (t.startsWith('#')) continue;
      assert.match(t, /^https:\/\//, `${t}: a relative link breaks where npm and the Flow Library show the README`);
      const own = new RegExp(`^https://(?:raw\\.githubusercontent\\.com/${repo}/main|github\\.com/${repo}/blob/main)/(.+)$`).exec(t);
      if (own) assert.ok(existsSync(join(ROOT, own[1])), `${t}: ${own[1]} is not in the repository`);
    }
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((m) => m[1]);
    assert.ok(images.length >= 6, 'the editor screenshots are shown');
    for (const img of images) assert.match(img, new RegExp(`^https://raw\\.githubusercontent\\.com/${repo}/main/docs/images/[\\w-]+\\.png$`));
  });

  it('installs beside node-red@5 in one project without ERESOLVE', async function () {
    const project = mkdtempSync(join(tmpdir(), 'proficloud-nr5-'));
    dirs.push(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'nr5-project', version: '1.0.0', private: true }));
    const r = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', 'node-red@5', packed.tgz], project, 240_000);
    assert.equal(r.code, 0, `npm install node-red@5 <tgz> failed:\n${r.stderr.slice(-4000)}`);
    assert.doesNotMatch(r.stdout + r.stderr, /ERESOLVE|peer dep/i);
    const nr = JSON.parse(readFileSync(join(project, 'node_modules', 'node-red', 'package.json'), 'utf8')) as { version: string };
    assert.match(nr.version, /^5\./);
    const ls = await run('npm', ['ls', 'node-red', PKG.name], project, 60_000);
    assert.equal(ls.code, 0, `npm ls reports a problem:\n${ls.stdout}${ls.stderr}`);
  });
});
