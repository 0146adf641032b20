// The package as a user gets it: `exports` from a plain Node script (outside this repository, through
// node_modules), the kairosdb-local bin, and the scripts that build on a git install and lint in npm test.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  name: string;
  exports: Record<string, unknown>;
  bin: Record<string, string>;
  scripts: Record<string, string>;
  files: string[];
};

const SEED_NAMES = [
  'KairosConnector',
  'generateToken',
  'generateMetricsCsv',
  'datetimeToTimestampMs',
  'timestampMsToDatetime',
  'getTimeOffsetToUtc',
  'rowsFromQueryResponse',
  'ProficloudIOMetrics',
  'MetricsStream',
  'MetricsStreamIO',
];

// Runs in a separate node process from a directory that only sees the package through node_modules.
const SCRIPT = `
const lib = require('${pkg.name}');
const { startServer, VERSION } = require('${pkg.name}/server');
const names = ${JSON.stringify(SEED_NAMES)};
const out = { missing: names.filter((n) => typeof lib[n] !== 'function'), proficloudMetrics: Object.keys(lib.ProficloudMetrics || {}) };
try { require('${pkg.name}/dist/src/time'); out.deep = 'allowed'; } catch (e) { out.deep = e.code; }
out.pkgName = require('${pkg.name}/package.json').name;
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

describe('the package as installed', function () {
  let dir: string;

  before(function () {
    assert.ok(existsSync(join(ROOT, 'dist', 'src', 'index.js')), 'dist/ is missing: run `npm run build` first (npm test does)');
    dir = mkdtempSync(join(tmpdir(), 'pkg-consumer-'));
    const scope = join(dir, 'node_modules', ...pkg.name.split('/').slice(0, -1));
    mkdirSync(scope, { recursive: true });
    symlinkSync(ROOT, join(dir, 'node_modules', pkg.name), 'dir');
    writeFileSync(join(dir, 'consumer.cjs'), SCRIPT);
  });
  after(function () {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("require('<package>') and '<package>/server' work from a plain Node script; deep paths are closed", function () {
    const text = execFileSync(process.execPath, ['consumer.cjs'], { cwd: dir, encoding: 'utf8', timeout: 15000 });
    const out = JSON.parse(text) as Record<string, unknown>;
    assert.deepEqual(out.missing, [], 'seed names missing from the package root');
    assert.deepEqual(out.proficloudMetrics, ['tsd', 'ewima']);
    assert.equal(out.deep, 'ERR_PACKAGE_PATH_NOT_EXPORTED', 'only the exports map is public');
    assert.equal(out.pkgName, pkg.name);
    assert.equal((out.write as { written: number }).written, 1);
    assert.deepEqual(out.rows, [{ Timestamp: '2026-01-02T03:04:05.000Z', 'pkg.temp': 21.5 }]);
    assert.equal(out.version, true);
    assert.equal(out.token, Buffer.from('id:pw').toString('base64'));
  });

  it('the kairosdb-local bin is a built, executable node script that is published', function () {
    const bin = pkg.bin['kairosdb-local'];
    assert.ok(bin, 'bin kairosdb-local declared');
    const file = join(ROOT, bin);
    assert.ok(readFileSync(file, 'utf8').startsWith('#!/usr/bin/env node\n'), `${bin} starts with a node shebang`);
    accessSync(file, constants.X_OK);
    assert.ok(pkg.files.some((f) => bin.startsWith(`${f}/`) || bin === f), `${bin} is inside "files"`);
    const help = execFileSync(process.execPath, [file, '--help'], { encoding: 'utf8', timeout: 10000 });
    assert.match(help, /--port/);
    assert.match(help, /--host/);
    assert.match(help, /--data/);
  });

  it('prepack builds (npm pack and publish) and npm test builds, lints, then runs mocha', function () {
    assert.equal(pkg.scripts.build, 'node scripts/build.mjs');
    assert.match(pkg.scripts.prepack, /scripts\/build\.mjs|npm run build/);
    assert.equal(pkg.scripts.prepare, undefined, 'no prepare: npm 11 flags it as an install script on every tarball install');
    assert.match(pkg.scripts.test, /^npm run build && npm run lint && mocha\b/);
    assert.match(pkg.scripts.lint, /^eslint\b/);
    for (const target of Object.values(pkg.exports)) {
      const paths = typeof target === 'string' ? [target] : Object.values(target as Record<string, string>);
      for (const p of paths) assert.ok(existsSync(join(ROOT, p)), `exports target ${p} exists after the build`);
    }
  });
});
