import { NOT_REPRESENTABLE } from './text.js';

/**
 * Values of PostgreSQL's binary COPY format (each type's `send` function), for the builders of
 * src/arrow/builders.ts. Integers are big-endian; dates count days and timestamps microseconds
 * from 2000-01-01; ±infinity are the extreme values of the integer.
 */

/** 2000-01-01 − 1970-01-01 */
const PG_EPOCH_DAYS = 10957;
const PG_EPOCH_MICROS = 946_684_800_000_000;
const PG_EPOCH_MICROS_BIG = 946_684_800_000_000n;

export function checkLength(s: number, e: number, n: number, type: string): void {
  if (e - s !== n) throw new SyntaxError(`a binary ${type} is ${n} bytes, got ${e - s}`);
}

/** A big-endian int64 as a number when it fits in 53 bits, else a bigint. */
export function pgInt64(buf: Buffer, s: number): number | bigint {
  const hi = buf.readInt32BE(s);
  if (hi >= -0x200000 && hi < 0x200000) return hi * 4294967296 + buf.readUInt32BE(s + 4);
  return buf.readBigInt64BE(s);
}

/** Days since 1970-01-01; NOT_REPRESENTABLE for ±infinity. */
export function pgDate(buf: Buffer, s: number, e: number): number | typeof NOT_REPRESENTABLE {
  checkLength(s, e, 4, 'date');
  const d = buf.readInt32BE(s);
  if (d === 0x7fffffff || d === -0x80000000) return NOT_REPRESENTABLE;
  return d + PG_EPOCH_DAYS;
}

/** Microseconds since 1970-01-01 (the wall clock for `timestamp`, UTC for `timestamptz`); NOT_REPRESENTABLE for ±infinity. */
export function pgTimestamp(buf: Buffer, s: number, e: number): number | bigint | typeof NOT_REPRESENTABLE {
  checkLength(s, e, 8, 'timestamp');
  const hi = buf.readInt32BE(s);
  // ±1 million years either side of 2000 stay exact in a double, with room for the epoch shift
  if (hi >= -0x100000 && hi < 0x100000) return hi * 4294967296 + buf.readUInt32BE(s + 4) + PG_EPOCH_MICROS;
  const lo = buf.readUInt32BE(s + 4);
  if ((hi === 0x7fffffff && lo === 0xffffffff) || (hi === -0x80000000 && lo === 0)) return NOT_REPRESENTABLE;
  return buf.readBigInt64BE(s) + PG_EPOCH_MICROS_BIG;
}

const NUMERIC_NEG = 0x4000;
const MAX_SAFE_DIV_10000 = Math.floor(Number.MAX_SAFE_INTEGER / 10000);
const POW10 = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * NUMERIC → the unscaled integer at `scale`, as parseDecimal gives it for the text form.
 * The wire form is base-10000 digits: ndigits, weight (of the first digit), sign, dscale.
 * NOT_REPRESENTABLE for NaN/±Infinity or more fraction digits than the scale.
 */
export function pgNumeric(
  buf: Buffer,
  s: number,
  e: number,
  scale: number,
): number | bigint | typeof NOT_REPRESENTABLE {
  const ndigits = buf.readInt16BE(s);
  const weight = buf.readInt16BE(s + 2);
  const sign = buf.readUInt16BE(s + 4);
  if (sign !== 0 && sign !== NUMERIC_NEG) return NOT_REPRESENTABLE; // NaN, Infinity, -Infinity
  checkLength(s, e, 8 + 2 * ndigits, 'numeric');
  // the power of ten of the last digit's units, at the column's scale
  const exp = 4 * (weight - ndigits + 1) + scale;
  let v = 0;
  let fits = true;
  for (let i = 0, p = s + 8; i < ndigits; i++, p += 2) {
    if (v > MAX_SAFE_DIV_10000) {
      fits = false;
      break;
    }
    v = v * 10000 + buf.readUInt16BE(p);
  }
  if (fits) {
    if (exp >= 0) {
      if (exp < 16 && v <= Number.MAX_SAFE_INTEGER / POW10[exp]!) {
        const r = v * POW10[exp]!;
        return sign ? -r : r;
      }
    } else if (-exp < 16) {
      const div = POW10[-exp]!;
      if (v % div !== 0) return NOT_REPRESENTABLE;
      const r = v / div;
      return sign ? -r : r;
    }
  }
  let big = 0n;
  for (let i = 0, p = s + 8; i < ndigits; i++, p += 2) big = big * 10000n + BigInt(buf.readUInt16BE(p));
  if (exp >= 0) big *= 10n ** BigInt(exp);
  else {
    const div = 10n ** BigInt(-exp);
    if (big % div !== 0n) return NOT_REPRESENTABLE;
    big /= div;
  }
  return sign ? -big : big;
}
