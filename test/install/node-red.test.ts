// A real Node-RED (the major this run tests, chosen by test/helpers/node-red-module.ts: 4 on Node 20, 5 on
// Node 22+) on a user directory whose node_modules holds only our packed tarball, installed as the palette
// manager installs it. Checks the five types through the admin API, lists the examples the way the editor's
// Import > Examples does, deploys the end-to-end example against kairosdb-local started from the installed
// package's bin, sees points written and read back, and fails on any error, warning or deprecation in
// Node-RED's output.
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NODE_RED_CLI, NODE_RED_MAJOR, NODE_RED_VERSION } from '../helpers/node-red-module';
import { NODE_TYPES, PKG, freshUserDir, packOnce, paletteInstall, startUntil, stopChild, userEnv } from './packed';

const HOST = '127.0.0.1';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type FlowNode = Record<string, unknown> & { id: string; type: string };

/**
 * Node-RED's own start-up notices on a new user directory, the same with or without this package: projects
 * off (the default) and no credentials file yet. Nothing else at warn level is accepted.
 */
const NODE_RED_NOTICES = [/\[warn\] Projects disabled : set editorTheme\.projects\.enabled=true to enable$/, /\[warn\] Encrypted credentials not found$/];

/** Lines of Node-RED's output that must not be there: errors, warnings, Node's own (deprecation) warnings. */
function problems(output: string): string[] {
  return output
    .split('\n')
    .filter((l) => /\[(error|warn)\]|Deprecat|\(node:\d+\) \[?\w*\]? ?\w*Warning|Unhandled|uncaught/i.test(l))
    .filter((l) => !NODE_RED_NOTICES.some((re) => re.test(l)));
}

