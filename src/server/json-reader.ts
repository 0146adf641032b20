/**
 * A small pull reader for JSON that fails the way Gson's JsonReader does: same token names, the
 * same `at line L column C path $...` locations and the same leniency switch. KairosDB answers
 * malformed bodies with Gson's messages, and clients (ours included) show them, so the local server
 * produces them too. It is also the push parser's fast path: it keeps each number's text, which
 * KairosDB uses to choose long or double.
 */

export type JsonToken =
  | 'BEGIN_ARRAY'
  | 'END_ARRAY'
  | 'BEGIN_OBJECT'
  | 'END_OBJECT'
  | 'NAME'
  | 'STRING'
  | 'NUMBER'
  | 'BOOLEAN'
  | 'NULL'
  | 'END_DOCUMENT';

/** A Gson failure: `javaClass` is what Gson's wrapping exception would print before the message. */
export class GsonError extends Error {
  readonly javaClass: string;
  constructor(javaClass: string, message: string) {
    super(message);
    this.javaClass = javaClass;
  }
  /** Java's Throwable.toString(), which is what a wrapping JsonSyntaxException carries as its message. */
  wrapped(): string {
    return `${this.javaClass}: ${this.message}`;
  }
}

export const EOF_CLASS = 'java.io.EOFException';
export const MALFORMED_CLASS = 'com.google.gson.stream.MalformedJsonException';
export const STATE_CLASS = 'java.lang.IllegalStateException';
export const NUMBER_FORMAT_CLASS = 'java.lang.NumberFormatException';

// Scopes of the reader's stack, as Gson names them.
const EMPTY_ARRAY = 1;
const NONEMPTY_ARRAY = 2;
const EMPTY_OBJECT = 3;
const DANGLING_NAME = 4;
const NONEMPTY_OBJECT = 5;
const EMPTY_DOCUMENT = 6;
const NONEMPTY_DOCUMENT = 7;

/** A primitive as read from the text: numbers keep their literal so long/double can be decided. */
export type JsonPrimitive =
  | { kind: 'number'; text: string }
  | { kind: 'string'; value: string }
  | { kind: 'boolean'; value: boolean }
  | { kind: 'null' };

export class JsonReader {
  private readonly text: string;
  private pos = 0;
  private lineNumber = 0;
  private lineStart = 0;
  lenient: boolean;
  private stack: number[] = [EMPTY_DOCUMENT];
  private pathNames: Array<string | undefined> = [undefined];
  private pathIndices: number[] = [0];
  private peeked: JsonToken | null = null;
  /** Text of a peeked string/name/number/keyword. */
  private peekedText = '';

  constructor(text: string, lenient = false) {
    this.text = text;
    this.lenient = lenient;
  }

  getPath(): string {
    let out = '$';
    for (let i = 1; i < this.stack.length; i++) {
      const s = this.stack[i];
      if (s === EMPTY_ARRAY || s === NONEMPTY_ARRAY) out += `[${this.pathIndices[i]}]`;
      else if (s === EMPTY_OBJECT || s === DANGLING_NAME || s === NONEMPTY_OBJECT) out += '.' + (this.pathNames[i] ?? '');
    }
    return out;
  }

  locationString(): string {
    return ` at line ${this.lineNumber + 1} column ${this.pos - this.lineStart + 1} path ${this.getPath()}`;
  }

  /** Where the reader is, as Gson writes it in its own messages. */
  private syntaxError(message: string): GsonError {
    return new GsonError(MALFORMED_CLASS, message + this.locationString());
  }

  private checkLenient(): void {
    if (!this.lenient) throw this.syntaxError('Use JsonReader.setLenient(true) to accept malformed JSON');
  }

  private eof(): GsonError {
    return new GsonError(EOF_CLASS, 'End of input' + this.locationString());
  }

