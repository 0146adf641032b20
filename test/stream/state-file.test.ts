import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateFile } from '../../src/stream';

describe('StateFile: a stream position on disk', () => {
  let dir: string;
  beforeEach(() => {
    dir = join(mkdtempSync(join(tmpdir(), 'state-file-')), 'nested');
  });
  afterEach(() => rmSync(join(dir, '..'), { recursive: true, force: true }));

  it('commit writes the state and clears the in-flight marker; load reads both', async () => {
    const f = new StateFile<{ n: number }>(dir, 'node1');
    assert.deepEqual(await f.load(), { journal: [] });
    await f.beginSend(1234);
    assert.deepEqual(await f.load(), { journal: [], inFlightEnd: 1234 }, 'a crash now: no state yet, the marker says what was in flight');
    await f.commit({ n: 1 });
    assert.deepEqual(await f.load(), { state: { n: 1 }, journal: [] });
    assert.equal(existsSync(join(dir, 'node1.inflight')), false);
    assert.equal(existsSync(join(dir, 'node1.json.tmp')), false);
  });

  it('an unchanged state is not written again', async () => {
    const f = new StateFile<{ n: number }>(dir, 'x');
    await f.commit({ n: 1 });
    const before = statSync(join(dir, 'x.json')).mtimeMs;
    writeFileSync(join(dir, 'x.json'), JSON.stringify({ n: 99 }));
    await f.commit({ n: 1 });
    assert.equal(readFileSync(join(dir, 'x.json'), 'utf8'), JSON.stringify({ n: 99 }), 'skipped: same text as the last write');
    assert.ok(before > 0);
    await f.commit({ n: 2 });
    assert.deepEqual((await f.load()).state, { n: 2 });
  });

  it('a damaged state file is an error naming the file; a torn marker still counts as in flight; clear removes both', async () => {
    const f = new StateFile<unknown>(dir, 'y');
    await f.commit({ ok: true });
    writeFileSync(join(dir, 'y.json'), '{"ok": tr');
    await assert.rejects(f.load(), /y\.json is damaged/);
    writeFileSync(join(dir, 'y.json'), '{}');
    writeFileSync(join(dir, 'y.inflight'), '{"en');
    const loaded = await f.load();
    assert.ok(typeof loaded.inFlightEnd === 'number' && loaded.inFlightEnd > 0);
    await f.clear();
    assert.deepEqual(await f.load(), { journal: [] });
  });

  it('journal: records appended after a snapshot come back in order; a torn last line ends it; a snapshot empties it', async () => {
    const f = new StateFile<{ n: number }, { d: number }>(dir, 'j');
    await f.commit({ n: 1 });
    await f.beginSend(10);
    await f.append({ d: 1 });
    await f.append({ d: 2 });
    assert.equal(existsSync(join(dir, 'j.inflight')), false);
    assert.ok(f.journalBytes > 0);
    assert.deepEqual(await new StateFile(dir, 'j').load(), { state: { n: 1 }, journal: [{ d: 1 }, { d: 2 }] });
    // A crash in the middle of an append: the torn line is left out, the marker says a send was in flight.
    writeFileSync(join(dir, 'j.journal'), readFileSync(join(dir, 'j.journal'), 'utf8') + '{"d": 3');
    writeFileSync(join(dir, 'j.inflight'), JSON.stringify({ end: 99 }));
    assert.deepEqual(await new StateFile(dir, 'j').load(), { state: { n: 1 }, journal: [{ d: 1 }, { d: 2 }], inFlightEnd: 99 });
    await f.commit({ n: 3 });
    assert.equal(existsSync(join(dir, 'j.journal')), false);
    assert.equal(f.journalBytes, 0);
    assert.deepEqual(await new StateFile(dir, 'j').load(), { state: { n: 3 }, journal: [] });
  });
});
