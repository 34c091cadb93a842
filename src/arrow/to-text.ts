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

function pad(n: number | bigint, w: number): string {
  return String(n).padStart(w, '0');
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
  return y <= 0 ? `${pad(1 - y, 4)}-${pad(m, 2)}-${pad(d, 2)} BC` : `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
}

function timeOfDay(us: bigint): string {
  const s = us / 1_000_000n;
  const frac = us % 1_000_000n;
  return `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}${frac ? `.${pad(frac, 6)}` : ''}`;
}

function timestampText(us: bigint, tz: boolean, target: ValueText): Cell {
  let days = us / US_PER_DAY;
  let rest = us % US_PER_DAY;
  if (rest < 0n) {
    rest += US_PER_DAY;
    days -= 1n;
  }
  const date = dateText(Number(days), target);
  if (date instanceof Unrepresentable) return date;
  const bc = date.endsWith(' BC');
  const ymd = bc ? date.slice(0, -3) : date;
  return `${ymd} ${timeOfDay(rest)}${tz ? target.utcSuffix : ''}${bc ? ' BC' : ''}`;
}

/** The unscaled value of a 128-bit two's complement decimal: four little-endian 32-bit words from `at`. */
export function decimalUnscaled(words: Uint32Array, at: number): bigint {
  let v = 0n;
  for (let k = 3; k >= 0; k--) v = (v << 32n) | BigInt(words[at + k]!);
  return v >= 1n << 127n ? v - (1n << 128n) : v;
}

/** A 128-bit two's complement decimal (four little-endian 32-bit words) with `scale` digits after the point. */
export function decimalText(words: Uint32Array, at: number, scale: number): string {
  const v = decimalUnscaled(words, at);
  const neg = v < 0n;
  const digits = (neg ? -v : v).toString().padStart(scale + 1, '0');
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
  const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
  const off = data.offset;
  switch (spec.kind) {
    case 'decimal': {
      const words = data.values as Uint32Array;
      const scale = spec.scale ?? 0;
      return (i) => (valid(i) ? decimalText(words, (off + i) * 4, scale) : null);
    }
    case 'timestamp':
    case 'timestamptz': {
      const values = data.values as BigInt64Array;
      const tz = spec.kind === 'timestamptz';
      return (i) => (valid(i) ? timestampText(values[off + i]!, tz, target) : null);
    }
    case 'time': {
      const values = data.values as BigInt64Array;
      return (i) => (valid(i) ? timeOfDay(values[off + i]!) : null);
    }
    case 'date': {
      const values = data.values as Int32Array;
      return (i) => (valid(i) ? dateText(values[off + i]!, target) : null);
    }
    case 'float32':
    case 'float64': {
      const values = data.values as Float32Array | Float64Array;
      const kind = spec.kind;
      return (i) => (valid(i) ? floatText(values[off + i]!, kind, target) : null);
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
        for (let k = offsets[off + i]!; k < offsets[off + i + 1]!; k++) items.push(element(k));
        return listText(items, numeric, target);
      };
    }
    case 'string':
    case 'json': {
      // not Arrow's own decoder, which drops a leading U+FEFF (TextDecoder's default): the text is kept as stored
      const offsets = data.valueOffsets as Int32Array;
      const bytes = data.values as Uint8Array;
      return (i) => (valid(i) ? utf8.decode(bytes.subarray(offsets[off + i]!, offsets[off + i + 1]!)) : null);
    }
    default: {
      // integers (bigint for 64-bit)
      const v = makeVector(data) as Vector;
      return (i) => (valid(i) ? String(v.get(i)) : null);
    }
  }
}
