import { decimalUnscaled } from '../../arrow/to-text.js';

/**
 * PostgreSQL's binary NUMERIC (what numeric_recv reads), written from a decimal's unscaled integer
 * or from decimal text: ndigits, weight (the power of 10000 of the first digit), sign, dscale (the
 * fraction digits shown), then base-10000 digits aligned on the decimal point, with leading and
 * trailing zero digits dropped. numeric_recv applies the column's typmod as numeric_in does, so
 * a value rounds into a narrower column exactly as its text would.
 */

const POS = 0x0000;
const NEG = 0x4000;
const NAN = 0xc000;
const PINF = 0xd000;
const NINF = 0xf000;
const ZERO = 0x30;

/** Bytes a NUMERIC of `digits` decimal digits takes at most, its length word included. */
export function numericSize(digits: number): number {
  return 12 + 2 * (Math.ceil(digits / 4) + 2);
}

/** A special value (NaN, ±Infinity): no digits. */
function writeSpecial(view: DataView, at: number, sign: number): number {
  view.setInt32(at, 8);
  view.setInt16(at + 4, 0);
  view.setInt16(at + 6, 0);
  view.setUint16(at + 8, sign);
  view.setUint16(at + 10, 0);
  return at + 12;
}

/**
 * The value of ASCII digits `src[intStart, intEnd)` before the point and `src[fracStart, fracEnd)`
 * after it, at `at` (length word first); returns the position after it. The caller made room for
 * numericSize(all digits).
 */
export function writeNumericDigits(
  view: DataView,
  at: number,
  src: Uint8Array,
  intStart: number,
  intEnd: number,
  fracStart: number,
  fracEnd: number,
  neg: boolean,
  dscale: number,
): number {
  while (intStart < intEnd && src[intStart] === ZERO) intStart++;
  while (fracEnd > fracStart && src[fracEnd - 1] === ZERO) fracEnd--;
  const intLen = intEnd - intStart;
  const body = at + 12;
  let n = 0;
  let weight = -1;
  if (intLen > 0) {
    let i = intStart;
    let g = 0;
    // the first digit holds the 1-4 leading decimal digits, so the others align on the point
    for (const first = i + (intLen % 4 || 4); i < first; i++) g = g * 10 + src[i]! - ZERO;
    view.setUint16(body, g);
    n = 1;
    for (; i < intEnd; i += 4) {
      g = (src[i]! - ZERO) * 1000 + (src[i + 1]! - ZERO) * 100 + (src[i + 2]! - ZERO) * 10 + src[i + 3]! - ZERO;
      view.setUint16(body + 2 * n++, g);
    }
    weight = Math.ceil(intLen / 4) - 1;
  }
  for (let j = fracStart; j < fracEnd; j += 4) {
    let g = 0;
    for (let k = j; k < j + 4; k++) g = g * 10 + (k < fracEnd ? src[k]! - ZERO : 0);
    // a pure fraction's leading zero digits only move the weight
    if (n === 0 && g === 0) weight--;
    else view.setUint16(body + 2 * n++, g);
  }
  // an integer part ending in zero digits (10000): those are implied by the weight
  while (n > 0 && view.getUint16(body + 2 * (n - 1)) === 0) n--;
  if (n === 0) weight = 0;
  view.setInt32(at, 8 + 2 * n);
  view.setInt16(at + 4, n);
  view.setInt16(at + 6, weight);
  view.setUint16(at + 8, n > 0 && neg ? NEG : POS);
  view.setUint16(at + 10, dscale);
  return body + 2 * n;
}

/** Decimal digits of a magnitude, right-aligned in `scratch`, at least `width` of them (zeros in front). */
const scratch = new Uint8Array(80);

function digitsOf(mag: number | bigint, width: number): number {
  let len: number;
  if (typeof mag === 'number') {
    len = 0;
    const tmp = scratch.length - 1;
    // written backwards from the end, then moved to the front below
    for (let v = mag; v > 0; v = (v - (v % 10)) / 10) scratch[tmp - len++] = ZERO + (v % 10);
    scratch.copyWithin(0, tmp - len + 1, tmp + 1);
  } else {
    const s = mag.toString();
    len = s.length;
    for (let i = 0; i < len; i++) scratch[i] = s.charCodeAt(i);
  }
  if (len < width) {
    scratch.copyWithin(width - len, 0, len);
    scratch.fill(ZERO, 0, width - len);
    len = width;
  }
  return len;
}

/** Bytes writeNumericScaled takes at most for a 128-bit decimal. */
export const DECIMAL128_NUMERIC_SIZE = numericSize(80);

const POW10 = [1, 10, 100, 1000];

/**
 * The common case without digit text: a magnitude that, shifted so the point falls between
 * base-10000 digits, stays within 53 bits. It is cut at 10^8 into two halves below 2^31, whose
 * four base-10000 digits come by 32-bit integer arithmetic: `%` and division on a double above
 * 2^31 (which numeric(12,2) values are) is a call to fmod, and that was most of this writer's
 * time. Returns -1 when it does not fit.
 */