  /** Next non-whitespace char code (consumed), skipping comments in lenient mode; -1 at the end. */
  private nextNonWhitespace(throwOnEof: boolean): number {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos++);
      if (c === 0x0a) {
        this.lineNumber++;
        this.lineStart = this.pos;
        continue;
      }
      if (c === 0x20 || c === 0x0d || c === 0x09) continue;
      if (c === 0x2f /* / */ && this.pos < t.length) {
        const n = t.charCodeAt(this.pos);
        if (n === 0x2a /* * */) {
          this.checkLenient();
          const end = t.indexOf('*/', this.pos + 1);
          if (end < 0) throw this.syntaxError('Unterminated comment');
          this.pos = end + 2;
          continue;
        }
        if (n === 0x2f) {
          this.checkLenient();
          this.skipToEndOfLine();
          continue;
        }
        return c;
      }
      if (c === 0x23 /* # */) {
        this.checkLenient();
        this.skipToEndOfLine();
        continue;
      }
      return c;
    }
    if (throwOnEof) throw this.eof();
    return -1;
  }

  private skipToEndOfLine(): void {
    const end = this.text.indexOf('\n', this.pos);
    this.pos = end < 0 ? this.text.length : end;
  }

  peek(): JsonToken {
    if (this.peeked === null) this.peeked = this.doPeek();
    return this.peeked;
  }

  private doPeek(): JsonToken {
    const depth = this.stack.length - 1;
    const top = this.stack[depth];
    if (top === EMPTY_ARRAY) {
      this.stack[depth] = NONEMPTY_ARRAY;
    } else if (top === NONEMPTY_ARRAY) {
      const c = this.nextNonWhitespace(true);
      if (c === 0x5d /* ] */) return 'END_ARRAY';
      if (c === 0x3b /* ; */) this.checkLenient();
      else if (c !== 0x2c /* , */) throw this.syntaxError('Unterminated array');
    } else if (top === EMPTY_OBJECT || top === NONEMPTY_OBJECT) {
      this.stack[depth] = DANGLING_NAME;
      if (top === NONEMPTY_OBJECT) {
        const c = this.nextNonWhitespace(true);
        if (c === 0x7d /* } */) return 'END_OBJECT';
        if (c === 0x3b) this.checkLenient();
        else if (c !== 0x2c) throw this.syntaxError('Unterminated object');
      }
      const c = this.nextNonWhitespace(true);
      if (c === 0x22 /* " */) {
        this.peekedText = this.readQuoted(0x22);
        return 'NAME';
      }
      if (c === 0x27 /* ' */) {
        this.checkLenient();
        this.peekedText = this.readQuoted(0x27);
        return 'NAME';
      }
      if (c === 0x7d) {
        if (top !== NONEMPTY_OBJECT) return 'END_OBJECT';
        throw this.syntaxError('Expected name');
      }
      this.checkLenient();
      this.pos--;
      if (isLiteral(c)) {
        this.peekedText = this.readUnquoted();
        return 'NAME';
      }
      throw this.syntaxError('Expected name');
    } else if (top === DANGLING_NAME) {
      this.stack[depth] = NONEMPTY_OBJECT;
      const c = this.nextNonWhitespace(true);
      if (c === 0x3d /* = */) {
        this.checkLenient();
        if (this.text.charCodeAt(this.pos) === 0x3e) this.pos++;
      } else if (c !== 0x3a /* : */) {
        throw this.syntaxError("Expected ':'");
      }
    } else if (top === EMPTY_DOCUMENT) {
      this.stack[depth] = NONEMPTY_DOCUMENT;
    } else if (top === NONEMPTY_DOCUMENT) {
      const c = this.nextNonWhitespace(false);
      if (c === -1) return 'END_DOCUMENT';
      this.checkLenient();
      this.pos--;
    }

    const c = this.nextNonWhitespace(true);
    switch (c) {
      case 0x5d /* ] */:
        if (top === EMPTY_ARRAY) return 'END_ARRAY';
        // In lenient mode a ']' after ',' reads as null, as in Gson.
        if (top === EMPTY_ARRAY || top === NONEMPTY_ARRAY) {
          this.checkLenient();
          this.pos--;
          return 'NULL';
        }
        throw this.syntaxError('Unexpected value');
      case 0x3b:
      case 0x2c:
        if (top === EMPTY_ARRAY || top === NONEMPTY_ARRAY) {
          this.checkLenient();
          this.pos--;
          return 'NULL';
        }
        throw this.syntaxError('Unexpected value');
      case 0x27:
        this.checkLenient();
        this.peekedText = this.readQuoted(0x27);
        return 'STRING';
      case 0x22:
        this.peekedText = this.readQuoted(0x22);
        return 'STRING';
      case 0x5b:
        return 'BEGIN_ARRAY';
      case 0x7b:
        return 'BEGIN_OBJECT';
      default:
        this.pos--;
    }
    const kw = this.peekKeyword();
    if (kw) return kw;
    if (this.peekNumber()) return 'NUMBER';
    if (!isLiteral(this.text.charCodeAt(this.pos))) throw this.syntaxError('Expected value');
    this.checkLenient();
    this.peekedText = this.readUnquoted();
    return 'STRING';
  }

  private peekKeyword(): JsonToken | null {
    const t = this.text;
    for (const [word, tok] of KEYWORDS) {
      const end = this.pos + word.length;
      if (end > t.length) continue;
      const cand = t.slice(this.pos, end);
      if (cand !== word && !(this.lenient && cand.toLowerCase() === word)) continue;
      if (end < t.length && isLiteral(t.charCodeAt(end))) continue;
      this.peekedText = cand.toLowerCase();
      // Gson leaves pos before a keyword until it is consumed: errors point at its first char.
      this.pendingAdvance = word.length;
      return tok;
    }
    return null;
  }

  private pendingAdvance = 0;

  /** Recognises a JSON number at pos without consuming it (Gson reports errors at its start). */
  private peekNumber(): boolean {
    const t = this.text;
    let i = this.pos;
    if (t.charCodeAt(i) === 0x2d) i++;
    const intStart = i;
    while (i < t.length && isDigit(t.charCodeAt(i))) i++;
    if (i === intStart) return false;
    if (t.charCodeAt(i) === 0x2e) {
      i++;
      const f = i;
      while (i < t.length && isDigit(t.charCodeAt(i))) i++;
      if (i === f) return false;
    }
    const e = t.charCodeAt(i);
    if (e === 0x65 || e === 0x45) {
      i++;
      const s = t.charCodeAt(i);
      if (s === 0x2b || s === 0x2d) i++;
      const f = i;
      while (i < t.length && isDigit(t.charCodeAt(i))) i++;
      if (i === f) return false;
    }
    if (i < t.length && isLiteral(t.charCodeAt(i))) return false;
    this.peekedText = t.slice(this.pos, i);
    this.pendingAdvance = i - this.pos;
    return true;
  }

  /**
   * Reads a quoted string whose opening quote was just consumed, then rewinds to just after that
   * quote: Gson reports errors about a peeked string there, and moves on only when it is consumed.
   */
  private readQuoted(quote: number): string {
    const start = { pos: this.pos, line: this.lineNumber, lineStart: this.lineStart };
    const s = this.scanQuoted(quote);
    this.pendingState = { pos: this.pos, line: this.lineNumber, lineStart: this.lineStart };
    this.pos = start.pos;
    this.lineNumber = start.line;
    this.lineStart = start.lineStart;
    return s;
  }

  private pendingState: { pos: number; line: number; lineStart: number } | null = null;

  private scanQuoted(quote: number): string {
    const t = this.text;
    let start = this.pos;
    let out = '';
    for (;;) {
      const q = t.indexOf(String.fromCharCode(quote), this.pos);
      const b = t.indexOf('\\', this.pos);
      if (q < 0) {
        this.pos = t.length;
        throw this.syntaxError('Unterminated string');
      }
      if (b < 0 || q < b) {
        out += t.slice(start, q);
        this.countNewlines(start, q);
        this.pos = q + 1;
        return out;
      }
      out += t.slice(start, b);
      this.countNewlines(start, b);
      this.pos = b + 1;
      out += this.readEscape();
      start = this.pos;
    }
  }

  private countNewlines(from: number, to: number): void {
    let i = this.text.indexOf('\n', from);
    while (i >= 0 && i < to) {
      this.lineNumber++;
      this.lineStart = i + 1;
      i = this.text.indexOf('\n', i + 1);
    }
  }

  private readEscape(): string {
    if (this.pos >= this.text.length) throw this.syntaxError('Unterminated escape sequence');
    const c = this.text[this.pos++];
    switch (c) {
      case 'u': {
        const hex = this.text.slice(this.pos, this.pos + 4);
        if (hex.length < 4) throw this.syntaxError('Unterminated escape sequence');
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new GsonError(NUMBER_FORMAT_CLASS, '\\u' + hex);
        this.pos += 4;
        return String.fromCharCode(parseInt(hex, 16));
      }
      case 't':
        return '\t';
      case 'b':
        return '\b';
      case 'n':
        return '\n';
      case 'r':
        return '\r';
      case 'f':
        return '\f';
      case '\n':
        this.lineNumber++;
        this.lineStart = this.pos;
        return c;
      case "'":
      case '"':
      case '\\':
      case '/':
        return c;
      default:
        throw this.syntaxError('Invalid escape sequence');
    }
  }

  private readUnquoted(): string {
    const t = this.text;
    let i = this.pos;
    while (i < t.length && isLiteral(t.charCodeAt(i))) i++;
    const s = t.slice(this.pos, i);
    this.pendingAdvance = i - this.pos;
    return s;
  }

  /** Consumes the peeked token; literals and numbers only move pos now, as in Gson. */
  private consume(): void {
    if (this.pendingState) {
      this.pos = this.pendingState.pos;
      this.lineNumber = this.pendingState.line;
      this.lineStart = this.pendingState.lineStart;
      this.pendingState = null;
    }
    this.pos += this.pendingAdvance;
    this.pendingAdvance = 0;
    this.peeked = null;
  }

  private afterValue(): void {
    this.pathIndices[this.stack.length - 1]++;
  }

  private unexpected(expected: string): GsonError {
    return new GsonError(STATE_CLASS, `Expected ${expected} but was ${this.peek()}${this.locationString()}`);
  }

  beginArray(): void {
    this.enter('BEGIN_ARRAY', EMPTY_ARRAY);
  }

  endArray(): void {
    this.leave('END_ARRAY');
  }

  beginObject(): void {
    this.enter('BEGIN_OBJECT', EMPTY_OBJECT);
  }

  endObject(): void {
    this.leave('END_OBJECT');
  }

  private enter(token: 'BEGIN_ARRAY' | 'BEGIN_OBJECT', scope: number): void {
    if (this.peek() !== token) throw this.unexpected(token);
    this.consume();
    this.stack.push(scope);
    this.pathIndices.push(0);
    this.pathNames.push(undefined);
  }

  private leave(token: 'END_ARRAY' | 'END_OBJECT'): void {
    if (this.peek() !== token) throw this.unexpected(token);
    this.consume();
    this.pop();
  }

  private pop(): void {
    this.stack.pop();
    this.pathIndices.pop();
    this.pathNames.pop();
    this.afterValue();
  }

  hasNext(): boolean {
    const p = this.peek();
    return p !== 'END_OBJECT' && p !== 'END_ARRAY' && p !== 'END_DOCUMENT';
  }

  nextName(): string {
    if (this.peek() !== 'NAME') throw this.unexpected('a name');
    const s = this.peekedText;
    this.consume();
    this.pathNames[this.stack.length - 1] = s;
    return s;
  }

  /** Reads a string, or a number's text (Gson's nextString accepts both). */
  nextString(): string {
    const p = this.peek();
    if (p !== 'STRING' && p !== 'NUMBER') throw this.unexpected('a string');
    const s = this.peekedText;
    this.consume();
    this.afterValue();
    return s;
  }

  /** Reads any primitive, keeping number text. */
  nextPrimitive(): JsonPrimitive {
    const p = this.peek();
    let v: JsonPrimitive;
    if (p === 'NUMBER') v = { kind: 'number', text: this.peekedText };
    else if (p === 'STRING') v = { kind: 'string', value: this.peekedText };
    else if (p === 'BOOLEAN') v = { kind: 'boolean', value: this.peekedText === 'true' };
    else if (p === 'NULL') v = { kind: 'null' };
    else throw this.unexpected('a primitive');
    this.consume();
    this.afterValue();
    return v;
  }

  /** Gson's nextLong on the streaming reader (strings holding a number are accepted). */
  nextLong(): number {
    const p = this.peek();
    if (p !== 'NUMBER' && p !== 'STRING') throw this.unexpected('a long');
    const text = this.peekedText;
    const n = javaLongOf(text);
    if (n === null) {
      if (p === 'NUMBER') throw new GsonError(NUMBER_FORMAT_CLASS, `Expected a long but was ${text}${this.locationString()}`);
      throw new GsonError(NUMBER_FORMAT_CLASS, `For input string: "${text}"`);
    }
    this.consume();
    this.afterValue();
    return n;
  }

  skipValue(): void {
    let depth = 0;
    do {
      const p = this.peek();
      if (p === 'BEGIN_ARRAY') {
        this.beginArray();
        depth++;
      } else if (p === 'BEGIN_OBJECT') {
        this.beginObject();
        depth++;
      } else if (p === 'END_ARRAY') {
        this.endArray();
        depth--;
      } else if (p === 'END_OBJECT') {
        this.endObject();
        depth--;
      } else if (p === 'NAME') {
        this.nextName();
      } else if (p === 'END_DOCUMENT') {
        throw this.eof();
      } else {
        this.nextPrimitive();
      }
    } while (depth > 0);
  }

  /** Reads a whole value as plain JS (numbers as JS numbers; lenient NaN etc. become strings). */
  readTree(): unknown {
    const p = this.peek();
    if (p === 'BEGIN_ARRAY') {
      const out: unknown[] = [];
      this.beginArray();
      while (this.hasNext()) out.push(this.readTree());
      this.endArray();
      return out;
    }
    if (p === 'BEGIN_OBJECT') {
      const entries: Array<[string, unknown]> = [];
      this.beginObject();
      while (this.hasNext()) {
        const k = this.nextName();
        entries.push([k, this.readTree()]);
      }
      this.endObject();
      // Own keys for every name, "__proto__" included (an assignment would set the prototype).
      return Object.fromEntries(entries);
    }
    if (p === 'END_DOCUMENT') throw this.eof();
    const v = this.nextPrimitive();
    if (v.kind === 'number') return Number(v.text);
    if (v.kind === 'null') return null;
    return v.value;
  }
}

