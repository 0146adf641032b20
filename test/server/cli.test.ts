// The kairosdb-local bin: argument parsing, the single ready line, token from the environment,
// and a clean SIGTERM that leaves the data directory complete.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from '../../src/server/cli';
import { startServer } from '../../src/server';
import { get, post, query, T0 } from './helpers';

const CLI = path.resolve(__dirname, '../../src/server/cli.ts');

function startCli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcess; url: string; line: string }> {
  const child = spawn(process.execPath, ['--require', 'tsx/cjs', CLI, ...args], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no ready line: ${out}`));
    }, 15_000);
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /^kairosdb-local listening on (http:\/\/\S+)\n/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], line: out });
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${out}`));
    });
  });
}

function exitOf(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('server: kairosdb-local cli', function () {
  this.timeout(30_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kairos-cli-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses options with defaults and names bad values', () => {
    assert.deepEqual(parseArgs([], {}), { port: 8080, host: '127.0.0.1', token: undefined });
    assert.deepEqual(parseArgs(['--port=0', '--data', '/d', '--host', '::1'], { KAIROSDB_LOCAL_TOKEN: 'env-t' }), {
      port: 0,
      host: '::1',
      dataDir: '/d',
      token: 'env-t',
    });
    assert.equal(parseArgs(['--token', 'cli-t'], { KAIROSDB_LOCAL_TOKEN: 'env-t' }).token, 'cli-t');
    assert.throws(() => parseArgs(['--port', 'eighty'], {}), /--port: must be an integer 0\.\.65535 \(got "eighty"\)/);
    assert.throws(() => parseArgs(['--bogus'], {}), /unknown option "--bogus"/);
  });

  it('prints one ready line, requires the env token, and flushes data on SIGTERM', async () => {
    const { child, url, line } = await startCli(['--port', '0', '--data', dir], { KAIROSDB_LOCAL_TOKEN: 'tok-1' });
    const exited = exitOf(child);
    try {
      assert.match(line, /^kairosdb-local listening on http:\/\/127\.0\.0\.1:\d+\n$/);
      assert.equal((await get(`${url}/api/v1/metricnames`)).status, 401);
      const r = await post(`${url}/api/v1/datapoints`, [{ name: 'cli.m', tags: { h: '1' }, datapoints: [[T0, 7]] }], { authorization: 'Bearer tok-1' });
      assert.equal(r.status, 204);
    } finally {
      child.kill('SIGTERM');
    }
    assert.equal(await exited, 0);
    assert.ok(fs.statSync(path.join(dir, 'snapshot.jsonl')).size > 0, 'SIGTERM compacts into the snapshot');

    const s = await startServer({ dataDir: dir, selfMetrics: false });
    try {
      const q = JSON.parse((await post(`${s.url}/api/v1/datapoints/query`, query([{ name: 'cli.m' }]))).text);
      assert.deepEqual(q.queries[0].results[0].values, [[T0, 7]]);
    } finally {
      await s.close();
    }
  });
});
