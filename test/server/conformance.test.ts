// Replays the recorded KairosDB 1.3.0 corpus against a fresh local server: every case must match
// except the clock/build-dependent ones the corpus README names.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type LocalServer } from '../../src/server';
import { CASES_DIR } from '../helpers/fixtures';
import { replayCases } from '../helpers/replay';

const ALLOWED = new Set(['001-version.json', '054-query-relative.json', '055-query-relative-end.json', '056-query-absolute-start-only.json']);

describe('server: KairosDB conformance corpus', function () {
  this.timeout(60_000);
  let server: LocalServer;
  let dir: string;

  before(async function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kairos-conf-'));
    server = await startServer({ port: 0, dataDir: dir });
  });

  after(async () => {
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers every recorded case like KairosDB 1.3.0', async () => {
    const { total, differing } = await replayCases(server.url, CASES_DIR);
    const unexpected = differing.filter((line) => !ALLOWED.has(line.slice(0, line.indexOf(':'))));
    assert.deepEqual(unexpected, [], `cases that differ:\n${differing.join('\n')}`);
    assert.ok(total >= 150, `the corpus should hold the recorded cases, found ${total}`);
  });
});
