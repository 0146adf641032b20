/**
 * CSV text with a header line to row objects, for the batch node: RFC 4180 quoting ("" inside quoted
 * fields, delimiters and line breaks in quotes), LF, CRLF or CR line ends, a leading BOM, blank lines
 * skipped, spaces around fields trimmed (inside quotes they are kept).
 *
 * Written for large messages (100,000 rows × 10 columns): the text is scanned with charCodeAt/indexOf
 * (twice, see readCsv), and the work is cut into slices of `sliceRows` records with a yield to the event
 * loop between them, so a big message never blocks Node-RED for long.
 *
 * Bad rows cost only themselves: a record with more or fewer fields than the header, or with broken
 * quoting, is reported with its line number and left out; the other rows are returned. Cell types are
 * decided per column: a column whose non-empty cells are mostly numbers is numeric, and its text cells
 * ("n/a", "-") are reported once per column (column, first line, value, count) and left out instead of
 * becoming a second, text series of the metric; a column mostly of text stays text (its number-like
 * cells kept as text, reported once). Empty cells are gaps.
 *
 * Rows are ordinary objects, but a "__proto__" column is defined as an own property, so every header
 * (also "constructor" or "toString") is a plain column name.
 */
import { ValidationError } from '../errors';
import { setOwn } from '../util/own-key';
import type { Row } from '../types';

export interface CsvRowsOptions {
  /** One character; default ",". */
  delimiter?: string;
  /** The timestamp column, which the header must name: its cells are converted like the others but never counted as text problems. */
  timestampColumn: string;
  /** More data records than this is an error for the whole message (nothing returned). */
  maxRows?: number;
  /** Records handled between two yields to the event loop; default 2000. */
  sliceRows?: number;
  /** How to yield; default a setImmediate turn (timers and I/O run in between). */
  pause?: () => Promise<void>;
}

export interface CsvRows {
  /** The header's column names. */
  columns: string[];
  rows: Row[];
  /** One message per problem, naming the line (and column), for node.error. */
  errors: string[];
  /** Cells left out because of those problems. */
  rejected: number;
  /** The line each row starts on, for messages about rows[i]. */
  lines: number[];
}

const QUOTE = 34;
const LF = 10;
const CR = 13;
const SPACE = 32;
const TAB = 9;
const NUMERIC = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const immediate = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One record: its fields, the line it starts on, and why it is unusable (broken quoting). */
interface CsvRecord {
  fields: string[];
  line: number;
  error?: string;
}

/** Splits the text into records, one at a time; tracks physical line numbers (1-based). */
class CsvScanner {
  private pos = 0;
  private line = 1;

  constructor(
    private readonly text: string,
    private readonly delim: number,
  ) {
    if (text.charCodeAt(0) === 0xfeff) this.pos = 1;
  }

  private blank(c: number): boolean {
    return (c === SPACE || c === TAB) && c !== this.delim;
  }

  /** Past the line end at `i` (CRLF counts once). */
  private endLine(i: number): void {
    this.pos = this.text.charCodeAt(i) === CR && this.text.charCodeAt(i + 1) === LF ? i + 2 : i + 1;
    this.line++;
  }

  /** Line breaks in text[from, to): quoted fields may hold them. */
  private countLines(from: number, to: number): void {
    const t = this.text;
    for (let i = from; i < to; i++) {
      const c = t.charCodeAt(i);
      if (c === LF || (c === CR && t.charCodeAt(i + 1) !== LF)) this.line++;
    }
  }

