import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { columnarTableFromBytes, rowsFromQueryResponse } from '../src/table/table-builder';
import { expectedTable, queryResponse } from '../bench/gen.mjs';
import { checkColumnar, checkRows, METHODS } from '../bench/table';

const ROOT = join(__dirname, '..');

describe('benchmark (npm run bench)', function () {
  this.timeout(150_000);

  it('runs every driver at smoke sizes, with their correctness checks, and writes the report', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
    try {
      const out = join(dir, 'BENCHMARKS.md');
      await new Promise<void>((resolve, reject) =>
        execFile(process.execPath, [join(ROOT, 'scripts', 'bench.mjs'), '--smoke', `--out=${out}`], { cwd: ROOT, timeout: 140_000 }, (err, _stdout, stderr) =>
          err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(),
        ),
      );
      const doc = readFileSync(out, 'utf8');
      for (const heading of ['0. With defaults', '1. Tables', '2a. Writes', '2b. End to end', '3. Many small messages', '4. Streaming', '5. Huge ranges', '6. Local server']) {
        assert.ok(doc.includes(`## ${heading}`), `missing section ${heading}`);
      }
      assert.match(doc, /Machine: \d+ × /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the table checks reject a wrong answer: a missing row, a changed value, a wrong order', function () {
    const points = 300;
    const buf = queryResponse(3, points);
    const exp = expectedTable(3, points);
    const t = columnarTableFromBytes(buf, { fillNaMethod: 'ffill' });
    checkColumnar(t, exp.keptRows, exp.ffillSums);
    assert.throws(() => checkColumnar(t, exp.keptRows - 1, exp.ffillSums), /wrong answer: columnar rows/);
    const changed = columnarTableFromBytes(buf, { fillNaMethod: 'ffill' });
    (changed.cells[1] as Float64Array)[7] += 0.5;
    assert.throws(() => checkColumnar(changed, exp.keptRows, exp.ffillSums), /wrong answer: columnar sum of m1/);
    const desc = columnarTableFromBytes(buf, { fillNaMethod: 'ffill', orderDesc: true });
    assert.throws(() => checkColumnar(desc, exp.keptRows, exp.ffillSums), /wrong answer/);
    // Without fill the cut keeps the same rows; keeping every row is a wrong answer.
    checkRows(rowsFromQueryResponse(buf), exp.keptRows, exp.sums);
    assert.throws(() => checkRows(rowsFromQueryResponse(buf, { dropTrailingNa: false }), exp.keptRows, exp.sums), /wrong answer: rows/);
    // Every timed method passes its own check on correct input.
    for (const run of Object.values(METHODS)) run(buf, exp);
  });
});
