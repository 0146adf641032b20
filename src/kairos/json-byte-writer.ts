/**
 * Writes JSON into one growing byte buffer: digits of integers and of short decimals are written
 * directly, so serialising millions of points neither builds a rope of small strings nor calls
 * String(number) for the common values (timestamps, sensor readings with a few decimals).
 */

const DIGITS2 = new Uint8Array(200);
for (let i = 0; i < 100; i++) {
  DIGITS2[2 * i] = 0x30 + Math.floor(i / 10);
  DIGITS2[2 * i + 1] = 0x30 + (i % 10);
}

/** Below this every integer is exact. */
const EXACT = 2 ** 53;
/** Values that have at most this many decimals are written digit by digit. */
const FAST_DECIMALS = 6;
const FAST_SCALE = 10 ** FAST_DECIMALS;
/**
 * Below 2^31 a double's spacing is under half of 1e-6, so distinct six-decimal numbers are distinct
 * doubles: the digits written are then exactly String(v)'s shortest ones, and String never uses an
 * exponent there for values of 1e-6 and more.
 */
const FAST_LIMIT = 2 ** 31;

/**
 * A scratch writer reused by synchronous serialisations: a fresh multi-megabyte Buffer per request
 * counts as external memory and makes V8 run a full mark-compact far more often than the heap needs.
 * Kept only up to this size, so one huge payload does not stay allocated.
 */
const SCRATCH_LIMIT = 4 << 20;
let scratch: JsonByteWriter | undefined;

function keepScratch(w: JsonByteWriter): void {
  scratch = w;
}

export class JsonByteWriter {
  private buf: Buffer;
  private n = 0;
  private allAscii = true;
  private texts = '';
  private textPos = 0;

  constructor(capacity = 1 << 16) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  /**
   * The shared scratch writer, emptied, with room for about `capacity` bytes. Only for code that
   * finishes with toString() (or copies the bytes) before it returns, and then calls release().
   */
  static scratch(capacity: number): JsonByteWriter {
    if (!scratch || capacity > SCRATCH_LIMIT) return new JsonByteWriter(capacity);
    const w = scratch;
    scratch = undefined;
    w.n = 0;
    w.allAscii = true;
    w.useDoubleTexts('');
    return w;
  }

  /** Hands a scratch writer back (a writer that outgrew the limit is dropped). */
  release(): void {
    if (this.buf.length <= SCRATCH_LIMIT) keepScratch(this);
  }

  get length(): number {
    return this.n;
  }

  private ensure(extra: number): void {
    if (this.n + extra <= this.buf.length) return;
    let cap = Math.ceil(this.buf.length * 1.5);
    while (cap < this.n + extra) cap = Math.ceil(cap * 1.5);
    const bigger = Buffer.allocUnsafe(cap);
    this.buf.copy(bigger, 0, 0, this.n);
    this.buf = bigger;
  }

  /** One ASCII byte (punctuation). */
  byte(c: number): void {
    if (this.n === this.buf.length) this.ensure(1);
    this.buf[this.n++] = c;
  }

  /** Text known to be ASCII (punctuation, keys, number text). */
  ascii(text: string): void {
    this.ensure(text.length);
    const b = this.buf;
    let n = this.n;
    for (let i = 0; i < text.length; i++) b[n++] = text.charCodeAt(i);
    this.n = n;
  }

  /** A JSON string literal of any text. */
  string(text: string): void {
    const json = JSON.stringify(text);
    for (let i = 0; i < json.length; i++) {
      if (json.charCodeAt(i) > 0x7f) {
        this.ensure(json.length * 3);
        this.n += this.buf.write(json, this.n, 'utf8');
        this.allAscii = false;
        return;
      }
    }
    this.ascii(json);
  }

  /** A safe integer in plain digits. */
  integer(v: number): void {
    this.ensure(17);
    if (v < 0) {
      this.buf[this.n++] = 0x2d;
      v = -v;
    }
    if (v < 1e8) {
      this.smallInteger(v | 0);
      return;
    }
    // Split so both halves are int32 (the remainder operator on doubles is a slow library call).
    const hi = Math.floor(v / 1e8);
    this.smallInteger(hi | 0);
    this.eightDigits((v - hi * 1e8) | 0);
  }

  /** 0 <= v < 1e8. */
  private smallInteger(v: number): void {
    const b = this.buf;
    const len = v < 10 ? 1 : v < 100 ? 2 : v < 1000 ? 3 : v < 10000 ? 4 : v < 1e5 ? 5 : v < 1e6 ? 6 : v < 1e7 ? 7 : 8;
    let q = this.n + len;
    this.n = q;
    while (v >= 100) {
      const r = v % 100 | 0;
      v = ((v - r) / 100) | 0;
      b[--q] = DIGITS2[2 * r + 1];
      b[--q] = DIGITS2[2 * r];
    }
    if (v >= 10) {
      b[--q] = DIGITS2[2 * v + 1];
      b[--q] = DIGITS2[2 * v];
    } else {
      b[--q] = 0x30 + v;
    }
  }