  /** The next record, or undefined at the end; blank lines are skipped. */
  next(): CsvRecord | undefined {
    const t = this.text;
    const n = t.length;
    for (;;) {
      let i = this.pos;
      while (i < n && this.blank(t.charCodeAt(i))) i++;
      if (i >= n) {
        this.pos = n;
        return undefined;
      }
      const c = t.charCodeAt(i);
      if (c !== LF && c !== CR) break;
      this.endLine(i);
    }
    const rec: CsvRecord = { fields: [], line: this.line };
    for (;;) {
      let i = this.pos;
      while (i < n && this.blank(t.charCodeAt(i))) i++;
      if (t.charCodeAt(i) === QUOTE) {
        const openLine = this.line;
        let value = '';
        let seg = i + 1;
        let j = seg;
        for (;;) {
          const q = t.indexOf('"', j);
          if (q < 0) {
            // Everything to the end is inside the open quote: the record is lost, nothing after it is read.
            this.countLines(i, n);
            const last = this.text.charCodeAt(n - 1) === LF || this.text.charCodeAt(n - 1) === CR ? this.line - 1 : this.line;
            rec.error = `a quoted field opened on line ${openLine} is never closed` + (last > openLine + 1 ? ` (lines ${openLine + 1}-${last} are inside it)` : last > openLine ? ` (line ${last} is inside it)` : '');
            this.pos = n;
            return rec;
          }
          if (t.charCodeAt(q + 1) === QUOTE) {
            value += t.slice(seg, q + 1);
            j = q + 2;
            seg = j;
            continue;
          }
          value += t.slice(seg, q);
          j = q + 1;
          break;
        }
        this.countLines(i, j);
        while (j < n && this.blank(t.charCodeAt(j))) j++;
        rec.fields.push(value);
        if (j >= n) {
          this.pos = n;
          return rec;
        }
        const after = t.charCodeAt(j);
        if (after === this.delim) {
          this.pos = j + 1;
          continue;
        }
        if (after === LF || after === CR) {
          this.endLine(j);
          return rec;
        }
        rec.error = `text after the closing quote of field ${rec.fields.length}`;
        this.skipLine(j);
        return rec;
      }
      let j = i;
      let c = 0;
      while (j < n) {
        c = t.charCodeAt(j);
        if (c === this.delim || c === LF || c === CR) break;
        j++;
      }
      rec.fields.push(t.slice(i, j).trimEnd());
      if (j >= n) {
        this.pos = n;
        return rec;
      }
      if (c === this.delim) {
        this.pos = j + 1;
        continue;
      }
      this.endLine(j);
      return rec;
    }
  }

