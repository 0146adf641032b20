/**
 * Query node requests: concurrent queries without a listener leak, msg.topic "next" is an ordinary
 * query (only msg.next === true asks for a page), and series output without results still answers.
 */
import assert from 'node:assert/strict';
import { errorsOf, helper, lastStatus, loadWithOutput, seed, until, useNodeRedAndKairos } from './harness';

const T0 = Date.UTC(2024, 4, 1, 0, 0, 0);
const MIN = 60_000;

function queryNode(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'qr.temp', metricsType: 'str',
    start: String(T0), startType: 'num', end: String(T0 + 9 * MIN), endType: 'num', output: 'rows', tsFormat: 'ms',
    dropTrailing: true, order: 'asc', aggMode: 'list', aggregators: [], wires: [['out']], ...extra,
  };
}

describe('proficloud-query node: requests', function () {
  const env = useNodeRedAndKairos();

  before(async function () {
    await seed(env.server.url, [{ name: 'qr.temp', tags: { line: 'a' }, datapoints: Array.from({ length: 10 }, (_, i) => [T0 + i * MIN, 20 + i]) }]);
  });

  async function load(q: Record<string, unknown>): Promise<{ got: Array<Record<string, unknown>>; send: (m: Record<string, unknown>) => void }> {
    const got = await loadWithOutput(env.server.url, q);
    await until(() => lastStatus(helper.getNode('q')).text === 'node-red:common.status.connected', 3000, 'connected');
    return { got, send: (m) => helper.getNode('q').receive(m) };
  }

  it('twelve concurrent queries on one node emit no MaxListenersExceededWarning', async function () {
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => {
      warnings.push(w);
    };
    process.on('warning', onWarning);
    try {
      for (const output of ['rows', 'series', 'raw']) {
        const { got, send } = await load(queryNode({ output }));
        for (let i = 0; i < 12; i++) send({ payload: i });
        await until(() => got.length >= (output === 'series' ? 12 : 12), 8000, `12 ${output} answers`);
        await helper.unload();
      }
      // Warnings are emitted on the next tick.
      await new Promise((r) => setImmediate(r));
    } finally {
      process.off('warning', onWarning);
    }
    const leaks = warnings.filter((w) => w.name === 'MaxListenersExceededWarning');
    assert.deepEqual(leaks.map((w) => w.message), []);
  });

  it('a message with topic "next" is an ordinary query; only msg.next === true asks for a page', async function () {
    const { got, send } = await load(queryNode());
    send({ topic: 'next', payload: 'go' });
    await until(() => got.length === 1 || errorsOf(helper.getNode('q')).length > 0, 4000, 'an answer');
    assert.deepEqual(errorsOf(helper.getNode('q')), []);
    assert.equal((got[0].payload as unknown[]).length, 10);
    send({ next: true });
    await until(() => errorsOf(helper.getNode('q')).length === 1, 4000, 'the error for msg.next without a paged query');
    assert.match(errorsOf(helper.getNode('q'))[0], /msg\.next.*no paged query is waiting/);
  });

  it('series output with no results sends one message with an empty payload (request/response flows get an answer)', async function () {
    const { got, send } = await load(queryNode({ output: 'series', metrics: 'qr.nothing' }));
    send({ payload: 'go', keep: 7 });
    await until(() => got.length === 1, 4000, 'the empty answer');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(got.length, 1);
    assert.deepEqual(got[0].payload, []);
    assert.equal(got[0].keep, 7);
  });

  it('paged rows: dropTrailingNa cuts only the end of the whole range, not the end of every page', async function () {
    // qr.fast every minute, qr.slow every 7 minutes: most pages end after qr.slow's last point in them.
    const fast = Array.from({ length: 60 }, (_, i) => [T0 + i * MIN, i]);
    const slow = Array.from({ length: 9 }, (_, i) => [T0 + i * 7 * MIN, 100 + i]);
    await seed(env.server.url, [
      { name: 'qr.fast', tags: { line: 'a' }, datapoints: fast },
      { name: 'qr.slow', tags: { line: 'a' }, datapoints: slow },
    ]);
    const common = { metrics: 'qr.fast,qr.slow', end: String(T0 + 60 * MIN - 1), fill: 'ffill' };
    const whole = await load(queryNode(common));
    whole.send({});
    await until(() => whole.got.length === 1, 4000, 'the unpaged table');
    const expected = (whole.got[0].payload as Array<Record<string, unknown>>).map((r) => r.Timestamp);
    // cut at qr.slow's last point (56 min): rows 0..56 min
    assert.equal(expected.length, 57);
    await helper.unload();
    const paged = await load(queryNode({ ...common, paged: true, pageSize: '10m' }));
    paged.send({});
    await until(() => paged.got.length > 0 && paged.got.length === (paged.got[0].parts as { count: number }).count, 8000, 'all pages');
    const rows = paged.got.flatMap((m) => m.payload as Array<Record<string, unknown>>);
    assert.deepEqual(
      rows.map((r) => r.Timestamp),
      expected,
    );
  });
});
