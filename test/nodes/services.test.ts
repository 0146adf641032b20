/**
 * The Proficloud-specific paths through the nodes: proficloud.io (OAuth login, device UUIDs) against the
 * local server's /epts emulation, and store-and-forward across a redeploy while the server is down.
 */
import assert from 'node:assert/strict';
import { startServer, type LocalServer } from '../../src/server/index';
import { builtNodes, callsOf, collect, configNode, errorsOf, helper, kairos, lastStatus, readBack, seed, until, useNodeRed } from './harness';

const DEVICE = '6f1c2d3e-0000-4000-8000-000000000001';
const T0 = Date.UTC(2024, 4, 4, 0, 0, 0);

describe('proficloud.io and store-and-forward through the nodes', function () {
  useNodeRed();

  describe('proficloud.io', function () {
    let server: LocalServer;
    before(async function () {
      server = await startServer({ port: 0, host: '127.0.0.1', selfMetrics: false, oauth: { username: 'me@example.com', password: 'io-secret-pw' } });
      await seed(server.url, [{ name: 'auto~temp', tags: { uuid: DEVICE }, datapoints: [[T0, 21.5], [T0 + 1000, 21.7]] }]);
    });
    after(async function () {
      await server.close();
    });

    function ioConfig(): Record<string, unknown> {
      return { id: 'cfg', type: 'proficloud-config', service: 'io', environment: 'custom', urls: server.url, authMode: 'login' };
    }

    it('query: logs in with the stored username/password and reads rows for the device UUIDs', async function () {
      await helper.load(builtNodes(), [
        ioConfig(),
        { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'auto~temp', metricsType: 'str', endpointIds: DEVICE, start: String(T0), startType: 'num', end: String(T0 + 5000), endType: 'num', output: 'rows', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ], { cfg: { username: 'me@example.com', password: 'io-secret-pw' } });
      const got = collect(helper.getNode('out'));
      const q = helper.getNode('q');
      await until(() => lastStatus(q).text === 'node-red:common.status.connected', 3000, 'login probe');
      q.receive({});
      await until(() => got.length === 1);
      const rows = got[0].payload as Array<Record<string, unknown>>;
      assert.deepEqual(rows.map((r) => [r.Timestamp, Object.values(r)[1]]), [[T0, 21.5], [T0 + 1000, 21.7]]);
      q.receive({ endpointIds: [] });
      await until(() => callsOf(q, 'error').length === 1);
      assert.match(errorsOf(q)[0], /endpointIds/);
    });

    it('write refuses proficloud.io as read-only; a wrong password is EAUTH without the password in the text', async function () {
      await helper.load(builtNodes(), [
        ioConfig(),
        { id: 'w', type: 'proficloud-write', server: 'cfg', outbox: false, wires: [] },
        { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'auto~temp', endpointIds: DEVICE, start: '1h', startType: 'str', wires: [[]] },
      ], { cfg: { username: 'me@example.com', password: 'wrong-secret-pw' } });
      const w = helper.getNode('w');
      w.receive({ topic: 'x', payload: 1 });
      await until(() => callsOf(w, 'error').length === 1);
      assert.equal((callsOf(w, 'error')[0].args[0] as { code: string }).code, 'EREADONLY');
      const q = helper.getNode('q');
      q.receive({});
      await until(() => callsOf(q, 'error').length === 1);
      const err = callsOf(q, 'error')[0].args[0] as { code: string; message: string };
      assert.equal(err.code, 'EAUTH', err.message);
      assert.ok(!err.message.includes('wrong-secret-pw'));
    });
  });

  it('points written while the server is down survive a redeploy in the outbox and are delivered later', async function () {
    this.timeout(15000);
    const probe = await kairos();
    const { port, url } = probe;
    await probe.close();
    const flow = [configNode(url), { id: 'wsaf', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 10, maxDelay: 0.02, outbox: true, report: false, outputs: 0, wires: [] }];
    await helper.load(builtNodes(), flow);
    const w = helper.getNode('wsaf');
    for (let i = 0; i < 3; i++) w.receive({ topic: 'saf.v', payload: i, timestamp: T0 + i });
    await until(() => callsOf(w, 'status').some((c) => /buffered 3/.test(String((c.args[0] as { text?: string }).text))), 5000, 'buffered 3');
    // close() has its own deadline; the test's timeout catches a close that hangs.
    await helper.unload();
    const server = await startServer({ port, host: '127.0.0.1', selfMetrics: false });
    try {
      await helper.load(builtNodes(), flow);
      await until(async () => (await readBack(server.url, 'saf.v')).length === 3, 8000, 'delivery after redeploy');
      assert.deepEqual((await readBack(server.url, 'saf.v')).map((p) => p[1]), [0, 1, 2]);
    } finally {
      await helper.unload();
      await server.close();
    }
  });
});
