/**
 * Node-RED requires every installed node file at start-up, before any flow is deployed. The package
 * keeps that cheap: the node files only register their types, and each node's runtime (with undici, luxon, the clients, the
 * outbox and the poller) loads when the first such node is deployed. This checks, in a fresh
 * process on the built files, that requiring the five node files loads none of them (deterministic,
 * unlike a time bound), and that a deployed config node then does work.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

function run(script: string): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, ['-e', script], { cwd: ROOT, timeout: 60_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout))),
  );
}

describe('package load (what Node-RED pays at start-up)', function () {
  this.timeout(90_000);

  it('requiring the five node files loads none of undici, luxon, csv-parse, the clients, the outbox or the poller', async function () {
    const out = await run(`
      const path = require('path');
      for (const n of ['proficloud-config', 'proficloud-query', 'proficloud-write', 'proficloud-batch', 'proficloud-stream']) require(path.join(${JSON.stringify(join(ROOT, 'dist', 'nodes'))}, n + '.js'));
      console.log(JSON.stringify(Object.keys(require.cache)));
    `);
    const loaded = JSON.parse(out) as string[];
    assert.ok(loaded.some((f) => f.endsWith(join('dist', 'nodes', 'proficloud-write.js'))), 'the node files were loaded');
    const lazyOnes = [
      join('node_modules', 'undici'),
      join('node_modules', 'luxon'),
      join('node_modules', 'csv-parse'),
      join('dist', 'src', 'http', 'http-client.js'),
      join('dist', 'src', 'kairos', 'connector.js'),
      join('dist', 'src', 'outbox', 'outbox.js'),
      join('dist', 'src', 'outbox', 'write-queue.js'),
      join('dist', 'src', 'stream', 'index.js'),
      join('dist', 'src', 'stream', 'poller.js'),
      join('dist', 'src', 'stream', 'state-file.js'),
    ];
    for (const lazy of lazyOnes) {
      assert.deepEqual(loaded.filter((f) => f.includes(lazy)), [], `${lazy} is loaded at require time`);
    }
    // Stricter: the node files only register their types; each node's runtime and the library load on first deploy.
    const ours = loaded.filter((f) => f.includes(join(ROOT, 'dist'))).map((f) => f.slice(join(ROOT, 'dist').length + 1).split('\\').join('/'));
    assert.deepEqual(ours.sort(), [
      'nodes/config/credentials.js',
      'nodes/lib/lazy.js',
      'nodes/proficloud-batch.js',
      'nodes/proficloud-config.js',
      'nodes/proficloud-query.js',
      'nodes/proficloud-stream.js',
      'nodes/proficloud-write.js',
    ]);
  });

  it("loads them on first use: a connector made through the nodes' connection code reaches a server", async function () {
    const out = await run(`
      const { startServer } = require('./dist/src/server/index.js');
      const { createService } = require('./dist/nodes/lib/connection.js');
      (async () => {
        const server = await startServer({ port: 0, host: '127.0.0.1', selfMetrics: false });
        try {
          const RED = { nodes: { getNode: () => null, getCredentials: () => undefined } };
          const service = await createService(RED, { service: 'kairosdb', environment: 'custom', urls: server.url, authMode: 'none', timeZone: 'UTC' }, {}, { warn() {}, debug() {} });
          await service.connector.push([{ name: 'load.t', tags: { h: 'a' }, datapoints: [[1700000000000, 1]] }]);
          const names = await service.connector.metricNames();
          console.log(JSON.stringify({ names, undici: Object.keys(require.cache).some((f) => f.includes('undici')) }));
        } finally {
          await server.close();
        }
      })().catch((e) => { console.error(e); process.exit(1); });
    `);
    const r = JSON.parse(out.trim().split('\n').pop() as string) as { names: string[]; undici: boolean };
    assert.ok(r.names.includes('load.t'));
    assert.equal(r.undici, true);
  });
});