const KEYWORDS: Array<[string, JsonToken]> = [
  ['true', 'BOOLEAN'],
  ['false', 'BOOLEAN'],
  ['null', 'NULL'],
];

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/** Gson's isLiteral: chars that end an unquoted token. */
function isLiteral(c: number): boolean {
  switch (c) {
    case 0x2f: // /
    case 0x5c: // \
    case 0x3b: // ;
    case 0x23: // #
    case 0x3d: // =
    case 0x7b:
    case 0x7d:
    case 0x5b:
    case 0x5d:
    case 0x3a:
    case 0x2c:
    case 0x20:
    case 0x09:
    case 0x0c:
    case 0x0d:
    case 0x0a:
      return false;
    default:
      return !Number.isNaN(c);
  }
}

/**
 * Java's `new BigDecimal(text).longValue()` for in-range values, or Long.parseLong for plain
 * integers: fractions truncate toward zero (so "1e-7" is 0). Null when the text is no number.
 */
export function javaLongOf(text: string): number | null {
  if (/^[+-]?\d+$/.test(text)) return Number(text);
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) return null;
  const n = Math.trunc(Number(text));
  return Object.is(n, -0) ? 0 : n;
}

/**
 * Parses a whole document like Gson's JsonParser (lenient): used for query bodies that
 * JSON.parse refused, so their errors (or their lenient reading) match KairosDB.
 */
export function parseLenient(text: string): unknown {
  const r = new JsonReader(text, true);
  if (r.peek() === 'END_DOCUMENT') return null;
  const v = r.readTree();
  if (r.peek() !== 'END_DOCUMENT') throw new GsonError('com.google.gson.JsonSyntaxException', 'Did not consume the entire document.');
  return v;
}
