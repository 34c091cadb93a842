import { Decimal, makeData, TimeMicrosecond, TimestampMicrosecond } from 'apache-arrow';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cellReader } from '../../src/arrow/to-text.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { valueText as pgText } from '../../src/source/postgres/text.js';

/**
 * Timestamps, times and decimals as text (cellReader) on both of its paths: values within ±2^53
 * are formatted as doubles, the rest through BigInt. Expected texts come from references that
 * share neither: JS Date's UTC fields for the calendar, BigInt's own decimal digits for decimals.
 */

const pad = (n: number | bigint, w: number) => String(n).padStart(w, '0');
const TWO_53 = 2n ** 53n;
/** Microseconds JS Date can place (±8.64e15 ms), and either side of ±2^53 µs where the paths meet. */
const DATE_RANGE = 8_640_000_000_000_000_000n;
const instants = fc.oneof(
  fc.bigInt({ min: -DATE_RANGE + 86_400_000_000n, max: DATE_RANGE - 86_400_000_000n }),
  fc.bigInt({ min: -TWO_53 - 10_000n, max: -TWO_53 + 10_000n }),
  fc.bigInt({ min: TWO_53 - 10_000n, max: TWO_53 + 10_000n }),
  fc.bigInt({ min: -10_000_000_000n, max: 10_000_000_000n }),
);

/** PostgreSQL's text of the instant, from JS Date's UTC fields. */
function expectedTimestamp(us: bigint): string {
  const micro = ((us % 1_000_000n) + 1_000_000n) % 1_000_000n;
  const d = new Date(Number((us - micro) / 1000n));
  const y = d.getUTCFullYear();
  const date = `${pad(y <= 0 ? 1 - y : y, 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}`;
  const time = `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}`;
  return `${date} ${time}${micro ? `.${pad(micro, 6)}` : ''}${y <= 0 ? ' BC' : ''}`;
}

const col = (kind: ColumnSpec['kind'], scale?: number): ColumnSpec => ({
  name: 'c',
  dbType: kind,
  nullable: true,
  kind,
  ...(scale !== undefined ? { precision: 38, scale } : {}),
});

function timestamps(values: bigint[]) {
  return makeData({ type: new TimestampMicrosecond(), length: values.length, data: BigInt64Array.from(values) });
}

/** A 128-bit two's complement value as Arrow's four little-endian 32-bit words. */
function decimalWords(values: bigint[]): Uint32Array {
  const w = new Uint32Array(values.length * 4);
  values.forEach((v, i) => {
    let u = BigInt.asUintN(128, v);
    for (let k = 0; k < 4; k++, u >>= 32n) w[i * 4 + k] = Number(u & 0xffffffffn);
  });
  return w;
}

function expectedDecimal(v: bigint, scale: number): string {
  const digits = (v < 0n ? -v : v).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return v < 0n ? `-${text}` : text;
}

describe('cellReader: timestamps, times and decimals on both paths', () => {
  it('writes a timestamp as its calendar date and time, BC years included (property)', () => {
    fc.assert(
      fc.property(fc.array(instants, { minLength: 1, maxLength: 20 }), (values) => {
        const read = cellReader(col('timestamp'), timestamps(values), pgText);
        expect(values.map((_, i) => read(i))).toEqual(values.map(expectedTimestamp));
      }),
      { numRuns: 300 },
    );
  });

  it('adds the UTC suffix to a timestamptz, before the era (property)', () => {
    fc.assert(
      fc.property(instants, (us) => {
        const read = cellReader(col('timestamptz'), timestamps([us]), pgText);
        const plain = expectedTimestamp(us);
        const expected = plain.endsWith(' BC') ? `${plain.slice(0, -3)}+00 BC` : `${plain}+00`;
        expect(read(0)).toBe(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('writes a time of day, 24:00:00 included (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: 86_400_000_000n }), (us) => {
        const data = makeData({ type: new TimeMicrosecond(), length: 1, data: BigInt64Array.of(us) });
        const s = us / 1_000_000n;
        const f = us % 1_000_000n;
        const expected = `${pad(s / 3600n, 2)}:${pad((s / 60n) % 60n, 2)}:${pad(s % 60n, 2)}${f ? `.${pad(f, 6)}` : ''}`;
        expect(cellReader(col('time'), data, pgText)(0)).toBe(expected);
      }),
    );
  });

  it('writes a decimal with its scale, either side of ±2^53 and up to 38 digits (property)', () => {
    const MAX = 10n ** 38n - 1n;
    const values = fc.oneof(
      fc.bigInt({ min: -MAX, max: MAX }),
      fc.bigInt({ min: -TWO_53 - 5n, max: -TWO_53 + 5n }),
      fc.bigInt({ min: TWO_53 - 5n, max: TWO_53 + 5n }),
      fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }),
      fc.bigInt({ min: -1000n, max: 1000n }),
    );
    fc.assert(
      fc.property(fc.array(values, { minLength: 1, maxLength: 10 }), fc.integer({ min: 0, max: 12 }), (vs, scale) => {
        const data = makeData({ type: new Decimal(scale, 38, 128), length: vs.length, data: decimalWords(vs) });
        const read = cellReader(col('decimal', scale), data, pgText);
        expect(vs.map((_, i) => read(i))).toEqual(vs.map((v) => expectedDecimal(v, scale)));
      }),
      { numRuns: 300 },
    );
  });
});