async function until<T>(what: string, deadlineMs: number, fn: () => Promise<T | undefined> | T | undefined, log: () => string): Promise<T> {
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    const got = await fn();
    if (got !== undefined) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${deadlineMs / 1000} s. Node-RED output:\n${log().slice(-4000)}`);
    await sleep(250);
  }
}

describe(`Node-RED ${NODE_RED_MAJOR} with the packed package installed from the palette`, function () {
  this.timeout(240_000);
  let userDir: string;
  let nodeRed: ChildProcess | undefined;
  let kairos: ChildProcess | undefined;
  let log: () => string = () => '';
  let admin = '';
  let kairosUrl = '';

  const get = async (path: string): Promise<unknown> => {
    const res = await fetch(`${admin}${path}`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, `GET ${path}: ${res.status} ${await res.clone().text()}`);
    return res.json();
  };

  before(async function () {
    const { tgz } = await packOnce();
    userDir = freshUserDir('proficloud-nr-user-');
    await paletteInstall(userDir, tgz);
    const settings = join(userDir, 'settings.js');
    writeFileSync(
      settings,
      `module.exports = ${JSON.stringify(
        {
          uiHost: HOST,
          flowFile: 'flows.json',
          credentialSecret: 'install-test-only',
          editorTheme: { tours: false },
          telemetry: { enabled: false, updateNotification: false },
          diagnostics: { enabled: false, ui: false },
          externalModules: { autoInstall: false, palette: { allowInstall: false } },
          logging: { console: { level: 'info', metrics: false, audit: false } },
        },
        null,
        2,
      )};\n`,
    );
    // NODE_OPTIONS from the test runner (tsx's loader) must not reach the runtime under test.
    const env = userEnv({ NODE_OPTIONS: '' });
    const started = await startUntil(process.execPath, [NODE_RED_CLI, '--settings', settings, '--userDir', userDir, '--port', '0'], {
      cwd: userDir,
      env,
      ready: /Server now running at http:\/\/127\.0\.0\.1:(\d+)\//,
      timeoutMs: 90_000,
      what: `Node-RED ${NODE_RED_VERSION}`,
    });
    nodeRed = started.child;
    log = started.output;
    admin = `http://${HOST}:${started.match[1]}`;

    const bin = join(userDir, 'node_modules', '.bin', 'kairosdb-local');
    const k = await startUntil(process.execPath, [bin, '--port', '0', '--host', HOST], { cwd: userDir, env, ready: /(http:\/\/127\.0\.0\.1:\d+)/, timeoutMs: 30_000, what: 'kairosdb-local' });
    kairos = k.child;
    kairosUrl = k.match[1];
  });

  after(async function () {
    await stopChild(nodeRed);
    await stopChild(kairos);
    if (userDir) rmSync(userDir, { recursive: true, force: true });
  });

  it('runs the Node-RED this run tests', function () {
    console.log(`      Node-RED ${NODE_RED_VERSION} on Node ${process.versions.node}`);
    assert.equal(Number(NODE_RED_VERSION.split('.')[0]), NODE_RED_MAJOR);
    assert.match(log(), new RegExp(`Node-RED version: v${NODE_RED_VERSION.replace(/\./g, '\\.')}`));
    assert.match(log(), new RegExp(`Node.js\\s+version: v${process.versions.node.replace(/\./g, '\\.')}`));
  });

  it('registers the five types from the installed module, enabled, without a load error', async function () {
    const sets = (await get('/nodes')) as Array<{ module: string; types: string[]; enabled: boolean; err?: string; version?: string }>;
    const ours = sets.filter((s) => s.module === PKG.name);
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...NODE_TYPES].sort());
    for (const s of ours) {
      assert.equal(s.err, undefined, `${s.types.join(',')}: ${s.err}`);
      assert.equal(s.enabled, true, `${s.types.join(',')} enabled: ${JSON.stringify(s)}`);
      assert.equal(s.version, PKG.version);
    }
  });

  it("serves the editor's shared script that every node's HTML loads (resources/)", async function () {
    const res = await fetch(`${admin}/resources/${PKG.name}/editor.js`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, `GET /resources/${PKG.name}/editor.js`);
    assert.match(await res.text(), /RED\.proficloud/);
    const html = await fetch(`${admin}/nodes`, { headers: { Accept: 'text/html' }, signal: AbortSignal.timeout(10_000) }).then((r) => r.text());
    const tags = html.split(`<script src="resources/${PKG.name}/editor.js"></script>`).length - 1;
    assert.equal(tags, NODE_TYPES.length, 'each node set loads the shared script itself');
  });

  it('lists the examples under Import > Examples', async function () {
    const modules = (await get('/library/examples/flows/')) as unknown[];
    assert.ok(modules.includes(PKG.name), `examples modules: ${JSON.stringify(modules)}`);
    const entries = (await get(`/library/examples/flows/${PKG.name}`)) as Array<{ fn?: string } | string>;
    const names = entries.map((e) => (typeof e === 'string' ? e : e.fn)).sort();
    assert.deepEqual(names, ['batch', 'end-to-end', 'query', 'stream', 'write']);
  });

  it('deploys the end-to-end example against kairosdb-local: points are written, streamed back and queried', async function () {
    const flow = (await get(`/library/examples/flows/${PKG.name}/end-to-end`)) as FlowNode[];
    // What a user does after the import: point the server at the local server. The test also lets the
    // debug nodes print to the log, where it can read them.
    for (const n of flow) {
      if (n.type === 'proficloud-config') n.urls = kairosUrl;
      if (n.type === 'debug') n.console = true;
    }
    const res = await fetch(`${admin}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2' },
      body: JSON.stringify({ flows: flow }),
      signal: AbortSignal.timeout(20_000),
    });
    assert.equal(res.status, 200, `deploy: ${await res.text()}`);

    // Written: the server holds the simulated PLC values with the example's tag.
    const stored = await until(
      'points written to kairosdb-local',
      30_000,
      async () => {
        const q = await fetch(`${kairosUrl}/api/v1/datapoints/query`, {
          method: 'POST',
          body: JSON.stringify({ start_relative: { value: 1, unit: 'hours' }, metrics: [{ name: 'plc.temperature', tags: { line: ['1'] } }] }),
          signal: AbortSignal.timeout(5000),
        });
        const body = (await q.json()) as { queries: Array<{ results: Array<{ values: Array<[number, number]> }> }> };
        const values = body.queries[0]?.results[0]?.values ?? [];
        return values.length >= 2 ? values : undefined;
      },
      log,
    );
    assert.ok(stored.every(([, v]) => typeof v === 'number' && v > 50 && v < 70), 'simulated temperatures');

    // Read back: the stream node emits the written points; its debug node prints them.
    await until('streamed points in the log', 30_000, () => (/\[debug:new points\][\s\S]*plc\.temperature/.test(log()) ? true : undefined), log);
    await until('a write report in the log', 30_000, () => (/\[debug:write report\][\s\S]*written/.test(log()) ? true : undefined), log);

    // Queried: the example's query branch, triggered like the inject button in the editor.
    const inject = await fetch(`${admin}/inject/e2e.i3`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
    assert.equal(inject.status, 200);
    await until('chart points from the query in the log', 30_000, () => (/\[debug:chart points\][\s\S]*plc\.temperature/.test(log()) ? true : undefined), log);
  });

  it('logs no error, warning or deprecation, and stops cleanly', async function () {
    await stopChild(nodeRed, 15_000);
    assert.equal(nodeRed?.exitCode, 0, `Node-RED exit: ${nodeRed?.exitCode ?? nodeRed?.signalCode}\n${log().slice(-3000)}`);
    assert.deepEqual(problems(log()), [], `Node-RED output:\n${log().slice(-6000)}`);
  });
});
