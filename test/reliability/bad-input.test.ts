/**
 * A catalogue of malformed messages for every node. Each one must produce node.error(err, msg) whose
 * message names the field and the value at fault, the valid data of the same message must still be
 * written, and the node must keep working afterwards. Nothing may throw out of a handler.
 */
import assert from 'node:assert/strict';
import type { LocalServer } from '../../src/server/index';
import { callsOf, collect, helper, kairos, readBack, until, type TestNode } from '../nodes/harness';
import { cfg, sleep, builtNodes, useRuntime } from './support';

const TS = Date.UTC(2024, 7, 1, 0, 0, 0);
const HUGE = 'x'.repeat(2 * 1024 * 1024);

interface Case {
  title: string;
  msg: Record<string, unknown>;
  /** Every error text must match one of these, and each must be matched by some error. */
  expect: RegExp[];
  /** A metric of the same message that must still be stored, and how many points of it. */
  good?: { metric: string; points: number };
}

describe('reliability: bad input catalogue', function () {
  this.timeout(20000);
  let server: LocalServer;
  let seq = 0;

  useRuntime({
    setup: async () => {
      server = await kairos();
    },
    teardown: () => server.close(),
    unloadAfterEach: true,
  });

  /** Errors this node reported for exactly this message. */
  function errorsFor(node: TestNode, msg: Record<string, unknown>): string[] {
    return callsOf(node, 'error')
      .filter((c) => c.args[1] === msg || (c.args[1] as { _msgid?: unknown })?._msgid === msg._msgid)
      .map((c) => String((c.args[0] as Error)?.message ?? c.args[0]));
  }

  async function check(node: TestNode, c: Case): Promise<void> {
    const msg = { _msgid: `bad-${++seq}`, ...c.msg };
    const before = callsOf(node, 'error').length;
    node.receive(msg);
    await until(() => callsOf(node, 'error').length >= before + c.expect.length, 4000, `errors for "${c.title}"`);
    await sleep(30);
    const errs = errorsFor(node, msg);
    assert.ok(errs.length >= c.expect.length, `${c.title}: errors carry the message (got ${errs.length}: ${errs.join(' | ')})`);
    for (const re of c.expect) assert.ok(errs.some((e) => re.test(e)), `${c.title}: no error matches ${re}; got:\n${errs.join('\n')}`);
    for (const e of errs) assert.ok(e.length < 600, `${c.title}: error message is bounded (${e.length} chars)`);
    if (c.good) {
      const good = c.good;
      await until(async () => (await readBack(server.url, good.metric)).length === good.points, 4000, `${good.metric} stored`);
    }
  }

  describe('proficloud-write', function () {
    let w: TestNode;
    beforeEach(async function () {
      await helper.load(builtNodes(), [cfg(server.url), { id: 'w', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 100, maxDelay: 0.01, outbox: true, report: false, wires: [] }]);
      w = helper.getNode('w');
    });

    const cases: Case[] = [
      { title: 'NaN value', msg: { payload: { 'bw.nan': Number.NaN, 'bw.g1': 1 }, timestamp: TS }, expect: [/bw\.nan.*NaN/], good: { metric: 'bw.g1', points: 1 } },
      { title: 'Infinity and -Infinity', msg: { payload: { 'bw.inf': Infinity, 'bw.ninf': -Infinity, 'bw.g2': 2 }, timestamp: TS }, expect: [/bw\.inf.*Infinity/, /bw\.ninf.*-Infinity/], good: { metric: 'bw.g2', points: 1 } },
      { title: 'null value', msg: { payload: { 'bw.null': null, 'bw.g3': 3 }, timestamp: TS }, expect: [/bw\.null.*null/], good: { metric: 'bw.g3', points: 1 } },
      { title: 'nested object value', msg: { payload: { 'bw.obj': { a: { b: 1 } }, 'bw.g4': 4 }, timestamp: TS }, expect: [/bw\.obj.*object/], good: { metric: 'bw.g4', points: 1 } },
      { title: 'array value', msg: { payload: { 'bw.arr': [1, 2, 3], 'bw.g5': 5 }, timestamp: TS }, expect: [/bw\.arr.*array\(3\)/], good: { metric: 'bw.g5', points: 1 } },
      { title: 'empty metric name', msg: { payload: { '': 1, 'bw.g6': 6 }, timestamp: TS }, expect: [/name.*""|empty/i], good: { metric: 'bw.g6', points: 1 } },
      { title: 'blank metric name', msg: { payload: { '   ': 1, 'bw.g7': 7 }, timestamp: TS }, expect: [/name|empty/i], good: { metric: 'bw.g7', points: 1 } },
      { title: 'empty string value (KairosDB rejects it untyped)', msg: { payload: { 'bw.empty': '', 'bw.g8': 8 }, timestamp: TS }, expect: [/bw\.empty.*""/], good: { metric: 'bw.g8', points: 1 } },
      { title: 'huge string value', msg: { payload: { 'bw.huge': HUGE, 'bw.g9': 9 }, timestamp: TS }, expect: [/bw\.huge.*string value: longer than 65536 characters \(got 2097152 characters/], good: { metric: 'bw.g9', points: 1 } },
      { title: 'huge metric name', msg: { payload: { [HUGE.slice(0, 5000)]: 1, 'bw.g10': 10 }, timestamp: TS }, expect: [/metric name: longer than 512 characters \(got 5000/], good: { metric: 'bw.g10', points: 1 } },
      { title: 'unparseable timestamp', msg: { topic: 'bw.t1', payload: 1, timestamp: 'yesterday-ish' }, expect: [/msg\.timestamp.*"yesterday-ish"/] },
      { title: 'NaN timestamp', msg: { topic: 'bw.t2', payload: 1, timestamp: Number.NaN }, expect: [/msg\.timestamp.*NaN/] },
      { title: 'out-of-range timestamp', msg: { topic: 'bw.t3', payload: 1, timestamp: 1e20 }, expect: [/msg\.timestamp.*100000000000000000000/] },
      { title: 'invalid Date timestamp', msg: { topic: 'bw.t4', payload: 1, timestamp: new Date('nope') }, expect: [/msg\.timestamp.*Invalid Date/] },
      { title: 'object timestamp', msg: { topic: 'bw.t5', payload: 1, timestamp: { when: 'now' } }, expect: [/msg\.timestamp.*object/] },
      { title: 'timestamp 0', msg: { topic: 'bw.t6', payload: 1, timestamp: 0 }, expect: [/^msg\.timestamp: must be after 1970-01-01T00:00:00Z \(got 0\)$/] },
      { title: 'timestamp -1', msg: { topic: 'bw.t7', payload: 1, timestamp: -1 }, expect: [/^msg\.timestamp: must be after 1970-01-01T00:00:00Z \(got -1\)$/] },
      { title: 'payload array', msg: { payload: [1, 2] }, expect: [/msg\.payload.*array\(2\)/] },
      { title: 'huge payload array', msg: { payload: new Array(200000).fill(1) }, expect: [/msg\.payload.*array\(200000\)/] },
      { title: 'payload null', msg: { payload: null }, expect: [/msg\.payload.*null/] },
      { title: 'payload Buffer', msg: { payload: Buffer.from('abc') }, expect: [/msg\.payload/] },
      { title: 'single value without topic', msg: { payload: 5 }, expect: [/msg\.topic.*5/] },
      { title: 'tags not an object', msg: { topic: 'bw.x', payload: 1, tags: 42 }, expect: [/msg\.tags.*42/] },
      { title: 'tag with an empty value', msg: { topic: 'bw.x', payload: 1, tags: { host: '' } }, expect: [/msg\.tags.*host/] },
      { title: 'tag with a nested object value', msg: { topic: 'bw.x', payload: 1, tags: { host: { a: 1 } } }, expect: [/msg\.tags.*host/] },
      { title: 'tag with an empty name', msg: { topic: 'bw.x', payload: 1, tags: { '': 'v' } }, expect: [/^msg\.tags: tag name must not be empty \(got "" for the value "v"\)$/] },
      { title: 'tag with a blank name', msg: { topic: 'bw.x', payload: 1, tags: { ' ': 'v' } }, expect: [/^msg\.tags: tag name must not be empty \(got " " for the value "v"\)$/] },
    ];
    for (const c of cases) it(`${c.title}: clear error naming field and value; valid data still written`, async () => check(w, c));

    it('keeps working after the whole catalogue', async function () {
      for (const c of cases) w.receive({ ...c.msg });
      w.receive({ topic: 'bw.after', payload: 42, timestamp: TS });
      await until(async () => (await readBack(server.url, 'bw.after')).length === 1, 5000, 'write after bad input');
    });
  });

  describe('proficloud-batch', function () {
    let b: TestNode;
    beforeEach(async function () {
      await helper.load(builtNodes(), [cfg(server.url), { id: 'b', type: 'proficloud-batch', server: 'cfg', batchSize: 100, maxRows: 1000, outbox: true, report: false, wires: [] }]);
      b = helper.getNode('b');
    });
    const cases: Case[] = [
      {
        title: 'rows with NaN, Infinity, objects and bad timestamps next to good rows',
        msg: { payload: [{ Timestamp: TS, 'bb.g1': 1 }, { Timestamp: TS + 1, 'bb.g1': Number.NaN }, { Timestamp: 'garbage', 'bb.g1': 3 }, { Timestamp: TS + 3, 'bb.g1': { a: 1 } }, { Timestamp: TS + 4, 'bb.g1': Infinity }, { Timestamp: TS + 5, 'bb.g1': 6 }] },
        expect: [/NaN/, /"garbage"/, /object/, /Infinity/],
        good: { metric: 'bb.g1', points: 2 },
      },
      { title: 'row that is not an object', msg: { payload: [{ Timestamp: TS, 'bb.g2': 1 }, 'row?', null] }, expect: [/rows\[1\].*"row\?"/, /rows\[2\].*null/], good: { metric: 'bb.g2', points: 1 } },
      { title: 'row without the timestamp column', msg: { payload: [{ 'bb.g3': 1, Timestamp: TS }, { 'bb.g3': 2 }] }, expect: [/Timestamp/], good: { metric: 'bb.g3', points: 1 } },
      { title: 'out-of-range timestamp', msg: { payload: [{ Timestamp: TS, 'bb.g4': 1 }, { Timestamp: -1e300, 'bb.g4': 2 }] }, expect: [/-1e\+?300/], good: { metric: 'bb.g4', points: 1 } },
      { title: 'CSV with a missing timestamp column', msg: { payload: 'time,bb.c\n1,2\n' }, expect: [/msg\.payload.*Timestamp/] },
      { title: 'CSV with unbalanced quotes', msg: { payload: 'Timestamp,bb.c\n1,"2\n' }, expect: [/msg\.payload.*CSV/] },
      { title: 'CSV with ragged rows', msg: { payload: 'Timestamp,bb.c\n1,2,3\n' }, expect: [/msg\.payload.*CSV/] },
      { title: 'CSV with a bad cell next to good ones', msg: { payload: `Timestamp,bb.g5\n${TS},1\nnever,2\n${TS + 2},3\n` }, expect: [/"never"/], good: { metric: 'bb.g5', points: 2 } },
      { title: 'empty CSV', msg: { payload: '   ' }, expect: [/msg\.payload.*empty/] },
      { title: 'too many rows', msg: { payload: Array.from({ length: 1001 }, (_, i) => ({ Timestamp: TS + i, 'bb.n': i })) }, expect: [/msg\.payload.*1001 rows/] },
      { title: 'push array with an empty name, no datapoints and an empty tag', msg: { payload: [{ name: 'bb.g6', datapoints: [[TS, 1]], tags: { a: 'b' } }, { name: '', datapoints: [[TS, 1]] }, { name: 'bb.x', datapoints: 'lots' }, { name: 'bb.y', datapoints: [[TS, 1]], tags: { '': 'v' } }] }, expect: [/name/, /datapoints.*"lots"/, /tag/], good: { metric: 'bb.g6', points: 1 } },
      { title: 'huge string cell and an oversized tag value', msg: { payload: [{ Timestamp: TS, 'bb.g7': 1, 'bb.s': HUGE }], tags: { site: 'y'.repeat(600) } }, expect: [/msg\.tags|tag site: longer than 512/] },
      { title: 'huge string cell next to good cells', msg: { payload: [{ Timestamp: TS, 'bb.g8': 1, 'bb.s': HUGE }, { Timestamp: TS + 1, 'bb.g8': 2 }] }, expect: [/bb\.s at \d+: string value: longer than 65536/], good: { metric: 'bb.g8', points: 2 } },
      { title: 'payload a number', msg: { payload: 42 }, expect: [/msg\.payload.*42/] },
      { title: 'empty array', msg: { payload: [] }, expect: [/msg\.payload.*no rows/] },
      { title: 'tag with an empty name', msg: { payload: [{ Timestamp: TS, 'bb.x': 1 }], tags: { '': 'v' } }, expect: [/^msg\.tags: tag name must not be empty \(got "" for the value "v"\)$/] },
    ];
    for (const c of cases) it(`${c.title}: clear error naming field and value; valid data still written`, async () => check(b, c));

    it('keeps working after the whole catalogue', async function () {
      for (const c of cases) b.receive({ ...c.msg });
      b.receive({ payload: [{ Timestamp: TS, 'bb.after': 1 }] });
      await until(async () => (await readBack(server.url, 'bb.after')).length === 1, 5000, 'batch after bad input');
    });
  });

  describe('proficloud-query', function () {
    let q: TestNode;
    let out: Array<Record<string, unknown>>;
    beforeEach(async function () {
      await helper.load(builtNodes(), [
        cfg(server.url),
        { id: 'q', type: 'proficloud-query', server: 'cfg', metrics: 'bq.m', metricsType: 'str', start: '0', startType: 'str', output: 'rows', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ]);
      q = helper.getNode('q');
      out = collect(helper.getNode('out'));
    });
    const cases: Case[] = [
      { title: 'metrics a number', msg: { metrics: 42 }, expect: [/msg\.metrics.*42/] },
      { title: 'metrics an empty list', msg: { metrics: [] }, expect: [/msg\.metrics/] },
      { title: 'metrics with an empty name', msg: { metrics: ['bq.m', ''] }, expect: [/msg\.metrics\[1\].*empty.*""/] },
      { title: 'unparseable start', msg: { start: 'the day before' }, expect: [/msg\.start.*"the day before"/] },
      { title: 'NaN start', msg: { start: Number.NaN }, expect: [/msg\.start.*NaN/] },
      { title: 'negative limit', msg: { limit: -1 }, expect: [/msg\.limit.*-1/] },
      { title: 'unknown aggregator', msg: { aggregators: [{ name: 'median_of_medians' }] }, expect: [/median_of_medians/] },
      { title: 'aggregators not a list', msg: { aggregators: 'avg' }, expect: [/msg\.aggregators.*"avg"/] },
      { title: 'tags a number', msg: { tags: 7 }, expect: [/msg\.tags.*7/] },
      { title: 'raw query with an unknown aggregator', msg: { query: { start_absolute: 1, metrics: [{ name: 'bq.m', aggregators: [{ name: 'bogus' }] }] } }, expect: [/bogus invalid aggregators name/] },
      { title: 'raw query without metrics', msg: { query: { start_absolute: 1 } }, expect: [/query\.metrics/] },
      { title: 'raw query a string', msg: { query: 'SELECT *' }, expect: [/msg\.query.*"SELECT \*"/] },
      { title: 'huge metric name', msg: { metrics: HUGE.slice(0, 100000) }, expect: [/msg\.metrics\[0\].*longer than 512/] },
    ];
    for (const c of cases) it(`${c.title}: clear error naming field and value`, async () => check(q, c));

    it('keeps working after the whole catalogue', async function () {
      await fetch(`${server.url}/api/v1/datapoints`, { method: 'POST', body: JSON.stringify([{ name: 'bq.m', tags: { a: 'b' }, datapoints: [[TS, 1]] }]) });
      for (const c of cases) q.receive({ ...c.msg });
      q.receive({ payload: 'ok' });
      await until(() => out.some((m) => m.payload !== 'ok' && Array.isArray(m.payload) && (m.payload as unknown[]).length === 1), 5000, 'query after bad input');
    });
  });

  describe('proficloud-stream', function () {
    let s: TestNode;
    beforeEach(async function () {
      await helper.load(builtNodes(), [cfg(server.url), { id: 's', type: 'proficloud-stream', server: 'cfg', metrics: 'bs.m', interval: 100, window: '1m', autoStart: false, wires: [[]] }]);
      s = helper.getNode('s');
    });
    const cases: Case[] = [
      { title: 'interval not a number', msg: { interval: 'fast' }, expect: [/msg\.interval.*"fast"/] },
      { title: 'interval too small', msg: { interval: 5 }, expect: [/msg\.interval.*5/] },
      { title: 'interval Infinity', msg: { interval: Infinity }, expect: [/msg\.interval.*Infinity/] },
      { title: 'metrics an object', msg: { metrics: { a: 1 } }, expect: [/msg\.metrics.*object/] },
      { title: 'unknown command', msg: { payload: 'jump' }, expect: [/msg\.payload.*"jump"/] },
    ];
    for (const c of cases) it(`${c.title}: clear error naming field and value`, async () => check(s, c));

    it('keeps working after the whole catalogue', async function () {
      for (const c of cases) s.receive({ ...c.msg });
      s.receive({ payload: 'start' });
      await until(() => callsOf(s, 'status').some((c) => c.thisValue === s && /points/.test(String((c.args[0] as { text?: string }).text))), 3000, 'a poll after bad input');
    });
  });

  describe('proficloud-config', function () {
    const bad: Array<{ title: string; extra: Record<string, unknown>; expect: RegExp }> = [
      { title: 'URL with another scheme', extra: { urls: 'ftp://example.invalid' }, expect: /urls.*ftp:\/\/example\.invalid/ },
      { title: 'negative timeout', extra: { timeout: -3 }, expect: /timeout.*-3/ },
      { title: 'unknown service', extra: { service: 'mysql' }, expect: /service.*"mysql"/ },
      { title: 'default tags that are not k=v', extra: { defaultTags: 'site' }, expect: /defaultTags/ },
    ];
    for (const c of bad) {
      it(`${c.title}: user nodes show the error, nothing crashes`, async function () {
        await helper.load(builtNodes(), [cfg(server.url, c.extra), { id: 'w', type: 'proficloud-write', server: 'cfg', outbox: false, wires: [] }]);
        const w = helper.getNode('w');
        const msg = { _msgid: `cfg-${++seq}`, topic: 'bc.x', payload: 1 };
        w.receive(msg);
        await until(() => errorsFor(w, msg).length === 1, 3000, 'the error');
        assert.match(errorsFor(w, msg)[0], c.expect);
      });
    }
  });
  describe('write and batch alike', function () {
    beforeEach(async function () {
      await helper.load(builtNodes(), [
        cfg(server.url),
        { id: 'w', type: 'proficloud-write', server: 'cfg', maxBatchPoints: 100, maxDelay: 0.01, outbox: true, report: false, wires: [] },
        { id: 'b', type: 'proficloud-batch', server: 'cfg', batchSize: 100, outbox: true, report: false, wires: [] },
      ]);
    });

    it('a fractional millisecond timestamp (1.5) is rounded to the nearest millisecond by both nodes, in every input form', async function () {
      const w = helper.getNode('w');
      const b = helper.getNode('b');
      w.receive({ topic: 'fr.w', payload: 1, timestamp: TS + 1.5 });
      b.receive({ payload: [{ Timestamp: TS + 1.5, 'fr.rows': 1 }] });
      b.receive({ payload: [{ name: 'fr.push', tags: { a: 'b' }, datapoints: [[TS + 1.5, 1]] }, { name: 'fr.single', tags: { a: 'b' }, timestamp: TS + 1.5, value: 1 }] });
      b.receive({ payload: `Timestamp,fr.csv\n${TS + 1.5},1\n` });
      for (const metric of ['fr.w', 'fr.rows', 'fr.push', 'fr.single', 'fr.csv']) {
        await until(async () => (await readBack(server.url, metric)).length === 1, 5000, `${metric} stored`);
        assert.deepEqual(await readBack(server.url, metric), [[TS + 2, 1]], metric);
      }
      assert.deepEqual([...callsOf(w, 'error'), ...callsOf(b, 'error')].map((c) => String((c.args[0] as Error).message)), []);
    });

    it('__proto__, constructor and toString work as tag names and metric names (JSON input), end to end', async function () {
      const w = helper.getNode('w');
      const b = helper.getNode('b');
      const names = ['__proto__', 'constructor', 'toString'];
      // JSON.parse makes "__proto__" an own key, as a msg from an HTTP or MQTT node has it.
      const tags = JSON.parse('{"__proto__": "x", "constructor": "y", "toString": "z"}') as Record<string, string>;
      w.receive({ payload: JSON.parse('{"__proto__": 1, "constructor": 2, "toString": 3}'), tags, timestamp: TS });
      b.receive({ payload: JSON.parse(`[{"Timestamp": ${TS + 1}, "__proto__": 4, "constructor": 5, "toString": 6}]`), tags });
      b.receive({ payload: JSON.parse(`[{"name": "__proto__", "tags": {"__proto__": "x", "constructor": "y", "toString": "z"}, "datapoints": [[${TS + 2}, 7]]}]`) });
      const filter = JSON.parse('{"__proto__": ["x"], "constructor": ["y"], "toString": ["z"]}') as Record<string, string[]>;
      const expected = new Map<string, Array<[number, number]>>([
        ['__proto__', [[TS, 1], [TS + 1, 4], [TS + 2, 7]]],
        ['constructor', [[TS, 2], [TS + 1, 5]]],
        ['toString', [[TS, 3], [TS + 1, 6]]],
      ]);
      for (const name of names) {
        const want = expected.get(name) ?? [];
        await until(async () => (await readBack(server.url, name, filter)).length === want.length, 5000, `${name} stored with all three tags`);
        assert.deepEqual(await readBack(server.url, name, filter), want, name);
      }
      assert.deepEqual([...callsOf(w, 'error'), ...callsOf(b, 'error')].map((c) => String((c.args[0] as Error).message)), []);
    });
  });
  describe('proficloud-batch: CSV rows and cells that cost only themselves (issues 12, 13)', function () {
    let b: TestNode;
    beforeEach(async function () {
      await helper.load(builtNodes(), [cfg(server.url), { id: 'b', type: 'proficloud-batch', server: 'cfg', batchSize: 100, maxRows: 1000, outbox: true, report: false, wires: [] }]);
      b = helper.getNode('b');
    });
    const cases: Case[] = [
      { title: 'one ragged CSV row among good ones', msg: { payload: `Timestamp,cr.a\n${TS},1\n${TS + 1},2,3\n${TS + 2},4\n` }, expect: [/msg\.payload: CSV line 3: 3 fields where the header has 2/], good: { metric: 'cr.a', points: 2 } },
      { title: 'a short CSV row and an unclosed quote', msg: { payload: `Timestamp,cr.b,cr.c\n${TS},1,2\n${TS + 1},3\n${TS + 2},5,"6\n` }, expect: [/CSV line 3: 2 fields/, /CSV line 4: a quoted field opened on line 4 is never closed/], good: { metric: 'cr.b', points: 1 } },
      { title: 'text in a numeric CSV column', msg: { payload: `Timestamp,cr.d\n${TS},1\n${TS + 1},n/a\n${TS + 2},3\n${TS + 3},n/a\n` }, expect: [/CSV column "cr\.d": line 3 has text "n\/a" in a numeric column; 2 text cells/], good: { metric: 'cr.d', points: 2 } },
    ];
    for (const c of cases) it(`${c.title}: reported by line, the other rows written`, async () => check(b, c));
  });
});