function writeNumericSmall(view: DataView, at: number, neg: boolean, mag: number, scale: number): number {
  const pad = (4 - (scale & 3)) & 3;
  const m = mag * POW10[pad]!;
  if (m > Number.MAX_SAFE_INTEGER) return -1;
  const fracDigits = (scale + pad) >> 2;
  // m < 2^53, so hi < 2^27; the quotient's rounding is corrected by the remainder's range
  let hi = Math.floor(m / 1e8);
  let lo = m - hi * 1e8;
  if (lo < 0) {
    hi -= 1;
    lo += 1e8;
  } else if (lo >= 1e8) {
    hi += 1;
    lo -= 1e8;
  }
  // as int32 first, so the operations below are integer ones
  const l = lo | 0;
  const h = hi | 0;
  const g0 = l % 10000;
  const g1 = ((l - g0) / 10000) | 0;
  const g2 = h % 10000;
  const g3 = ((h - g2) / 10000) | 0;
  // digits from the most significant nonzero one; zeros at the end are implied by the weight
  const count = g3 ? 4 : g2 ? 3 : g1 ? 2 : g0 ? 1 : 0;
  const low = g0 ? 0 : g1 ? 1 : g2 ? 2 : 3;
  const n = count ? count - low : 0;
  const body = at + 12;
  // places count-1 down to low, written straight (a loop choosing among four locals cost more)
  let p = body;
  if (count === 4) {
    view.setUint16(p, g3);
    p += 2;
  }
  if (count >= 3 && low <= 2) {
    view.setUint16(p, g2);
    p += 2;
  }
  if (count >= 2 && low <= 1) {
    view.setUint16(p, g1);
    p += 2;
  }
  if (count >= 1 && low === 0) view.setUint16(p, g0);
  view.setInt32(at, 8 + 2 * n);
  view.setInt16(at + 4, n);
  view.setInt16(at + 6, n ? count - 1 - fracDigits : 0);
  view.setUint16(at + 8, n && neg ? NEG : POS);
  view.setUint16(at + 10, scale);
  return body + 2 * n;
}

/** An unscaled integer (a number within 53 bits, or a bigint) at `scale`, as NUMERIC with dscale `scale`. */
export function writeNumericScaled(view: DataView, at: number, unscaled: number | bigint, scale: number): number {
  const neg = unscaled < 0;
  const mag = neg ? -unscaled : unscaled;
  if (typeof mag === 'number') {
    const end = writeNumericSmall(view, at, neg, mag, scale);
    if (end >= 0) return end;
  }
  // at least scale + 1 digits, so the point falls inside them
  const len = digitsOf(mag, scale + 1);
  return writeNumericDigits(view, at, scratch, 0, len - scale, len - scale, len, neg, scale);
}

/** Arrow's 128-bit decimal (four little-endian 32-bit words from `w`) at `scale`, as NUMERIC. */
export function writeNumericDecimal128(
  view: DataView,
  at: number,
  words: Uint32Array,
  w: number,
  scale: number,
): number {
  const hi = words[w + 1]!;
  const top = words[w + 2]! | words[w + 3]!;
  // within 53 bits (the common case) no bigint is made: positive, or negative with every upper bit set
  if (top === 0 && hi < 0x200000) return writeNumericScaled(view, at, hi * 4294967296 + words[w]!, scale);
  if ((words[w + 2]! & words[w + 3]!) === 0xffffffff && hi >= 0xffe00000)
    return writeNumericScaled(view, at, (hi | 0) * 4294967296 + words[w]!, scale);
  return writeNumericScaled(view, at, decimalUnscaled(words, w), scale);
}

const lower = (c: number) => c | 0x20;

function isWord(src: Uint8Array, s: number, e: number, word: string): boolean {
  if (e - s !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (lower(src[s + i]!) !== word.charCodeAt(i)) return false;
  return true;
}

const isSpace = (c: number) => c === 0x20 || (c >= 0x09 && c <= 0x0d);

/**
 * Decimal text (as numeric_out and MySQL write it: `[-]digits[.digits]`, `NaN`, `Infinity`,
 * `-Infinity`; surrounding blanks and a `+` allowed, as numeric_in does) in `src[s, e)`, as
 * NUMERIC with the text's fraction digits as dscale. Throws on anything else (an exponent, say):
 * the loader writes binary only for columns that were NUMERIC or DECIMAL, whose text has none.
 */
export function writeNumericText(view: DataView, at: number, src: Uint8Array, s: number, e: number): number {
  while (s < e && isSpace(src[s]!)) s++;
  while (e > s && isSpace(src[e - 1]!)) e--;
  let neg = false;
  let i = s;
  if (src[i] === 0x2d || src[i] === 0x2b) neg = src[i++] === 0x2d;
  if (i === s && isWord(src, i, e, 'nan')) return writeSpecial(view, at, NAN);
  if (isWord(src, i, e, 'infinity') || isWord(src, i, e, 'inf')) return writeSpecial(view, at, neg ? NINF : PINF);
  const intStart = i;
  while (i < e && src[i]! >= ZERO && src[i]! <= 0x39) i++;
  const intEnd = i;
  let fracStart = i;
  if (i < e && src[i] === 0x2e) {
    fracStart = ++i;
    while (i < e && src[i]! >= ZERO && src[i]! <= 0x39) i++;
  }
  if (i !== e || (intEnd === intStart && i === fracStart))
    throw new Error(`invalid input syntax for type numeric: "${Buffer.from(src.subarray(s, e)).toString()}"`);
  return writeNumericDigits(view, at, src, intStart, intEnd, fracStart, i, neg, i - fracStart);
}