  /** Past the end of the current line, ignoring quotes (after a quoting error). */
  private skipLine(from: number): void {
    const t = this.text;
    let j = from;
    while (j < t.length && t.charCodeAt(j) !== LF && t.charCodeAt(j) !== CR) j++;
    if (j >= t.length) this.pos = t.length;
    else this.endLine(j);
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Per column: how many cells are numbers and text, and the first of the less common kind. */
interface ColumnKinds {
  numbers: number;
  texts: number;
  firstText?: { line: number; value: string };
  firstNumber?: { line: number; value: string };
}

/** What readCsv reports besides the rows it hands over. */
export interface CsvSummary {
  columns: string[];
  errors: string[];
  rejected: number;
  /** Rows handed to onRows. */
  rows: number;
}

/**
 * Reads CSV text with a header line (see the module comment) and hands its rows to `onRows` in slices of
 * at most `sliceRows`, yielding to the event loop between slices. Two scans over the text: the first
 * checks every record and counts each column's numbers and text (no cell is kept), the second builds
 * the row objects of one slice at a time, so a large message never holds all its rows as objects
 * (that many long-lived objects made the garbage collector stall the event loop for most of a second).
 * Throws ValidationError (field msg.payload) only for a message unusable as a whole: no header, a
 * column named twice, no timestamp column, too many rows, a wrong delimiter.
 */
export async function readCsv(text: string, opts: CsvRowsOptions, onRows: (rows: Row[], lines: number[]) => void): Promise<CsvSummary> {
  const delimiter = opts.delimiter ?? ',';
  if (typeof delimiter !== 'string' || delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r') {
    throw new ValidationError('csvDelimiter', delimiter, 'must be one character other than a quote or a line break');
  }
  const maxRows = opts.maxRows ?? Infinity;
  const slice = Math.max(1, opts.sliceRows ?? 2000);
  const pause = opts.pause ?? immediate;
  const delim = delimiter.charCodeAt(0);

  let scanner = new CsvScanner(text, delim);
  const head = scanner.next();
  if (!head) throw new ValidationError('msg.payload', text, 'CSV text has no header line');
  if (head.error) throw new ValidationError('msg.payload', head.fields.join(delimiter), `CSV header on line ${head.line}: ${head.error}`);
  const columns = head.fields;
  const seen = new Set<string>();
  for (const name of columns) {
    if (seen.has(name)) throw new ValidationError('msg.payload', columns.join(delimiter), `CSV header names column "${name}" twice`);
    seen.add(name);
  }
  const width = columns.length;
  const tsIndex = columns.indexOf(opts.timestampColumn);
  if (tsIndex < 0) throw new ValidationError('msg.payload', columns.join(delimiter), `CSV header has no timestamp column "${opts.timestampColumn}"`);
  const errors: string[] = [];
  let rejected = 0;
  const usable = (rec: CsvRecord): boolean => !rec.error && rec.fields.length === width;

  // Scan 1: ragged and broken records reported; cell kinds counted per column.
  const kinds: ColumnKinds[] = columns.map(() => ({ numbers: 0, texts: 0 }));
  let count = 0;
  for (let rec = scanner.next(); rec; rec = scanner.next()) {
    if (++count > maxRows) {
      throw new ValidationError('msg.payload', `more than ${maxRows} rows`, `exceeds the limit of ${maxRows} rows per message; split it or raise "max. rows"`);
    }
    if (!usable(rec)) {
      const values = rec.fields.reduce((k, f, i) => (f !== '' && i !== tsIndex ? k + 1 : k), 0);
      const lost = values ? ` (${plural(values, 'value')})` : '';
      const why = rec.error ?? `${plural(rec.fields.length, 'field')} where the header has ${width}`;
      errors.push(`msg.payload: CSV line ${rec.line}: ${why}; the row is not written${lost}`);
      rejected += values;
    } else {
      const f = rec.fields;
      for (let c = 0; c < width; c++) {
        const v = f[c];
        if (v === '' || c === tsIndex) continue;
        const k = kinds[c];
        if (NUMERIC.test(v)) {
          k.numbers++;
          k.firstNumber ??= { line: rec.line, value: v };
        } else {
          k.texts++;
          k.firstText ??= { line: rec.line, value: v };
        }
      }
    }
    if (count % slice === 0) await pause();
  }

  // A column is numeric when at least half its cells are numbers; the other kind is reported once.
  const numeric = kinds.map((k) => k.numbers > 0 && k.numbers >= k.texts);
  kinds.forEach((k, c) => {
    if (numeric[c] && k.texts > 0 && k.firstText) {
      errors.push(
        `msg.payload: CSV column "${columns[c]}": line ${k.firstText.line} has text ${JSON.stringify(k.firstText.value)} in a numeric column; ` +
          `${plural(k.texts, 'text cell')} of this column not written`,
      );
      rejected += k.texts;
    } else if (!numeric[c] && k.numbers > 0 && k.firstNumber) {
      errors.push(
        `msg.payload: CSV column "${columns[c]}": line ${k.firstNumber.line} has the number ${JSON.stringify(k.firstNumber.value)} in a text column; ` +
          `${plural(k.numbers, 'number-like cell')} of this column written as text`,
      );
    }
  });

  // Scan 2: row objects slice by slice; numbers converted, text left out of numeric columns.
  scanner = new CsvScanner(text, delim);
  scanner.next();
  let rows: Row[] = [];
  let lines: number[] = [];
  let handed = 0;
  for (let rec = scanner.next(); rec; rec = scanner.next()) {
    if (!usable(rec)) continue;
    const f = rec.fields;
    const row: Row = {};
    for (let c = 0; c < width; c++) {
      const v = f[c];
      if (v === '') continue;
      if (c === tsIndex) setOwn(row, columns[c], NUMERIC.test(v) ? Number(v) : v);
      else if (!numeric[c]) setOwn(row, columns[c], v);
      else if (NUMERIC.test(v)) setOwn(row, columns[c], Number(v));
    }
    rows.push(row);
    lines.push(rec.line);
    if (rows.length === slice) {
      handed += rows.length;
      onRows(rows, lines);
      rows = [];
      lines = [];
      await pause();
    }
  }
  if (rows.length) {
    handed += rows.length;
    onRows(rows, lines);
  }
  return { columns, errors, rejected, rows: handed };
}

/** All rows of CSV text at once (readCsv collected): for small texts and tests. */
export async function csvToRows(text: string, opts: CsvRowsOptions): Promise<CsvRows> {
  const rows: Row[] = [];
  const lines: number[] = [];
  const summary = await readCsv(text, opts, (r, l) => {
    for (let i = 0; i < r.length; i++) {
      rows.push(r[i]);
      lines.push(l[i]);
    }
  });
  return { columns: summary.columns, rows, errors: summary.errors, rejected: summary.rejected, lines };
}
