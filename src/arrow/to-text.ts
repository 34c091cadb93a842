import { makeVector, type Data, type Vector } from 'apache-arrow';
import { NUMBER_KINDS, type ColumnKind, type ColumnSpec } from '../source/columns.js';
import type { ValueText } from '../source/text-forms.js';

/**
 * Arrow values back to the text a database takes, exactly: 64-bit integers as bigint, decimals
 * from their 128-bit words with the column's scale, timestamps and times from their microsecond
 * integers (never through a JS Date or a double), dates from their day numbers, with PostgreSQL's
 * BC era. A value the target cannot hold comes back as `Unrepresentable` (the caller decides).
 */

export class Unrepresentable {
  constructor(readonly why: string) {}
}

export type Cell = string | null | Unrepresentable;

const US_PER_DAY = 86_400_000_000n;
const US_PER_DAY_N = 86_400_000_000;
/** A 64-bit value's high word below this in magnitude: the value is exact as a double (|v| < 2^53). */
const EXACT_HIGH = 2 ** 21;

function pad(n: number | bigint, w: number): string {
  return String(n).padStart(w, '0');
}

/** 00 to 99: the two-digit fields of dates and times, without a padStart per field. */
const TWO: readonly string[] = Array.from({ length: 100 }, (_, i) => (i < 10 ? `0${i}` : String(i)));

/** A year, 0 ≤ y, in at least four digits. */
function year4(y: number): string {
  return y >= 1000 ? String(y) : y >= 100 ? `0${y}` : y >= 10 ? `00${y}` : `000${y}`;
}

/** Microseconds, 0 ≤ f < 10^6, in six digits. */
function six(f: number): string {
  const t = String(f);
  return t.length === 6 ? t : `${'00000'.slice(t.length - 1)}${t}`;
}

/**
 * The signed 64-bit value at `i` of `words` (the same buffer as 32-bit words, little-endian as
 * Arrow's), as a double when that is exact, else undefined: a timestamp's BigInt (an allocation,
 * and BigInt division per field) is left for the rare value beyond ±2^53 µs (±285 years of 1970).
 */
function exact64(words: Int32Array, i: number): number | undefined {
  const hi = words[2 * i + 1]!;
  return hi < EXACT_HIGH && hi >= -EXACT_HIGH ? hi * 4_294_967_296 + (words[2 * i]! >>> 0) : undefined;
}

