/**
 * Parsers for the databases' text formats, working on byte ranges of the wire buffer so
 * that no per-value string is made where the value is a number or a date. Integers that
 * fit in 53 bits stay JS numbers; larger ones go through BigInt.
 */

export const NOT_REPRESENTABLE = Symbol('not representable');

const DIGIT_0 = 0x30;

export function latin1(buf: Buffer, start: number, end: number): string {
  return buf.toString('latin1', start, end);
}

/** Whole-number text of at most 15 digits as a number; undefined when longer or not a plain integer. */
export function parseSmallInt(buf: Buffer, start: number, end: number): number | undefined {
  let i = start;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  } else if (buf[i] === 0x2b) i++;
  if (i >= end || end - i > 15) return undefined;
  let v = 0;
  for (; i < end; i++) {
    const d = buf[i]! - DIGIT_0;
    if (d < 0 || d > 9) return undefined;
    v = v * 10 + d;
  }
  return neg ? -v : v;
}

export function parseBigInt(buf: Buffer, start: number, end: number): bigint {
  return BigInt(latin1(buf, start, end));
}

/** Days since 1970-01-01 of a proleptic Gregorian date (astronomical year numbering). */
export function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function readDigits(buf: Buffer, i: number, end: number): [value: number, next: number] {
  let v = 0;
  const s = i;
  while (i < end) {
    const d = buf[i]! - DIGIT_0;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
  }
  if (i === s) throw new SyntaxError('expected digits');
  return [v, i];
}

function endsWithBC(buf: Buffer, start: number, end: number): boolean {
  return end - start > 3 && buf[end - 1] === 0x43 && buf[end - 2] === 0x42 && buf[end - 3] === 0x20;
}

/** Where the last `fraction` call stopped: a second result without allocating a tuple per value. */
let fractionEnd = 0;

/**
 * An optional `.ffffff…` at i, never read at or past `end`: microseconds (the first six digits,
 * zero-padded), and `fractionEnd` set to the index after it (i when there is none).
 */
function fraction(buf: Buffer, i: number, end: number): number {
  let frac = 0;
  if (i < end && buf[i] === 0x2e) {
    i++;
    let n = 0;
    while (i < end) {
      const dg = buf[i]! - DIGIT_0;
      if (dg < 0 || dg > 9) break;
      if (n < 6) {
        frac = frac * 10 + dg;
        n++;
      }
      i++;
    }
    while (n < 6) {
      frac *= 10;
      n++;
    }
  }
  fractionEnd = i;
  return frac;
}

