/**
 * A write/batch node that is deleted (or cut and pasted, which gives it a new id) closes with
 * removed = true: an empty outbox is deleted; one still holding points is kept and named in a warning
 * with its path and point count, and moveOutbox() hands the points to another node, which delivers them.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { moveOutbox } from '../../src/outbox';
import { startServer } from '../../src/server/index';
import { builtNodes, callsOf, configNode, helper, kairos, lastStatus, loadWithOutput, readBack, until, useNodeRedAndKairos, userDir } from './harness';

const TS = Date.UTC(2024, 6, 1, 0, 0, 0);

/** Node-RED's own close path: what a deploy that deleted the node calls. */
function closeRemoved(node: unknown): Promise<void> {
  return (node as { close(removed: boolean): Promise<void> }).close(true);
}

describe('write/batch node removed (deleted, or cut and pasted)', function () {
  this.timeout(30000);
  const env = useNodeRedAndKairos();

  for (const type of ['proficloud-write', 'proficloud-batch'] as const) {
    it(`${type}: an empty outbox is deleted with the node`, async function () {
      const id = `rm-empty-${type}`;
      const node = type === 'proficloud-write'
        ? { id, type, server: 'cfg', maxBatchPoints: 10, maxDelay: 0.02, outbox: true, report: true, wires: [['out']] }
        : { id, type, server: 'cfg', batchSize: 10, outbox: true, report: true, wires: [['out']] };
      const reports = await loadWithOutput(env.server.url, node);
      const n = helper.getNode(id);
      if (type === 'proficloud-write') n.receive({ topic: 'rm.e', payload: 1, timestamp: TS });
      else n.receive({ payload: [{ Timestamp: TS, 'rm.b': 1 }] });
      await until(() => reports.length > 0, 8000, 'the write');
      const dir = join(userDir, 'proficloud-outbox', id);
      assert.ok(existsSync(dir));
      await closeRemoved(n);
      assert.ok(!existsSync(dir), 'the empty outbox directory is gone');
      assert.deepEqual(callsOf(n, 'warn').map((c) => String(c.args[0])).filter((m) => /outbox/.test(m)), []);
    });
  }

  it('points still waiting for their window are delivered on removal (the link works), then the outbox is deleted', async function () {
    const id = 'rm-flush';
    await loadWithOutput(env.server.url, { id, type: 'proficloud-write', server: 'cfg', maxBatchPoints: 100, maxDelay: 60, outbox: true, report: false, wires: [] });
    const w = helper.getNode(id);
    for (let i = 0; i < 3; i++) w.receive({ topic: 'rm.flush', payload: i, timestamp: TS + i });
    const dir = join(userDir, 'proficloud-outbox', id);
    // All three messages are on disk (a record's payload is plain JSON); the 60 s window holds them.
    const onDisk = (): number => readdirSync(dir).filter((f) => f.startsWith('seg-')).reduce((n, f) => n + readFileSync(join(dir, f), 'utf8').split('rm.flush').length - 1, 0);
    await until(() => existsSync(dir) && onDisk() === 3, 8000, 'three messages in the outbox');
    assert.deepEqual(await readBack(env.server.url, 'rm.flush'), []);
    await closeRemoved(w);
    assert.equal((await readBack(env.server.url, 'rm.flush')).length, 3);
    assert.ok(!existsSync(dir));
  });

  it('an outbox still holding points is kept, the warning names its path and point count, and moveOutbox hands them to another node that delivers them', async function () {
    const down = await kairos();
    const { port, url } = down;
    await down.close();
    const id = 'rm-full';
    await helper.load(builtNodes(), [configNode(url), { id, type: 'proficloud-write', server: 'cfg', maxBatchPoints: 10, maxDelay: 0.02, outbox: true, report: false, wires: [] }]);
    const w = helper.getNode(id);
    for (let i = 0; i < 3; i++) w.receive({ topic: 'rm.kept', payload: i, timestamp: TS + i });
    await until(() => /buffered 3/.test(String(lastStatus(w).text)), 8000, 'buffered 3');
    const dir = join(userDir, 'proficloud-outbox', id);
    await closeRemoved(w);
    const warns = callsOf(w, 'warn').map((c) => String(c.args[0]));
    await helper.unload();
    assert.ok(existsSync(dir), 'the outbox with data is kept');
    const warning = warns.find((m) => m.includes(dir));
    assert.ok(warning, `a warning names ${dir}; got:\n${warns.join('\n')}`);
    assert.match(warning, /\b3 undelivered points\b/);
    assert.match(warning, /moveOutbox/);

    // The documented recovery, with Node-RED's nodes stopped: move the points into another node's outbox.
    const target = join(userDir, 'proficloud-outbox', 'rm-new');
    assert.deepEqual(await moveOutbox(dir, target), { points: 3, batches: 3 });
    assert.ok(!existsSync(dir), 'the source directory is removed once moved');
    const server = await startServer({ port, host: '127.0.0.1', selfMetrics: false });
    try {
      await helper.load(builtNodes(), [configNode(server.url), { id: 'rm-new', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 10, maxDelay: 0.02, outbox: true, report: false, wires: [] }]);
      await until(async () => (await readBack(server.url, 'rm.kept')).length === 3, 10000, 'the moved points delivered');
      assert.deepEqual((await readBack(server.url, 'rm.kept')).map((p) => p[1]), [0, 1, 2]);
    } finally {
      await helper.unload();
      await server.close();
    }
  });

  it('a redeploy that keeps the node (removed = false) leaves the outbox alone', async function () {
    const id = 'rm-kept-node';
    const reports = await loadWithOutput(env.server.url, { id, type: 'proficloud-write', server: 'cfg', maxBatchPoints: 10, maxDelay: 0.02, outbox: true, report: true, wires: [['out']] });
    helper.getNode(id).receive({ topic: 'rm.k', payload: 1, timestamp: TS });
    await until(() => reports.length > 0, 8000, 'the write');
    await helper.unload();
    assert.ok(existsSync(join(userDir, 'proficloud-outbox', id)));
  });
});