/** Days since 1970-01-01 (proleptic Gregorian) → year, month, day. */
function civil(days: number): { y: number; m: number; d: number } {
  // Howard Hinnant's days_from_civil inverse, exact for any year
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp < 10 ? mp + 3 : mp - 9;
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

/** `YYYY-MM-DD`; year 0 and before as PostgreSQL's `… BC` suffix (returned separately). */
function dateText(days: number, target: ValueText): (Cell & string) | Unrepresentable {
  const { y, m, d } = civil(days);
  if (y < target.minYear || y > target.maxYear) return new Unrepresentable(`date in year ${y} (${target.yearsNote})`);
  return y <= 0 ? `${year4(1 - y)}-${TWO[m]}-${TWO[d]} BC` : `${year4(y)}-${TWO[m]}-${TWO[d]}`;
}

function timeOfDay(us: bigint): string {
  const s = us / 1_000_000n;
  const frac = us % 1_000_000n;
  return `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}${frac ? `.${pad(frac, 6)}` : ''}`;
}

/** As timeOfDay, for 0 ≤ us ≤ a day (24:00:00) as an exact double. */
function timeOfDayN(us: number): string {
  const s = Math.floor(us / 1_000_000);
  const frac = us - s * 1_000_000;
  const hms = `${TWO[Math.floor(s / 3600)]}:${TWO[Math.floor(s / 60) % 60]}:${TWO[s % 60]}`;
  return frac ? `${hms}.${six(frac)}` : hms;
}

/** A timestamp as microseconds exact as a double (|us| < 2^53). */
function timestampTextN(us: number, tz: boolean, target: ValueText): Cell {
  // days * US_PER_DAY_N stays below 2^53, so the remainder is exact; the quotient's rounding is fixed after
  let days = Math.floor(us / US_PER_DAY_N);
  let rest = us - days * US_PER_DAY_N;
  if (rest < 0) {
    rest += US_PER_DAY_N;
    days -= 1;
  } else if (rest >= US_PER_DAY_N) {
    rest -= US_PER_DAY_N;
    days += 1;
  }
  return dayTimeText(days, rest, tz, target);
}

/** A timestamp beyond ±2^53 µs: its day and time of day split in BigInt, each then exact as a double. */
function timestampText(us: bigint, tz: boolean, target: ValueText): Cell {
  let days = us / US_PER_DAY;
  let rest = us % US_PER_DAY;
  if (rest < 0n) {
    rest += US_PER_DAY;
    days -= 1n;
  }
  return dayTimeText(Number(days), Number(rest), tz, target);
}

/** Day `days` since 1970-01-01 at `us` (0 ≤ us < a day) microseconds into it; the era after the time zone. */
function dayTimeText(days: number, us: number, tz: boolean, target: ValueText): Cell {
  const date = dateText(days, target);
  if (date instanceof Unrepresentable) return date;
  const bc = date.endsWith(' BC');
  const ymd = bc ? date.slice(0, -3) : date;
  return `${ymd} ${timeOfDayN(us)}${tz ? target.utcSuffix : ''}${bc ? ' BC' : ''}`;
}

/** The unscaled value of a 128-bit two's complement decimal: four little-endian 32-bit words from `at`. */
export function decimalUnscaled(words: Uint32Array, at: number): bigint {
  let v = 0n;
  for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(words[at + k]!);
  return v >= 1n << 127n ? v - (1n << 128n) : v;
}

/**
 * The unscaled value as a double when it is exact (|v| < 2^53: the two high words only sign
 * extension), else undefined: most decimals then need no BigInt.
 */
function decimalSmall(words: Uint32Array, at: number): number | undefined {
  const w1 = words[at + 1]!;
  const w2 = words[at + 2]!;
  if (w2 !== words[at + 3]!) return undefined;
  if (w2 === 0) return w1 < EXACT_HIGH ? w1 * 4_294_967_296 + words[at]! : undefined;
  // negative: w1 as a signed word at least -2^21
  if (w2 === 0xffffffff)
    return w1 >= 0x100000000 - EXACT_HIGH ? (w1 - 0x100000000) * 4_294_967_296 + words[at]! : undefined;
  return undefined;
}

/** A 128-bit two's complement decimal (four little-endian 32-bit words) with `scale` digits after the point. */
export function decimalText(words: Uint32Array, at: number, scale: number): string {
  const v = decimalSmall(words, at) ?? decimalUnscaled(words, at);
  const neg = v < 0;
  const digits = String(neg ? -v : v).padStart(scale + 1, '0');
  const text = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return neg ? `-${text}` : text;
}

function floatText(v: number, kind: 'float32' | 'float64', target: ValueText): Cell {
  if (!Number.isFinite(v)) {
    const t = target.nonFinite(v);
    return typeof t === 'string' ? t : new Unrepresentable(t.why);
  }
  if (Object.is(v, -0)) return '-0';
  // a float32 as the double it is exactly: the shortest float32 text (3.4028235e38) can lie beyond
  // FLT_MAX as a double, and MySQL rejects it; the exact double rounds back to the same float32
  void kind;
  return String(v);
}

/** A list in the target's syntax (a PostgreSQL array, JSON for MySQL); an element it cannot hold makes the list Unrepresentable. */
function listText(items: Cell[], numeric: boolean, target: ValueText): Cell {
  const bad = items.find((c): c is Unrepresentable => c instanceof Unrepresentable);
  if (bad) return bad;
  return target.list(items as Array<string | null>, numeric);
}

const NUMERIC_KINDS: ReadonlySet<ColumnKind> = NUMBER_KINDS;

/** Bytes that are not UTF-8 become U+FFFD, as in Arrow's reader; a leading byte-order mark stays. */
const utf8 = new TextDecoder('utf-8', { ignoreBOM: true });

/**
 * A reader of one column of one batch: `(row) => text | null | Unrepresentable`, the text in the
 * target's own input syntax (before any quoting or COPY escaping, which the loaders add).
 * Binary values are returned as lowercase hex; the loaders wrap them (`\x…`, `X'…'`).
 */
export function cellReader(spec: ColumnSpec, data: Data, target: ValueText): (row: number) => Cell {
  // Arrow's Data.offset places the validity bitmap (getValid adds it) and a boolean's bits; the
  // value and offset buffers of a slice already start at its first row (Data.slice), so a row
  // index is their index as it is
  const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
  switch (spec.kind) {
    case 'decimal': {
      const words = data.values as Uint32Array;
      const scale = spec.scale ?? 0;
      return (i) => (valid(i) ? decimalText(words, i * 4, scale) : null);
    }
    case 'timestamp':
    case 'timestamptz': {
      const values = data.values as BigInt64Array;
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      const tz = spec.kind === 'timestamptz';
      return (i) => {
        if (!valid(i)) return null;
        const n = exact64(words, i);
        return n === undefined ? timestampText(values[i]!, tz, target) : timestampTextN(n, tz, target);
      };
    }
    case 'time': {
      const values = data.values as BigInt64Array;
      const words = new Int32Array(values.buffer, values.byteOffset, values.length * 2);
      return (i) => {
        if (!valid(i)) return null;
        const n = exact64(words, i);
        return n !== undefined && n >= 0 && n <= US_PER_DAY_N ? timeOfDayN(n) : timeOfDay(values[i]!);
      };
    }
    case 'date': {
      const values = data.values as Int32Array;
      return (i) => (valid(i) ? dateText(values[i]!, target) : null);
    }
    case 'float32':
    case 'float64': {
      const values = data.values as Float32Array | Float64Array;
      const kind = spec.kind;
      return (i) => (valid(i) ? floatText(values[i]!, kind, target) : null);
    }
    case 'bool': {
      const v = makeVector(data) as Vector;
      const { trueText, falseText } = target;
      return (i) => (valid(i) ? (v.get(i) ? trueText : falseText) : null);
    }
    case 'binary': {
      const v = makeVector(data) as Vector;
      return (i) => (valid(i) ? Buffer.from(v.get(i) as Uint8Array).toString('hex') : null);
    }
    case 'list': {
      const offsets = data.valueOffsets as Int32Array;
      const child = data.children[0]!;
      const element = cellReader(spec.element!, child, target);
      const numeric = NUMERIC_KINDS.has(spec.element!.kind);
      return (i) => {
        if (!valid(i)) return null;
        const items: Cell[] = [];
        for (let k = offsets[i]!; k < offsets[i + 1]!; k++) items.push(element(k));
        return listText(items, numeric, target);
      };
    }
    case 'string':
    case 'json': {
      // not Arrow's own decoder, which drops a leading U+FEFF (TextDecoder's default): the text is kept as stored
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      return (i) => (valid(i) ? utf8.decode(bytes.subarray(offsets[i]!, offsets[i + 1]!)) : null);
    }
    default: {
      // integers (bigint for 64-bit)
      const v = makeVector(data) as Vector;
      return (i) => (valid(i) ? String(v.get(i)) : null);
    }
  }
}
