/**
 * Writes JSON into one growing byte buffer: digits of integers and of short decimals are written
 * directly, so serialising millions of points neither builds a rope of small strings nor calls
 * String(number) for the common values (timestamps, sensor readings with a few decimals).
 */

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

/** The four ASCII digits of every number below 10,000, zero-padded: 40 KB that halve the divisions per number. */
const DIGITS4 = new Uint8Array(40_000);
for (let i = 0; i < 10_000; i++) {
  DIGITS4[4 * i] = 0x30 + Math.floor(i / 1000);
  DIGITS4[4 * i + 1] = 0x30 + (Math.floor(i / 100) % 10);
  DIGITS4[4 * i + 2] = 0x30 + (Math.floor(i / 10) % 10);
  DIGITS4[4 * i + 3] = 0x30 + (i % 10);
}

/** 0 <= v < 10,000 (an int) at b[n] without leading zeros; returns the offset after it. */
function upTo4(b: Uint8Array, n: number, v: number): number {
  const i = 4 * v;
  if (v >= 1000) {
    b[n] = DIGITS4[i];
    b[n + 1] = DIGITS4[i + 1];
    b[n + 2] = DIGITS4[i + 2];
    b[n + 3] = DIGITS4[i + 3];
    return n + 4;
  }
  if (v >= 100) {
    b[n] = DIGITS4[i + 1];
    b[n + 1] = DIGITS4[i + 2];
    b[n + 2] = DIGITS4[i + 3];
    return n + 3;
  }
  if (v >= 10) {
    b[n] = DIGITS4[i + 2];
    b[n + 1] = DIGITS4[i + 3];
    return n + 2;
  }
  b[n] = 0x30 + v;
  return n + 1;
}

/** 0 <= v < 10,000 (an int) as exactly four digits. */
function four(b: Uint8Array, n: number, v: number): number {
  const i = 4 * v;
  b[n] = DIGITS4[i];
  b[n + 1] = DIGITS4[i + 1];
  b[n + 2] = DIGITS4[i + 2];
  b[n + 3] = DIGITS4[i + 3];
  return n + 4;
}

/** 0 <= v < 1e8 (an int) without leading zeros. */
function upTo8(b: Uint8Array, n: number, v: number): number {
  if (v < 10_000) return upTo4(b, n, v);
  const hi = (v / 10_000) | 0;
  return four(b, upTo4(b, n, hi), v - hi * 10_000);
}

/** A safe integer v >= 0 in plain digits at b[n] (room for 16 bytes needed); returns the offset after it. */
function unsigned(b: Uint8Array, n: number, v: number): number {
  if (v < 1e8) return upTo8(b, n, v | 0);
  // Both halves int32 (the remainder operator on doubles is a slow library call). Below 2^53 the
  // rounded quotient never reaches the next integer (k - 1e-8 lies nearer k - ulp(k) than k): floor is exact.
  const hi = Math.floor(v / 1e8);
  const lo = v - hi * 1e8;
  n = upTo8(b, n, hi | 0);
  const l = lo | 0;
  const lh = (l / 10_000) | 0;
  return four(b, four(b, n, lh), l - lh * 10_000);
}

/**
 * frac (an int, 0 < frac < 1e6) as the six decimals after a '.', trailing zeros dropped (at least one
 * digit stays, as frac is not 0).
 */
function decimals(b: Uint8Array, n: number, frac: number): number {
  const hi = (frac / 10_000) | 0;
  const i = 4 * hi;
  b[n] = DIGITS4[i + 2];
  b[n + 1] = DIGITS4[i + 3];
  n = four(b, n + 2, frac - hi * 10_000);
  while (b[n - 1] === 0x30) n--;
  return n;
}

/**
 * round(|v| * 1e6) when v is written digit by digit (it has at most six decimals and is below 2^31:
 * those digits read back as exactly v), else -1.
 */
function digitPath(v: number): number {
  const a = v < 0 ? -v : v;
  if (!(a < FAST_LIMIT)) return -1;
  const m = Math.round(a * FAST_SCALE);
  return m < EXACT && m / FAST_SCALE === a ? m : -1;
}

/**
 * m / 1e6 (m = round(|v| * 1e6), v's digit path) as a double's text: the whole part, '.', the decimals
 * or a single 0. Needs room for 19 bytes.
 */
function sixDecimalsAt(b: Uint8Array, n: number, negative: boolean, m: number): number {
  let whole = Math.floor(m / FAST_SCALE);
  let frac = m - whole * FAST_SCALE;
  // m / 1e6 may round up to the next whole number; frac then comes out negative.
  if (frac < 0) {
    whole -= 1;
    frac += FAST_SCALE;
  }
  if (negative) b[n++] = 0x2d;
  n = unsigned(b, n, whole);
  b[n++] = 0x2e;
  if (frac === 0) {
    b[n] = 0x30;
    return n + 1;
  }
  return decimals(b, n, frac | 0);
}

/** Most bytes one point of doublePoints takes: ",[" + 16 timestamp digits + "," + a 26-byte double + "]". */
const POINT_MAX_BYTES = 48;

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
    this.n = unsigned(this.buf, this.n, v);
  }

  /** True when double(v) writes v digit by digit (no String(v) needed). */
  static hasDigitPath(v: number): boolean {
    return digitPath(v) >= 0;
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
    const m = digitPath(v);
    if (m >= 0) {
      this.sixDecimals(v < 0, m);
      return;
    }
    if (this.textPos < this.texts.length) this.copyNextText();
    else this.doubleText(String(v));
  }

  private sixDecimals(negative: boolean, m: number): void {
    this.ensure(20);
    this.n = sixDecimalsAt(this.buf, this.n, negative, m);
  }

  /**
   * Points [from, to) of a double series as "[t,v]" separated by commas, with a comma before the first
   * too when `comma`: the texts of double() for the values, of integer() for the timestamps, in one loop
   * that keeps the buffer and offset in locals. Timestamps must be safe integers > 0 and values finite
   * (the caller checks); values without a digit path take their texts from useDoubleTexts as double() does.
   */
  doublePoints(ts: Float64Array, vs: Float64Array, from: number, to: number, comma: boolean): void {
    let b = this.buf;
    let n = this.n;
    for (let j = from; j < to; j++) {
      if (n + POINT_MAX_BYTES > b.length) {
        this.n = n;
        this.ensure(POINT_MAX_BYTES * Math.min(to - j, 1024));
        b = this.buf;
      }
      if (comma || j > from) b[n++] = 0x2c;
      b[n++] = 0x5b;
      n = unsigned(b, n, ts[j]);
      b[n++] = 0x2c;
      const v = vs[j];
      const m = digitPath(v);
      if (m >= 0) {
        n = sixDecimalsAt(b, n, v < 0, m);
      } else {
        this.n = n;
        if (this.textPos < this.texts.length) this.copyNextText();
        else this.doubleText(String(v));
        n = this.n;
        b = this.buf;
        if (n + 1 > b.length) {
          this.ensure(1);
          b = this.buf;
        }
      }
      b[n++] = 0x5d;
    }
    this.n = n;
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

  /**
   * The JSON bytes in a Buffer of their own, exactly their size: for bytes that are kept (an outbox
   * holds a large message's bodies until they are sent). A view on a growing writer's buffer would
   * hold up to half as much again, and that external memory made V8 run a full collection of the
   * heap while a million points were being sent.
   */
  copyBytes(): Buffer {
    const out = Buffer.allocUnsafeSlow(this.n);
    this.buf.copy(out, 0, 0, this.n);
    return out;
  }
}
