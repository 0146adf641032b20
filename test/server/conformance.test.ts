// Replays the recorded KairosDB 1.3.0 corpus against a fresh local server: every case must match
// except the clock/build-dependent ones the corpus README names.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type LocalServer } from '../../src/server';
import { SHARED_DIR } from '../helpers/shared';

const SHARED = SHARED_DIR;
const ALLOWED = new Set(['001-version.json', '054-query-relative.json', '055-query-relative-end.json', '056-query-absolute-start-only.json']);

function replay(url: string): Promise<{ code: number; out: string }> {
  const script = path.join(SHARED, 'conformance', 'replay.mjs');
  const cases = path.join(SHARED, 'conformance', 'cases');
  return new Promise((resolve) => {
    execFile(process.execPath, [script, url, cases], { timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err ? Number((err as NodeJS.ErrnoException & { code?: number }).code ?? 1) : 0, out: stdout });
    });
  });
}

describe('server: KairosDB conformance corpus', function () {
  this.timeout(60_000);
  let server: LocalServer;
  let dir: string;

  before(async function () {
    if (!fs.existsSync(path.join(SHARED, 'conformance', 'cases'))) this.skip();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kairos-conf-'));
    server = await startServer({ port: 0, dataDir: dir });
  });

  after(async () => {
    await server?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('answers every recorded case like KairosDB 1.3.0', async () => {
    const { out } = await replay(server.url);
    const summary = /(\d+)\/(\d+) cases match/.exec(out);
    assert.ok(summary, `replay printed no summary:\n${out}`);
    const differing = out
      .split('\n')
      .map((l) => /^(\d{3}-[^:]+\.json):/.exec(l)?.[1])
      .filter((f): f is string => Boolean(f));
    const unexpected = differing.filter((f) => !ALLOWED.has(f));
    assert.deepEqual(unexpected, [], `cases that differ:\n${out}`);
    assert.ok(Number(summary[2]) >= 150, 'the corpus should hold the recorded cases');
  });
});
