// The stream node's position in a real Node-RED (child process): a clean restart emits only what
// arrived meanwhile; SIGKILLs while points keep arriving lose nothing and repeat at most the poll in
// flight, in messages marked msg.repeated; the context store is localfilesystem with cache: false
// (no synchronous API), and a position an older version kept in context is taken over.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../../src/server/random';
import { startServer, type LocalServer } from '../../src/server/index';
import { RedProcess } from './red-process';

/** Context without a synchronous API: get(key) without a callback throws in such a store. */
const ASYNC_ONLY_CONTEXT = { contextStorage: { default: { module: 'localfilesystem', config: { cache: false } } }, functionExternalModules: true };

function flows(url: string, persist: boolean, sink: string, metric = 'rp.m'): unknown[] {
  return [
    { id: 'tab', type: 'tab', label: 'stream position' },
    { id: 'cfg', type: 'proficloud-config', service: 'kairosdb', environment: 'custom', urls: url, authMode: 'none', timeZone: 'UTC', timeout: 5, gzip: true, proxyMode: 'none', tlsVerify: true },
    { id: 's', z: 'tab', type: 'proficloud-stream', server: 'cfg', metrics: metric, interval: 100, window: '1h', mode: 'incremental', output: 'rows', tsFormat: 'ms', autoStart: true, persist, wires: [['f']] },
    // What the stream sent goes to a file at once (synchronously), so a SIGKILL cannot lose the record of a send.
    {
      id: 'f',
      z: 'tab',
      type: 'function',
      libs: [{ var: 'fs', module: 'fs' }],
      func: `fs.appendFileSync(${JSON.stringify(sink)}, JSON.stringify({ r: msg.repeated === true, l: msg.late === true, t: msg.payload.map((r) => r.Timestamp) }) + '\\n'); return null;`,
      outputs: 1,
      wires: [[]],
    },
  ];
}

interface Sent {
  r: boolean;
  l: boolean;
  t: number[];
}

function sent(sink: string): Sent[] {
  if (!existsSync(sink)) return [];
  return readFileSync(sink, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Sent);
}

function emitted(sink: string): number[] {
  return sent(sink).flatMap((s) => s.t);
}

async function until(cond: () => boolean, ms: number, what: string, red?: RedProcess): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}:\n${red ? red.text().slice(-2000) : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function push(url: string, points: Array<[number, number]>, metric = 'rp.m'): Promise<void> {
  const res = await fetch(`${url}/api/v1/datapoints`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([{ name: metric, tags: { h: 'x' }, datapoints: points }]) });
  assert.equal(res.status, 204);
}

