/**
 * The write node groups the small messages of one event-loop turn into one outbox append. Its promise
 * stays the same: a message is done() only once its point is on disk, and each series keeps the order
 * of the messages. Checked against the outbox files themselves at the moment each done() runs,
 * with the server unreachable so nothing leaves the outbox meanwhile.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { HEADER_BYTES, readHeader } from '../../src/outbox/segment-framing';
import type { KairosPushMetric } from '../../src/types';
import { builtNodes, callsOf, configNode, helper, until, useNodeRed, userDir } from './harness';
import { seededRandom as rng } from '../helpers/random';

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Every record in the node's outbox segments, in file order (read straight from disk). */
function onDisk(nodeId: string): KairosPushMetric[][] {
  const dir = join(userDir, 'proficloud-outbox', nodeId);
  const out: KairosPushMetric[][] = [];
  for (const name of readdirSync(dir).filter((n) => n.startsWith('seg-')).sort()) {
    const buf = readFileSync(join(dir, name));
    let off = 0;
    for (let h = readHeader(buf, off); h && off + HEADER_BYTES + h.length <= buf.length; h = readHeader(buf, off)) {
      out.push(JSON.parse(buf.subarray(off + HEADER_BYTES, off + HEADER_BYTES + h.length).toString('utf8')) as KairosPushMetric[]);
      off += HEADER_BYTES + h.length;
    }
  }
  return out;
}

describe('proficloud-write: grouped appends keep done() after the outbox and series order', function () {
  this.timeout(30_000);
  useNodeRed();

  for (const seed of [3, 9]) {
    it(`every done() finds its point on disk; per series the disk order is the message order (seed ${seed})`, async function () {
      const port = await closedPort();
      const id = `wd${seed}`;
      await helper.load(builtNodes(), [configNode(`http://127.0.0.1:${port}`), { id, type: 'proficloud-write', server: 'cfg', outbox: true, wires: [] }]);
      const w = helper.getNode(id);
      let completed = 0;
      let shortfall = 0;
      // done(err?) lands in Node._complete synchronously: look at the outbox files at that very moment.
      const node = w as unknown as { _complete(msg: unknown, err?: unknown): void };
      const complete = node._complete.bind(w);
      node._complete = (msg, err) => {
        completed++;
        const stored = onDisk(id).reduce((n, rec) => n + rec.reduce((k, m) => k + (m.datapoints?.length ?? 0), 0), 0);
        if (err !== undefined || stored < completed) shortfall++;
        complete(msg, err);
      };
      const random = rng(seed);
      const sent = new Map<string, number[]>();
      let ts = 1_700_000_000_000;
      for (let turn = 0; turn < 8; turn++) {
        const n = 1 + Math.floor(random() * 300);
        for (let i = 0; i < n; i++) {
          const metric = `wd.m${Math.floor(random() * 4)}`;
          ts += 1 + Math.floor(random() * 3);
          w.receive({ payload: { [metric]: Math.round(random() * 1000) }, timestamp: ts });
          sent.set(metric, [...(sent.get(metric) ?? []), ts]);
        }
        // The first turn arrives while the outbox is still opening (the general path), the rest after (the grouped one).
        await new Promise((r) => (turn === 0 ? setTimeout(r, 500) : setImmediate(r)));
      }
      const total = [...sent.values()].reduce((n, l) => n + l.length, 0);
      await until(() => completed === total, 20_000, `${total} messages done (so far ${completed})`);
      assert.equal(shortfall, 0, 'a message was done() before its point was on disk');
      assert.equal(callsOf(w, 'error').length, 0);
      const disk = new Map<string, number[]>();
      for (const rec of onDisk(id)) for (const m of rec) disk.set(m.name, [...(disk.get(m.name) ?? []), ...(m.datapoints ?? []).map((p) => p[0] as number)]);
      assert.deepEqual(new Map([...disk].sort()), new Map([...sent].sort()));
    });
  }
});
