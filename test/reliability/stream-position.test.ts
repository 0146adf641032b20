// The stream node's "persist position": a real Node-RED (child process) with a file-backed context
// store is stopped and started again on the same userDir; after the restart the stream emits only the
// points that arrived meanwhile. Without persistence the same restart re-sends the window (control).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type LocalServer } from '../../src/server/index';
import { RedProcess } from './red-process';

const MARK = 'EMITTED ';

function flows(url: string, persist: boolean): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'stream position' },
    { id: 'cfg', type: 'proficloud-config', service: 'kairosdb', environment: 'custom', urls: url, authMode: 'none', timeZone: 'UTC', timeout: 5, gzip: true, proxyMode: 'none', tlsVerify: true },
    { id: 's', z: 'tab', type: 'proficloud-stream', server: 'cfg', metrics: 'rp.m', interval: 100, window: '1h', mode: 'incremental', output: 'rows', tsFormat: 'ms', autoStart: true, persist, wires: [['f']] },
    // The function node reports what the stream sent through the runtime log, which the parent receives over IPC.
    { id: 'f', z: 'tab', type: 'function', func: `node.warn(${JSON.stringify(MARK)} + JSON.stringify(msg.payload.map((r) => r.Timestamp))); return null;`, outputs: 1, wires: [[]] },
  ];
}

function emitted(red: RedProcess): number[] {
  return red.logs.filter((l) => l.msg.startsWith(MARK)).flatMap((l) => JSON.parse(l.msg.slice(MARK.length)) as number[]);
}

async function until(cond: () => boolean, ms: number, what: string, red: RedProcess): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${red.text().slice(-2000)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function push(url: string, points: Array<[number, number]>): Promise<void> {
  const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ name: 'rp.m', tags: { h: 'x' }, datapoints: points }]) });
  assert.equal(res.status, 204);
}

describe('stream node: position across a Node-RED restart', function () {
  this.timeout(60000);
  let server: LocalServer;
  const dirs: string[] = [];
  const running: RedProcess[] = [];

  beforeEach(async function () {
    server = await startServer({ port: 0, host: '127.0.0.1', selfMetrics: false });
  });
  afterEach(async function () {
    for (const red of running.splice(0)) await red.stop();
    await server.close();
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  async function restartCase(persist: boolean): Promise<{ first: number[]; second: number[]; old: number[]; fresh: number }> {
    const userDir = mkdtempSync(join(tmpdir(), 'stream-pos-'));
    dirs.push(userDir);
    const settings = { contextStorage: { default: { module: 'localfilesystem' } } };
    const t = Date.now() - 10_000;
    const old = [t, t + 1000, t + 2000];
    await push(server.url, old.map((ts, i) => [ts, i]));

    const a = await RedProcess.start(userDir, flows(server.url, persist), {}, settings);
    running.push(a);
    await until(() => emitted(a).length >= 3, 15000, 'first emission', a);
    await a.stop();
    running.splice(running.indexOf(a), 1);

    const fresh = t + 5000;
    await push(server.url, [[fresh, 9]]);
    const b = await RedProcess.start(userDir, flows(server.url, persist), {}, settings);
    running.push(b);
    await until(() => emitted(b).includes(fresh), 15000, 'emission after the restart', b);
    // A few more polls, so a repeat of old points would have shown up.
    await new Promise((r) => setTimeout(r, 400));
    return { first: emitted(a), second: emitted(b), old, fresh };
  }

  it('with persist on, the restarted stream emits only what is new', async function () {
    const { first, second, old, fresh } = await restartCase(true);
    assert.deepEqual(first, old);
    assert.deepEqual(second, [fresh]);
  });

  it('with persist off, the restarted stream starts from the whole window again (control)', async function () {
    const { second, old, fresh } = await restartCase(false);
    assert.deepEqual(second, [...old, fresh]);
  });
});
