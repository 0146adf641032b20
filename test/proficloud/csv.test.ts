import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { ValidationError } from '../../src/errors';
import { generateMetricsCsv, writeMetricsCsv, type MetricsCsvEntry } from '../../src/proficloud/metrics-csv';

describe('proficloud metrics CSV', () => {
  it('writes the header and one selector;alias line per metric', () => {
    assert.equal(generateMetricsCsv(['auto~temp', { selector: 'auto~press', alias: 'Pressure' }]), 'selector;metricalias\nauto~temp;auto~temp\nauto~press;Pressure\n');
    assert.equal(generateMetricsCsv([]), 'selector;metricalias\n');
  });

  it('quotes fields that need it and round-trips through a CSV parser', () => {
    const entries: MetricsCsvEntry[] = [
      { selector: 'a;b', alias: 'say "hi"' },
      { selector: 'line\nbreak', alias: ' padded ' },
      'plain',
    ];
    const csv = generateMetricsCsv(entries);
    assert.ok(csv.includes('"a;b";"say ""hi"""'));
    const rows = parse(csv, { delimiter: ';', columns: true, trim: false }) as Array<Record<string, string>>;
    assert.deepEqual(rows, [
      { selector: 'a;b', metricalias: 'say "hi"' },
      { selector: 'line\nbreak', metricalias: ' padded ' },
      { selector: 'plain', metricalias: 'plain' },
    ]);
  });

  it('rejects bad entries naming the index and value', () => {
    const bad: Array<[unknown, string, string]> = [
      ['x', 'metrics', '"x"'],
      [[''], 'metrics[0].selector', '""'],
      [['a', 5], 'metrics[1]', '5'],
      [[{ selector: 'a', alias: '' }], 'metrics[0].alias', '""'],
      [[{ alias: 'x' }], 'metrics[0].selector', 'undefined'],
      [['a', { selector: 'a' }], 'metrics[1].selector', 'appears twice'],
      [[null], 'metrics[0]', 'null'],
    ];
    for (const [input, field, text] of bad) {
      assert.throws(
        () => generateMetricsCsv(input as MetricsCsvEntry[]),
        (e: unknown) => e instanceof ValidationError && e.field === field && e.message.includes(text),
        `${field}`,
      );
    }
  });

  it('writes the file, and names the path when it cannot', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pc-csv-'));
    try {
      const path = join(dir, 'metrics.csv');
      await writeMetricsCsv(path, ['m1', 'm2']);
      assert.equal(await readFile(path, 'utf8'), 'selector;metricalias\nm1;m1\nm2;m2\n');
      await assert.rejects(writeMetricsCsv(join(dir, 'no', 'such', 'dir.csv'), ['m']), /path: cannot write the CSV file \(ENOENT\)/);
      await assert.rejects(writeMetricsCsv('', ['m']), ValidationError);
      await assert.rejects(writeMetricsCsv(path, [''] as string[]), /metrics\[0\]\.selector/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