describe('stream node: position across Node-RED restarts and SIGKILLs', function () {
  this.timeout(120000);
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

  function tempDir(): string {
    const d = mkdtempSync(join(tmpdir(), 'stream-pos-'));
    dirs.push(d);
    return d;
  }

  async function start(userDir: string, flow: unknown[]): Promise<RedProcess> {
    const red = await RedProcess.start(userDir, flow, {}, ASYNC_ONLY_CONTEXT);
    running.push(red);
    return red;
  }

  async function stop(red: RedProcess, how: 'stop' | 'kill'): Promise<void> {
    await (how === 'stop' ? red.stop() : red.kill());
    running.splice(running.indexOf(red), 1);
  }

  async function restartCase(persist: boolean): Promise<{ first: number[]; second: number[]; old: number[]; fresh: number }> {
    const userDir = tempDir();
    const sink = join(userDir, 'sent.jsonl');
    const t = Date.now() - 10_000;
    const old = [t, t + 1000, t + 2000];
    await push(server.url, old.map((ts, i) => [ts, i]));
    const a = await start(userDir, flows(server.url, persist, sink));
    await until(() => emitted(sink).length >= 3, 15000, 'first emission', a);
    await stop(a, 'stop');
    const first = emitted(sink);
    const fresh = t + 5000;
    await push(server.url, [[fresh, 9]]);
    const b = await start(userDir, flows(server.url, persist, sink));
    await until(() => emitted(sink).includes(fresh), 15000, 'emission after the restart', b);
    // A few more polls, so a repeat of old points would have shown up.
    await new Promise((r) => setTimeout(r, 400));
    return { first, second: emitted(sink).slice(first.length), old, fresh };
  }

  it('with persist on (context store without a synchronous API), the restarted stream emits only what is new', async function () {
    const { first, second, old, fresh } = await restartCase(true);
    assert.deepEqual(first, old);
    assert.deepEqual(second, [fresh]);
  });

  it('with persist off, the restarted stream starts from the whole window again (control)', async function () {
    const { second, old, fresh } = await restartCase(false);
    assert.deepEqual(second, [...old, fresh]);
  });

  it('takes over a position an older version kept in node context, then keeps it in its state file', async function () {
    const userDir = tempDir();
    const sink = join(userDir, 'sent.jsonl');
    const t = Date.now() - 10_000;
    await push(server.url, [[t, 1], [t + 1000, 2]]);
    // What an older version left in a file context store: position version 1 under "position".
    mkdirSync(join(userDir, 'context', 'tab'), { recursive: true });
    writeFileSync(join(userDir, 'context', 'tab', 's.json'), JSON.stringify({ position: { version: 1, series: { 'rp.m': { last: t + 1000, floor: t - 1000, seen: [t, t + 1000] } } } }));
    await push(server.url, [[t + 2000, 3]]);
    const red = await start(userDir, flows(server.url, true, sink));
    await until(() => emitted(sink).length >= 1, 15000, 'emission', red);
    await new Promise((r) => setTimeout(r, 400));
    assert.deepEqual(emitted(sink), [t + 2000]);
    await until(() => existsSync(join(userDir, 'proficloud-stream', 's.json')), 5000, 'state file', red);
  });

  for (const seed of [1, 2]) {
    it(`seed ${seed}: SIGKILLs while points keep arriving: nothing lost, repeats only of the poll in flight and marked msg.repeated`, async function () {
      const rnd = seededRandom(seed);
      const userDir = tempDir();
      const sink = join(userDir, 'sent.jsonl');
      const written: number[] = [];
      let stopWriting = false;
      let ts = Date.now() - 5000;
      const writer = (async () => {
        while (!stopWriting) {
          const batch: Array<[number, number]> = [];
          for (let i = 0; i < 3; i++) batch.push([++ts, written.length + i]);
          await push(server.url, batch);
          written.push(...batch.map((p) => p[0]));
          await new Promise((r) => setTimeout(r, 15));
        }
      })();
      try {
        for (let k = 0; k < 3; k++) {
          const red = await start(userDir, flows(server.url, true, sink));
          const before = emitted(sink).length;
          await until(() => emitted(sink).length > before, 15000, 'emissions', red);
          await new Promise((r) => setTimeout(r, 200 + Math.floor(rnd() * 800)));
          await stop(red, 'kill');
        }
      } finally {
        stopWriting = true;
        await writer;
      }
      const red = await start(userDir, flows(server.url, true, sink));
      await until(() => new Set(emitted(sink)).size >= written.length, 20000, `all ${written.length} points`, red);
      await new Promise((r) => setTimeout(r, 400));
      const records = sent(sink);
      const seen = new Map<number, number>();
      for (const rec of records) for (const t of rec.t) seen.set(t, (seen.get(t) ?? 0) + 1);
      assert.deepEqual(written.filter((t) => !seen.has(t)), [], 'no point lost');
      // Every second sending of a point is in a message marked repeated.
      const firstTime = new Set<number>();
      const unmarked: number[] = [];
      let repeats = 0;
      for (const rec of records) {
        for (const t of rec.t) {
          if (firstTime.has(t)) {
            repeats++;
            if (!rec.r) unmarked.push(t);
          }
          firstTime.add(t);
        }
      }
      assert.deepEqual(unmarked, [], 'repeats are marked msg.repeated');
      // At most the points of one poll per crash: a poll at 100 ms sees a few dozen points here, never hundreds.
      assert.ok(repeats <= 3 * 200, `repeats ${repeats}`);
    });
  }
});