/** Two ASCII digits at i as a number, or -1. */
function two(buf: Buffer, i: number): number {
  const a = buf[i]! - DIGIT_0;
  const b = buf[i + 1]! - DIGIT_0;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/** The last date converted, so a run of timestamps on one day converts it once. */
let lastYmd = -1;
let lastDays = 0;

/** Days of `YYYY-MM-DD` at start (four-digit year), or undefined when it is not that shape. */
function fixedDate(buf: Buffer, start: number): number | undefined {
  if (buf[start + 4] !== 0x2d || buf[start + 7] !== 0x2d) return undefined;
  const y1 = two(buf, start);
  const y2 = two(buf, start + 2);
  const m = two(buf, start + 5);
  const d = two(buf, start + 8);
  if (y1 < 0 || y2 < 0 || m < 1 || m > 12 || d < 1 || d > 31) return undefined; // zero dates and odd shapes take the general path
  const ymd = (y1 * 100 + y2) * 10000 + m * 100 + d;
  if (ymd !== lastYmd) {
    lastDays = daysFromCivil(y1 * 100 + y2, m, d);
    lastYmd = ymd;
  }
  return lastDays;
}

/**
 * The common shapes, without allocating: `YYYY-MM-DD HH:MM:SS[.f…][±HH[:MM]]` with a four-digit
 * year and no era suffix. Undefined for anything else (the general parser handles it).
 */
function fixedTimestamp(buf: Buffer, start: number, end: number): number | bigint | undefined {
  if (
    end - start < 19 ||
    (buf[start + 10] !== 0x20 && buf[start + 10] !== 0x54) ||
    buf[start + 13] !== 0x3a ||
    buf[start + 16] !== 0x3a
  )
    return undefined;
  const days = fixedDate(buf, start);
  const h = two(buf, start + 11);
  const mi = two(buf, start + 14);
  const sec = two(buf, start + 17);
  if (days === undefined || h < 0 || mi < 0 || sec < 0) return undefined;
  // every read below stays before `end`: past it lies the next field (MySQL: its length byte)
  const frac = fraction(buf, start + 19, end);
  let i = fractionEnd;
  let offset = 0;
  const sign = i < end ? buf[i] : -1;
  if (sign === 0x2b || sign === 0x2d) {
    if (i + 3 > end) return undefined;
    const oh = two(buf, i + 1);
    if (oh < 0) return undefined;
    i += 3;
    let om = 0;
    if (i + 3 <= end && buf[i] === 0x3a) {
      om = two(buf, i + 1);
      i += 3;
    } else if (i + 2 <= end) {
      om = two(buf, i);
      i += 2;
    }
    if (om < 0) return undefined;
    offset = (sign === 0x2d ? -1 : 1) * (oh * 3600 + om * 60);
  }
  if (i !== end) return undefined; // seconds in the offset, an era suffix, …
  const secs = days * 86400 + (h * 60 + mi) * 60 + sec - offset;
  // as the general path: a number within 53 bits of microseconds (about ±285 years), else a bigint
  if (Math.abs(secs) < 9_000_000_000) return secs * 1_000_000 + frac;
  return BigInt(secs) * 1_000_000n + BigInt(frac);
}

export interface ParsedDate {
  days: number;
  next: number;
}

/**
 * `YYYY-MM-DD` (more year digits allowed, ` BC` suffix allowed). Returns NOT_REPRESENTABLE for
 * `infinity`; `zero` for MySQL zero dates (`0000-00-00`, or a zero month or day).
 */
export function parseDatePart(buf: Buffer, start: number, end: number): ParsedDate | typeof NOT_REPRESENTABLE | 'zero' {
  if (end - start === 10) {
    const days = fixedDate(buf, start);
    if (days !== undefined) return { days, next: end };
  }
  const c = buf[start];
  if (c === 0x69 || (c === 0x2d && buf[start + 1] === 0x69)) return NOT_REPRESENTABLE; // infinity, -infinity
  let [y, i] = readDigits(buf, start, end);
  if (buf[i] !== 0x2d) throw new SyntaxError('bad date');
  const [m, afterMonth] = readDigits(buf, i + 1, end);
  if (buf[afterMonth] !== 0x2d) throw new SyntaxError('bad date');
  const [d, afterDay] = readDigits(buf, afterMonth + 1, end);
  i = afterDay;
  if (m === 0 || d === 0) return 'zero';
  if (endsWithBC(buf, start, end)) y = 1 - y;
  return { days: daysFromCivil(y, m, d), next: i };
}

/** `HH:MM:SS[.ffffff]` from i; returns microseconds of the day and where it stopped. */
export function parseTimeOfDay(buf: Buffer, i: number, end: number): [micros: number, next: number] {
  let h: number;
  let mi: number;
  let s: number;
  [h, i] = readDigits(buf, i, end);
  if (buf[i] !== 0x3a) throw new SyntaxError('bad time');
  [mi, i] = readDigits(buf, i + 1, end);
  if (buf[i] !== 0x3a) throw new SyntaxError('bad time');
  [s, i] = readDigits(buf, i + 1, end);
  const frac = fraction(buf, i, end);
  return [((h * 60 + mi) * 60 + s) * 1_000_000 + frac, fractionEnd];
}

/** A time-of-day column value; NOT_REPRESENTABLE outside [00:00, 24:00] (MySQL TIME is a duration). */
export function parseTime(buf: Buffer, start: number, end: number): number | typeof NOT_REPRESENTABLE {
  if (buf[start] === 0x2d) return NOT_REPRESENTABLE;
  const [micros] = parseTimeOfDay(buf, start, end);
  return micros > 86_400_000_000 ? NOT_REPRESENTABLE : micros;
}

/** UTC offset `+HH[:MM[:SS]]` (or `-`) at i, in seconds; 0 if none. */
function parseOffset(buf: Buffer, i: number, end: number): number {
  const c = buf[i];
  if (c !== 0x2b && c !== 0x2d) return 0;
  const sign = c === 0x2d ? -1 : 1;
  let [h, j] = readDigits(buf, i + 1, end);
  let secs = 0;
  if (j - (i + 1) === 4) {
    secs = Math.floor(h / 100) * 3600 + (h % 100) * 60;
    h = 0;
  } // +HHMM
  secs += h * 3600;
  if (buf[j] === 0x3a) {
    let mm: number;
    [mm, j] = readDigits(buf, j + 1, end);
    secs += mm * 60;
    if (buf[j] === 0x3a) {
      const [ss] = readDigits(buf, j + 1, end);
      secs += ss;
    }
  }
  return sign * secs;
}

/**
 * `YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM]][ BC]` → microseconds since the epoch (UTC when an
 * offset is present; the wall clock otherwise). A number when it fits in 53 bits, else a bigint.
 */
export function parseTimestamp(
  buf: Buffer,
  start: number,
  end: number,
): number | bigint | typeof NOT_REPRESENTABLE | 'zero' {
  const fast = fixedTimestamp(buf, start, end);
  if (fast !== undefined) return fast;
  const date = parseDatePart(buf, start, end);
  if (date === NOT_REPRESENTABLE || date === 'zero') return date;
  let i = date.next;
  let tod = 0;
  if (i < end && (buf[i] === 0x20 || buf[i] === 0x54) && buf[i + 1] !== 0x42) {
    [tod, i] = parseTimeOfDay(buf, i + 1, end);
  }
  const offset = parseOffset(buf, i, end);
  const secs = date.days * 86400 + Math.floor(tod / 1_000_000) - offset;
  const frac = tod % 1_000_000;
  if (Math.abs(secs) < 9_000_000_000) return secs * 1_000_000 + frac;
  return BigInt(secs) * 1_000_000n + BigInt(frac);
}

/**
 * Decimal text → the unscaled integer at `scale` (e.g. "-12.5" at scale 2 → -1250).
 * NOT_REPRESENTABLE for NaN/Infinity or more fraction digits than the scale.
 */
export function parseDecimal(
  buf: Buffer,
  start: number,
  end: number,
  scale: number,
): number | bigint | typeof NOT_REPRESENTABLE {
  let i = start;
  let neg = false;
  if (buf[i] === 0x2d) {
    neg = true;
    i++;
  } else if (buf[i] === 0x2b) i++;
  const c = buf[i];
  if (c === 0x4e || c === 0x49 || c === 0x69 || c === 0x6e) return NOT_REPRESENTABLE; // NaN, Infinity
  let intStart = i;
  while (i < end && buf[i] !== 0x2e && buf[i] !== 0x65 && buf[i] !== 0x45) i++;
  // leading zeros do not count against the 15-digit fast path
  while (intStart < i - 1 && buf[intStart] === DIGIT_0) intStart++;
  const intEnd = i;
  let fracStart = end;
  let fracEnd = end;
  if (buf[i] === 0x2e) {
    fracStart = i + 1;
    fracEnd = fracStart;
    while (fracEnd < end && buf[fracEnd] !== 0x65 && buf[fracEnd] !== 0x45) fracEnd++;
  } else if (i < end) return NOT_REPRESENTABLE; // exponent form does not come from either engine for DECIMAL
  let fracLen = fracEnd - fracStart;
  while (fracLen > scale && buf[fracStart + fracLen - 1] === DIGIT_0) fracLen--; // trailing zeros beyond the scale are harmless
  if (fracLen > scale) return NOT_REPRESENTABLE;
  const total = intEnd - intStart + scale;
  if (total <= 15) {
    let v = 0;
    for (let k = intStart; k < intEnd; k++) v = v * 10 + (buf[k]! - DIGIT_0);
    for (let k = 0; k < scale; k++) v = v * 10 + (k < fracLen ? buf[fracStart + k]! - DIGIT_0 : 0);
    return neg ? -v : v;
  }
  const digits = latin1(buf, intStart, intEnd) + latin1(buf, fracStart, fracStart + fracLen).padEnd(scale, '0');
  const v = BigInt(digits);
  return neg ? -v : v;
}

/** PostgreSQL bytea hex output `\x0a1b…` → bytes. */
export function decodePgHex(buf: Buffer, start: number, end: number): Buffer {
  if (buf[start] !== 0x5c || buf[start + 1] !== 0x78)
    throw new SyntaxError('bytea is not in hex format (set bytea_output = hex)');
  return Buffer.from(latin1(buf, start + 2, end), 'hex');
}
