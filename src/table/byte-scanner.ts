/**
 * A strict JSON byte scanner for the hot parts of large responses: numbers and short strings are read
 * straight from the bytes, so a values array never becomes millions of small JS arrays.
 *
 * Anything the scanner does not expect throws NotScannable; callers then fall back to JSON.parse, which
 * gives the user the usual error message (or handles a shape the fast path leaves out).
 */

/** Thrown when the bytes are not (the expected) JSON; a signal to fall back, never shown to users. */
export class NotScannable extends Error {
  constructor(reason: string, pos: number) {
    super(`${reason} at byte ${pos}`);
  }
}

const POW10: number[] = [];
for (let i = 0; i <= 22; i++) POW10.push(Number(`1e${i}`));

/**
 * Buffer#latin1Slice skips toString's argument handling; it is on Buffer.prototype in every Node
 * release we support but not in @types/node, hence the narrow cast.
 */
type Latin1Slicer = (this: Buffer, start: number, end: number) => string;
const protoSlice = (Buffer.prototype as unknown as { latin1Slice?: Latin1Slicer }).latin1Slice;
const latin1: Latin1Slicer = typeof protoSlice === 'function' ? protoSlice : function (this: Buffer, start, end) {
  return this.toString('latin1', start, end);
};

/** Below this every integer is exact, so is a mantissa read digit by digit. */
const EXACT = 2 ** 53;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;
const DOT = 0x2e;
const ZERO = 0x30;
const NINE = 0x39;

function isDigit(c: number): boolean {
  return c >= ZERO && c <= NINE;
}

export class ByteScanner {
  pos = 0;

  constructor(readonly bytes: Buffer) {}

  fail(reason: string): never {
    throw new NotScannable(reason, this.pos);
  }

  /** Skips JSON whitespace and returns the next byte (-1 at the end). */
  peek(): number {
    const b = this.bytes;
    let p = this.pos;
    let c = p < b.length ? b[p] : -1;
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = ++p < b.length ? b[p] : -1;
    this.pos = p;
    return c;
  }

  expect(c: number): void {
    if (this.peek() !== c) this.fail(`expected "${String.fromCharCode(c)}"`);
    this.pos++;
  }

  /**
   * A JSON number. A mantissa below 2^53 with a power of ten up to 22 is exact with one IEEE
   * multiplication or division (both operands are exact doubles, so the result is correctly rounded);
   * other numbers go through Number() on their text, which is always correct.
   */
  number(): number {
    const b = this.bytes;
    let p = this.pos;
    const start = p;
    let c = b[p];
    const neg = c === MINUS;
    if (neg) c = b[++p];
    let mant = 0;
    if (c === ZERO) {
      c = b[++p];
    } else if (c > ZERO && c <= NINE) {
      do {
        mant = mant * 10 + (c - ZERO);
        c = b[++p];
      } while (c >= ZERO && c <= NINE);
    } else {
      this.fail('expected a number');
    }
    let scale = 0;
    if (c === DOT) {
      c = b[++p];
      if (!isDigit(c)) this.fail('expected a digit after "."');
      do {
        mant = mant * 10 + (c - ZERO);
        scale++;
        c = b[++p];
      } while (c >= ZERO && c <= NINE);
    }
    let exp = 0;
    if (c === 0x65 || c === 0x45) {
      c = b[++p];
      const expNeg = c === MINUS;
      if (expNeg || c === 0x2b) c = b[++p];
      if (!isDigit(c)) this.fail('expected an exponent');
      do {
        if (exp < 100000) exp = exp * 10 + (c - ZERO);
        c = b[++p];
      } while (c >= ZERO && c <= NINE);
      if (expNeg) exp = -exp;
    }
    this.pos = p;
    const e10 = exp - scale;
    let v: number;
    if (mant < EXACT && e10 >= -22 && e10 <= 22) {
      v = e10 === 0 ? mant : e10 < 0 ? mant / POW10[-e10] : mant * POW10[e10];
      return neg ? -v : v;
    }
    return Number(latin1.call(b, start, p));
  }

  /** A JSON string (the scanner sits on its opening quote). */
  string(): string {
    const b = this.bytes;
    const start = this.pos;
    let p = start + 1;
    let plain = true;
    for (;;) {
      if (p >= b.length) this.fail('unterminated string');
      const c = b[p];
      if (c === QUOTE) break;
      if (c === BACKSLASH) {
        plain = false;
        p += 2;
        continue;
      }
      if (c < 0x20) this.fail('control character in string');
      if (c >= 0x80) plain = false;
      p++;
    }
    this.pos = p + 1;
    if (plain) return latin1.call(b, start + 1, p);
    // Escapes and UTF-8: let the engine decode and validate this one string.
    try {
      return JSON.parse(b.toString('utf8', start, p + 1)) as string;
    } catch {
      return this.fail('invalid escape in string');
    }
  }

  /** Any JSON value, parsed by the engine; for the small parts (tags, group_by, unknown keys). */
  value(): unknown {
    this.peek();
    const start = this.pos;
    this.skip();
    try {
      return JSON.parse(this.bytes.toString('utf8', start, this.pos));
    } catch {
      return this.fail('invalid JSON value');
    }
  }

  /** Moves past one value without reading it (value() checks what was skipped). */
  private skip(): void {
    const b = this.bytes;
    const c = this.peek();
    if (c === QUOTE) {
      this.string();
      return;
    }
    if (c === 0x7b || c === 0x5b) {
      let depth = 0;
      let p = this.pos;
      for (; p < b.length; p++) {
        const d = b[p];
        if (d === QUOTE) {
          this.pos = p;
          this.string();
          p = this.pos - 1;
        } else if (d === 0x7b || d === 0x5b) {
          depth++;
        } else if (d === 0x7d || d === 0x5d) {
          if (--depth === 0) break;
        }
      }
      if (depth !== 0) this.fail('unterminated value');
      this.pos = p + 1;
      return;
    }
    let p = this.pos;
    while (p < b.length) {
      const d = b[p];
      if (d === 0x2c || d === 0x7d || d === 0x5d || d === 0x20 || d === 0x0a || d === 0x0d || d === 0x09) break;
      p++;
    }
    if (p === this.pos) this.fail('expected a value');
    this.pos = p;
  }

  /** True when the literal (null, true, false) is next; moves past it. */
  literal(text: string): boolean {
    const b = this.bytes;
    const p = this.pos;
    for (let i = 0; i < text.length; i++) if (b[p + i] !== text.charCodeAt(i)) return false;
    this.pos = p + text.length;
    return true;
  }
}