  /** 0 <= v < 1e8, zero-padded to eight digits. */
  private eightDigits(v: number): void {
    const b = this.buf;
    let q = this.n + 8;
    this.n = q;
    for (let i = 0; i < 4; i++) {
      const r = v % 100 | 0;
      v = ((v - r) / 100) | 0;
      b[--q] = DIGITS2[2 * r + 1];
      b[--q] = DIGITS2[2 * r];
    }
  }

  /** True when double(v) writes v digit by digit (no String(v) needed). */
  static hasDigitPath(v: number): boolean {
    const a = v < 0 ? -v : v;
    if (!(a < FAST_LIMIT)) return false;
    const m = Math.round(a * FAST_SCALE);
    return m < EXACT && m / FAST_SCALE === a;
  }

  /**
   * Texts for the next doubles that have no digit path, as one JSON array (JSON.stringify of them, in
   * order): formatting many numbers in one engine call costs about half of String(v) for each.
   */
  useDoubleTexts(json: string): void {
    this.texts = json;
    this.textPos = 1;
  }

  /**
   * A finite number as a KairosDB double: always with a '.', the digits of String(v) otherwise
   * (2 -> 2.0, 1e-7 -> 1.0e-7). Values with up to six decimals take the digit path: when
   * round(|v| * 1e6) / 1e6 gives v back, those digits read back as exactly v.
   */
  double(v: number): void {
    const a = v < 0 ? -v : v;
    if (a < FAST_LIMIT) {
      const m = Math.round(a * FAST_SCALE);
      if (m < EXACT && m / FAST_SCALE === a) {
        this.sixDecimals(v < 0, m);
        return;
      }
    }
    if (this.textPos < this.texts.length) this.copyNextText();
    else this.doubleText(String(v));
  }

  private sixDecimals(negative: boolean, m: number): void {
    let whole = Math.floor(m / FAST_SCALE);
    let frac = m - whole * FAST_SCALE;
    // m / 1e6 may round up to the next whole number; frac then comes out negative.
    if (frac < 0) {
      whole -= 1;
      frac += FAST_SCALE;
    }
    if (negative) this.byte(0x2d);
    this.integer(whole);
    this.byte(0x2e);
    if (frac === 0) {
      this.byte(0x30);
      return;
    }
    let f = frac | 0;
    let digits = FAST_DECIMALS;
    while (f % 10 === 0) {
      f = (f / 10) | 0;
      digits--;
    }
    this.ensure(FAST_DECIMALS);
    const b = this.buf;
    let q = this.n + digits;
    this.n = q;
    for (let i = 0; i < digits; i++) {
      const r = f % 10 | 0;
      f = ((f - r) / 10) | 0;
      b[--q] = 0x30 + r;
    }
  }

  /** Copies the next number of the useDoubleTexts array as doubleText would write it. */
  private copyNextText(): void {
    const t = this.texts;
    // A double's text has at most 24 characters, plus the ".0".
    this.ensure(32);
    const b = this.buf;
    let n = this.n;
    let p = this.textPos;
    let dot = false;
    let exp = -1;
    for (; p < t.length; p++) {
      const c = t.charCodeAt(p);
      if (c === 0x2c || c === 0x5d) break;
      if (c === 0x2e) dot = true;
      else if (c === 0x65) exp = n;
      b[n++] = c;
    }
    this.textPos = p + 1;
    if (!dot) {
      if (exp < 0) {
        b[n++] = 0x2e;
        b[n++] = 0x30;
      } else {
        b.copyWithin(exp + 2, exp, n);
        b[exp] = 0x2e;
        b[exp + 1] = 0x30;
        n += 2;
      }
    }
    this.n = n;
  }

  /** String(v)'s text with the '.' KairosDB needs to see a double. */
  private doubleText(s: string): void {
    if (s.includes('.')) {
      this.ascii(s);
      return;
    }
    const e = s.indexOf('e');
    this.ascii(e < 0 ? `${s}.0` : `${s.slice(0, e)}.0${s.slice(e)}`);
  }

  /** The JSON text. */
  toString(): string {
    return this.buf.toString(this.allAscii ? 'latin1' : 'utf8', 0, this.n);
  }

  /** The JSON bytes (a view on the writer's buffer). */
  toBuffer(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}
