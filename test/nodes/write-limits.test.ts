import assert from 'node:assert/strict';
import { MIN_MEMORY_QUEUE_POINTS, memoryQueuePoints, outboxMaxBytes } from '../../nodes/lib/write-node-setup';
import { callsOf, errorsOf, helper, loadWithOutput, readBack, until, useNodeRedAndKairos } from './harness';

const T0 = Date.UTC(2024, 4, 1, 0, 0, 0);
const MIB = 1024 * 1024;

describe('write and batch limits: outbox size and the memory queue', function () {
  describe('outboxMaxBytes / memoryQueuePoints', function () {
    it('empty means 100 MB; numbers and numeric strings above 0 are MB', function () {
      assert.equal(outboxMaxBytes(undefined), 100 * MIB);
      assert.equal(outboxMaxBytes(''), 100 * MIB);
      assert.equal(outboxMaxBytes(' 2 '), 2 * MIB);
      assert.equal(outboxMaxBytes(0.5), MIB / 2);
    });

    it('0, negative and non-numbers are errors naming outboxMaxMB and the value', function () {
      for (const bad of [0, '0', -1, 'lots', Number.NaN, Infinity, true]) {
        assert.throws(() => outboxMaxBytes(bad), (e: Error & { code?: string }) => e.code === 'EVALIDATION' && /outboxMaxMB/.test(e.message), String(bad));
      }
      assert.throws(() => outboxMaxBytes('0'), /"0"/);
    });

    it('the memory queue follows the size setting, never below the old 100,000 points', function () {
      assert.equal(memoryQueuePoints(outboxMaxBytes('')), Math.floor((100 * MIB) / 100));
      assert.ok(memoryQueuePoints(100 * MIB) >= 1_000_000, 'the default holds one 100,000-row × 10-column message');
      assert.equal(memoryQueuePoints(1024), MIN_MEMORY_QUEUE_POINTS);
    });
  });

  describe('nodes', function () {
    this.timeout(20_000);
    const env = useNodeRedAndKairos();

    it('batch without the outbox writes one message above 100,000 points', async function () {
      const rows = 12_000;
      const columns = 10;
      const payload = Array.from({ length: rows }, (_, i) => {
        const row: Record<string, number> = { Timestamp: T0 + i * 1000 };
        for (let c = 0; c < columns; c++) row[`wl.big${c}`] = i + c;
        return row;
      });
      const reports = await loadWithOutput(env.server.url, {
        id: 'b', type: 'proficloud-batch', server: 'cfg', timestampColumn: 'Timestamp', batchSize: 10_000, maxRows: rows, outbox: false, report: true, outputs: 1, wires: [['out']],
      }, { defaultTags: 'site=p1' });
      helper.getNode('b').receive({ payload });
      const written = (): number => reports.reduce((n, m) => n + (m.payload as { written: number }).written, 0);
      await until(() => written() === rows * columns || callsOf(helper.getNode('b'), 'error').length > 0, 15_000, 'all points written');
      assert.deepEqual(errorsOf(helper.getNode('b')), []);
      assert.equal(written(), rows * columns);
      const stored = await readBack(env.server.url, 'wl.big9');
      assert.equal(stored.length, rows);
      assert.deepEqual(stored[rows - 1], [T0 + (rows - 1) * 1000, rows - 1 + 9]);
    });

    for (const type of ['proficloud-write', 'proficloud-batch']) {
      for (const outbox of [true, false]) {
        it(`${type} (outbox ${outbox ? 'on' : 'off'}) with outboxMaxMB 0: every message fails naming the field`, async function () {
          await loadWithOutput(env.server.url, { id: 'n', type, server: 'cfg', outbox, outboxMaxMB: 0, report: true, outputs: 1, wires: [['out']] }, { defaultTags: 'site=p1' });
          const n = helper.getNode('n');
          n.receive({ payload: type === 'proficloud-write' ? { 'wl.zero': 1 } : [{ Timestamp: T0, 'wl.zero': 1 }] });
          await until(() => callsOf(n, 'error').length > 0, 4000, 'the error');
          assert.match(errorsOf(n)[0], /^outboxMaxMB: .*greater than 0 \(got 0\)/);
          assert.deepEqual(await readBack(env.server.url, 'wl.zero'), []);
        });
      }
    }

    it('proficloud-write with a maxDelay longer than a timer can wait (30 days): every message fails naming maxDelay, nothing is sent at once', async function () {
      await loadWithOutput(env.server.url, { id: 'n', type: 'proficloud-write', server: 'cfg', maxDelay: 30 * 86400, report: true, outputs: 1, wires: [['out']] }, { defaultTags: 'site=p1' });
      const n = helper.getNode('n');
      n.receive({ payload: { 'wl.delay': 1 } });
      await until(() => callsOf(n, 'error').length > 0, 4000, 'the error');
      assert.match(errorsOf(n)[0], /^maxDelay: must be at most 2147483 seconds .*\(got 2592000\)/);
      assert.deepEqual(await readBack(env.server.url, 'wl.delay'), []);
    });
  });
});
