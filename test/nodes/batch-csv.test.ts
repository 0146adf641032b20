/**
 * The batch node's CSV input end to end against kairosdb-local: a ragged row or a text cell in a numeric
 * column is reported with its line and the rest of the message is written; column and metric names that
 * are Object.prototype members work as CSV headers and as row-object keys.
 */
import assert from 'node:assert/strict';
import { callsOf, errorsOf, helper, loadWithOutput, readBack, until, useNodeRedAndKairos } from './harness';

const T0 = 1735689600000;

function batchNode(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'b', type: 'proficloud-batch', server: 'cfg', timestampColumn: 'Timestamp', batchSize: 100, maxRows: 1000, outbox: false, report: true, outputs: 1, wires: [['out']], ...extra };
}

function written(reports: Array<Record<string, unknown>>): number {
  return reports.reduce((n, m) => n + (m.payload as { written: number }).written, 0);
}

/** The msg each node.error call was given (Catch nodes see that one). */
function errorMsgs(node: ReturnType<typeof helper.getNode>): unknown[] {
  return callsOf(node, 'error').map((c) => c.args[1]);
}

describe('proficloud-batch node: CSV input', function () {
  const env = useNodeRedAndKairos();

  function load(extra: Record<string, unknown> = {}): Promise<Array<Record<string, unknown>>> {
    return loadWithOutput(env.server.url, batchNode(extra), { defaultTags: 'site=p1' });
  }

  it('a ragged row is reported with its line number and field counts; the other rows are written', async function () {
    const reports = await load();
    const b = helper.getNode('b');
    const msg = { payload: 'Timestamp,rg.m\n1735689600000,1\n1735689600001,2,3\n1735689600002,4\n1735689600003\n' };
    b.receive(msg);
    await until(() => written(reports) === 2 && callsOf(b, 'error').length >= 2, 8000, 'two rows written and two errors');
    const errs = errorsOf(b);
    assert.equal(errs.length, 2, errs.join('\n'));
    assert.match(errs[0], /line 3.*3 fields.*header has 2/);
    assert.match(errs[1], /line 5.*1 field.*header has 2/);
    for (const m of errorMsgs(b)) assert.equal((m as { payload?: unknown }).payload, msg.payload, 'node.error gets the incoming msg');
    assert.deepEqual(await readBack(env.server.url, 'rg.m'), [
      [T0, 1],
      [T0 + 2, 4],
    ]);
  });

  it('quoted fields (delimiters, quotes and line breaks inside) keep line numbers right', async function () {
    const reports = await load();
    const b = helper.getNode('b');
    const csv = `Timestamp,q.n,q.s\r\n${T0},1,"a,""b"""\r\n${T0 + 1},2,"two\nlines"\r\n${T0 + 2},3\r\n${T0 + 3}, 4 , "x" \r\n`;
    b.receive({ payload: csv });
    await until(() => written(reports) === 6 && callsOf(b, 'error').length >= 1, 8000, 'six points and one error');
    const errs = errorsOf(b);
    assert.equal(errs.length, 1, errs.join('\n'));
    // the record with the quoted line break spans lines 3 and 4, so the short row is on line 5
    assert.match(errs[0], /line 5.*2 fields.*header has 3/);
    assert.deepEqual((await readBack(env.server.url, 'q.n')).map((p) => p[1]), [1, 2, 4]);
    assert.deepEqual((await readBack(env.server.url, 'q.s')).map((p) => p[1]), ['a,"b"', 'two\nlines', 'x']);
  });

  it('an unclosed quote is reported with the line it starts on; the rows before it are written', async function () {
    const reports = await load();
    const b = helper.getNode('b');
    b.receive({ payload: `Timestamp,uq.v\n${T0},1\n${T0 + 1},"2\n${T0 + 2},3\n` });
    await until(() => written(reports) === 1 && callsOf(b, 'error').length >= 1, 8000);
    assert.match(errorsOf(b).join('\n'), /line 3: a quoted field opened on line 3 is never closed \(line 4 is inside it\)/);
    assert.deepEqual(await readBack(env.server.url, 'uq.v'), [[T0, 1]]);
  });

  it('text in a numeric column is reported once per column (column, line, value); numbers are written; a text column stays text', async function () {
    const reports = await load();
    const b = helper.getNode('b');
    const csv = ['Timestamp,tn.a,tn.b,tn.state', `${T0},1,10,on`, `${T0 + 1},n/a,20,off`, `${T0 + 2},3,-,on`, `${T0 + 3},err,40,1.5x`, `${T0 + 4},5,50,off`].join('\n');
    b.receive({ payload: csv });
    await until(() => written(reports) === 12 && callsOf(b, 'error').length >= 2, 8000, '12 points and two errors');
    const errs = errorsOf(b);
    assert.equal(errs.length, 2, errs.join('\n'));
    const a = errs.find((e) => e.includes('"tn.a"'));
    const bb = errs.find((e) => e.includes('"tn.b"'));
    assert.ok(a && /line 3/.test(a) && a.includes('"n/a"') && /2 text cells/.test(a), a);
    assert.ok(bb && /line 4/.test(bb) && bb.includes('"-"'), bb);
    assert.deepEqual((await readBack(env.server.url, 'tn.a')).map((p) => p[1]), [1, 3, 5]);
    assert.deepEqual((await readBack(env.server.url, 'tn.b')).map((p) => p[1]), [10, 20, 40, 50]);
    assert.deepEqual((await readBack(env.server.url, 'tn.state')).map((p) => p[1]), ['on', 'off', 'on', '1.5x', 'off']);
  });

  it('__proto__, constructor and toString work as CSV column names and as row-object keys', async function () {
    const reports = await load();
    const b = helper.getNode('b');
    b.receive({ payload: `Timestamp,__proto__,constructor,toString,valueOf\n${T0},1,2,3,on\n${T0 + 1},4,5,6,off\n` });
    await until(() => written(reports) === 8, 8000, 'eight CSV points');
    // Row objects as JSON gives them: "__proto__" is an own key there.
    b.receive({ payload: JSON.parse(`[{"Timestamp":${T0 + 2},"__proto__":7,"constructor":8,"toString":9,"valueOf":"on"}]`) });
    await until(() => written(reports) === 12, 8000, 'four row-object points');
    assert.deepEqual(errorsOf(b), []);
    assert.deepEqual((await readBack(env.server.url, '__proto__')).map((p) => p[1]), [1, 4, 7]);
    assert.deepEqual((await readBack(env.server.url, 'constructor')).map((p) => p[1]), [2, 5, 8]);
    assert.deepEqual((await readBack(env.server.url, 'toString')).map((p) => p[1]), [3, 6, 9]);
    assert.deepEqual((await readBack(env.server.url, 'valueOf')).map((p) => p[1]), ['on', 'off', 'on']);
  });

  it('a header naming a column twice is refused naming the column', async function () {
    await load();
    const b = helper.getNode('b');
    b.receive({ payload: `Timestamp,d.x,d.x\n${T0},1,2\n` });
    await until(() => callsOf(b, 'error').length >= 1);
    assert.match(errorsOf(b)[0], /d\.x.*twice/);
  });
});
