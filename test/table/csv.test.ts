import assert from 'node:assert/strict';
import { parse } from 'csv-parse/sync';
import { csvToRows } from '../../src/table/csv-reader';
import { ValidationError } from '../../src/errors';
import { seededRandom } from '../helpers/random';

const PIECES = ['1', '-2.5', '3e2', 'on', 'a b', 'x"y', 'p,q', 'two\nlines', 'crlf\r\nin', '', ' pad ', ';', '\t'];

/** A random well-formed CSV table (every row as wide as the header) with quoting where needed. */
function randomCsv(rnd: () => number, delimiter: string): { text: string; cells: string[][] } {
  const width = 1 + Math.floor(rnd() * 4);
  const header = ['Timestamp', ...Array.from({ length: width }, (_, c) => `c${c}`)];
  const cells: string[][] = [];
  const rows = Math.floor(rnd() * 12);
  for (let r = 0; r < rows; r++) cells.push([String(1700000000000 + r), ...Array.from({ length: width }, () => PIECES[Math.floor(rnd() * PIECES.length)])]);
  const field = (v: string): string => {
    const needs = /["\r\n]/.test(v) || v.includes(delimiter) || v !== v.trim() || rnd() < 0.2;
    return needs ? `"${v.replace(/"/g, '""')}"` : v;
  };
  const eol = rnd() < 0.5 ? '\n' : '\r\n';
  const lines = [header, ...cells].map((r) => r.map(field).join(delimiter));
  return { text: (rnd() < 0.3 ? '\ufeff' : '') + lines.join(eol) + (rnd() < 0.5 ? eol : ''), cells };
}

describe('csvToRows', () => {
  it('reads 500 random tables like csv-parse (RFC 4180 quoting, CRLF, BOM, delimiters), fixed seeds', async () => {
    for (let seed = 1; seed <= 500; seed++) {
      const rnd = seededRandom(seed);
      const delimiter = [',', ';', '\t'][seed % 3];
      const { text } = randomCsv(rnd, delimiter);
      const got = await csvToRows(text, { delimiter, timestampColumn: 'Timestamp' });
      const ref = parse(text, { delimiter, bom: true, skip_empty_lines: true, trim: true, relax_quotes: false }) as string[][];
      assert.deepEqual(got.columns, ref[0], `seed ${seed}: header`);
      assert.equal(got.rows.length, ref.length - 1, `seed ${seed}: rows`);
      // Cell by cell: text kept, numbers converted where the column is numeric (per the majority rule).
      got.rows.forEach((row, r) => {
        ref[r + 1].forEach((v, c) => {
          const cell = row[ref[0][c]];
          if (v === '') assert.equal(cell, undefined, `seed ${seed} row ${r} col ${c}: empty is a gap`);
          else if (typeof cell === 'number') assert.equal(cell, Number(v), `seed ${seed} row ${r} col ${c}`);
          else if (cell !== undefined) assert.equal(cell, v, `seed ${seed} row ${r} col ${c}`);
        });
      });
      const lost = got.rows.reduce((n, row, r) => n + ref[r + 1].filter((v, c) => v !== '' && row[ref[0][c]] === undefined).length, 0);
      assert.equal(lost, got.rejected, `seed ${seed}: every cell left out is counted and reported`);
      if (lost) assert.ok(got.errors.length > 0, `seed ${seed}: left-out cells are reported`);
    }
  });

  it('loses no good row among random ragged rows, quoted fields and a text cell, and reports each bad one by its line (300 fixed seeds)', async () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rnd = seededRandom(seed * 7919);
      const width = 2 + Math.floor(rnd() * 4);
      const header = ['Timestamp', ...Array.from({ length: width - 1 }, (_, c) => `m${c}`)];
      const lines = [header.join(',')];
      const good = new Map<number, string[]>(); // line -> fields
      const ragged = new Map<number, number>(); // line -> field count
      let textLine: number | undefined;
      const rows = 1 + Math.floor(rnd() * 40);
      for (let r = 0; r < rows; r++) {
        const line = lines.length + 1;
        const fields = [String(1700000000000 + r), ...Array.from({ length: width - 1 }, () => String(Math.floor(rnd() * 1000) / 10))];
        const roll = rnd();
        if (roll < 0.15) {
          const n = rnd() < 0.5 ? width + 1 + Math.floor(rnd() * 2) : Math.max(1, width - 1 - Math.floor(rnd() * 2));
          const f = Array.from({ length: n }, (_, i) => fields[i] ?? '9');
          lines.push(f.join(','));
          ragged.set(line, n);
        } else if (roll < 0.2 && textLine === undefined && width > 1) {
          // one text cell in the numeric column m0 (all other m0 cells are numbers)
          fields[1] = 'n/a';
          lines.push(fields.join(','));
          good.set(line, fields);
          textLine = line;
        } else if (roll < 0.3) {
          // quoted numbers are still numbers
          lines.push(fields.map((f) => `"${f}"`).join(','));
          good.set(line, fields);
        } else {
          lines.push(fields.join(','));
          good.set(line, fields);
        }
      }
      const text = lines.join(rnd() < 0.5 ? '\n' : '\r\n') + '\n';
      const got = await csvToRows(text, { timestampColumn: 'Timestamp', sliceRows: 1 + Math.floor(rnd() * 7) });
      assert.deepEqual(got.lines, [...good.keys()], `seed ${seed}: the good rows, in order`);
      got.rows.forEach((row, i) => {
        const fields = good.get(got.lines[i]) as string[];
        header.forEach((h, c) => {
          const want = fields[c] === 'n/a' ? undefined : Number(fields[c]);
          assert.equal(row[h], want, `seed ${seed} line ${got.lines[i]} column ${h}`);
        });
      });
      for (const [line, n] of ragged) {
        assert.ok(got.errors.some((e) => e.includes(`CSV line ${line}: ${n} field${n === 1 ? '' : 's'} where the header has ${width}`)), `seed ${seed}: line ${line} reported\n${got.errors.join('\n')}`);
      }
      if (textLine !== undefined) assert.ok(got.errors.some((e) => e.includes(`column "m0": line ${textLine} has text "n/a"`)), `seed ${seed}: text cell reported`);
      assert.equal(got.errors.length, ragged.size + (textLine !== undefined ? 1 : 0), `seed ${seed}: no other errors\n${got.errors.join('\n')}`);
    }
  });

  it('reports ragged rows with line and field counts and keeps the others', async () => {
    const got = await csvToRows('Timestamp,m\n1735689600000,1\n1735689600001,2,3\n\n1735689600002,4\n', { timestampColumn: 'Timestamp' });
    assert.deepEqual(
      got.rows.map((r) => [r.Timestamp, r.m]),
      [
        [1735689600000, 1],
        [1735689600002, 4],
      ],
    );
    assert.deepEqual(got.errors, ['msg.payload: CSV line 3: 3 fields where the header has 2; the row is not written (2 values)']);
    assert.deepEqual(got.lines, [2, 5]);
    assert.equal(got.rejected, 2);
  });

  it('reports text in a numeric column once, numbers in a text column once, and keeps text-only columns', async () => {
    const got = await csvToRows('T;a;s;t\n1;1;x;on\n2;n/a;y;off\n3;-;2;on\n4;4;z;off\n', { delimiter: ';', timestampColumn: 'T' });
    assert.deepEqual(got.errors, [
      'msg.payload: CSV column "a": line 3 has text "n/a" in a numeric column; 2 text cells of this column not written',
      'msg.payload: CSV column "s": line 4 has the number "2" in a text column; 1 number-like cell of this column written as text',
    ]);
    assert.deepEqual(
      got.rows.map((r) => [r.T, r.a, r.s, r.t]),
      [
        [1, 1, 'x', 'on'],
        [2, undefined, 'y', 'off'],
        [3, undefined, '2', 'on'],
        [4, 4, 'z', 'off'],
      ],
    );
    assert.equal(got.rejected, 2);
  });

  it('makes "__proto__", "constructor" and "toString" plain own columns', async () => {
    const got = await csvToRows('Timestamp,__proto__,constructor,toString\n1,2,3,4\n', { timestampColumn: 'Timestamp' });
    const row = got.rows[0];
    assert.deepEqual(Object.keys(row), ['Timestamp', '__proto__', 'constructor', 'toString']);
    assert.equal(Object.getPrototypeOf(row), Object.prototype, 'the prototype is untouched');
    assert.equal(Object.getOwnPropertyDescriptor(row, '__proto__')?.value, 2);
    assert.equal(row.constructor, 3);
  });

  it('refuses a message that is unusable as a whole, naming the field', async () => {
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['T,a,a\n1,2,3\n', {}, /column "a" twice/],
      ['time,a\n1,2\n', {}, /no timestamp column "T"/],
      ['T,a\n1,2\n2,3\n3,4\n', { maxRows: 2 }, /exceeds the limit of 2 rows/],
      ['T,a\n', { delimiter: ',,' }, /csvDelimiter/],
      ['   \n\n', {}, /no header/],
      ['"T,a\n1,2\n', {}, /never closed/],
    ];
    for (const [text, extra, re] of cases) {
      await assert.rejects(csvToRows(text, { timestampColumn: 'T', ...extra }), (e: unknown) => e instanceof ValidationError && re.test(e.message), text);
    }
  });

  it('yields to the event loop between slices of a large message', async () => {
    const rows = 20_000;
    const lines = ['Timestamp,a,b,c'];
    for (let i = 0; i < rows; i++) lines.push(`${1735689600000 + i},${i},${i / 2},"q${i}"`);
    let pauses = 0;
    const got = await csvToRows(lines.join('\n'), {
      timestampColumn: 'Timestamp',
      sliceRows: 1000,
      pause: () => {
        pauses++;
        return new Promise((r) => setImmediate(r));
      },
    });
    assert.equal(got.rows.length, rows);
    // one pause per 1000 records while scanning and per 1000 rows while building objects
    assert.equal(pauses, 2 * (rows / 1000));
    // and the default really lets timers run in between: a 0 ms interval fires during the parse
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    try {
      await csvToRows(lines.join('\n'), { timestampColumn: 'Timestamp', sliceRows: 500 });
    } finally {
      clearInterval(timer);
    }
    assert.ok(ticks > 0, 'a timer ran while the CSV was parsed');
  });
});
