import { describe, expect, it } from 'vitest';
import { createPgBinaryBuilder, type PgBinaryWire } from '../../src/arrow/builders.js';
import type { ColumnKind, ColumnSpec } from '../../src/source/columns.js';

/** PostgreSQL's binary COPY values, built by hand (big-endian), into one builder per form. */
const spec = (kind: ColumnKind, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name: 'c',
  dbType: kind,
  nullable: true,
  kind,
  ...extra,
});

function fill(wire: PgBinaryWire, s: ColumnSpec, values: Array<Buffer | null>) {
  const b = createPgBinaryBuilder(s, wire, 2); // capacity 2: the third value makes it grow
  for (const v of values) {
    if (v === null) b.appendNull();
    else b.append(Buffer.concat([Buffer.from([0xee]), v, Buffer.from([0xee])]), 1, 1 + v.length); // at an offset, as in a socket chunk
  }
  return { builder: b, data: b.flush() };
}

const be = (bytes: number, write: (buf: Buffer) => void) => {
  const buf = Buffer.alloc(bytes);
  write(buf);
  return buf;
};
const int16 = (v: number) => be(2, (b) => b.writeInt16BE(v));
const int32 = (v: number) => be(4, (b) => b.writeInt32BE(v));
const int64 = (v: bigint) => be(8, (b) => b.writeBigInt64BE(v));
/** numeric: ndigits, weight, sign, dscale, then base-10000 digits */
const numeric = (weight: number, sign: number, dscale: number, digits: number[]) =>
  Buffer.concat([
    be(8, (b) => {
      b.writeInt16BE(digits.length);
      b.writeInt16BE(weight, 2);
      b.writeUInt16BE(sign, 4);
      b.writeInt16BE(dscale, 6);
    }),
    ...digits.map(int16),
  ]);

const PG_EPOCH_DAYS = 10957;
const PG_EPOCH_MICROS = 946_684_800_000_000n;

describe('PostgreSQL binary COPY builders', () => {
  it('integers of each width, NULLs in between, across a capacity growth', () => {
    expect(
      Array.from(fill('int2', spec('int16'), [int16(-32768), null, int16(32767)]).data.values as Int16Array),
    ).toEqual([-32768, 0, 32767]);
    const i4 = fill('int4', spec('int32'), [int32(-2147483648), int32(7), null, int32(2147483647)]).data;
    expect(Array.from(i4.values as Int32Array)).toEqual([-2147483648, 7, 0, 2147483647]);
    expect(i4.nullCount).toBe(1);
    const i8 = fill('int8', spec('int64'), [
      int64(-(2n ** 63n)),
      int64(2n ** 53n + 1n),
      int64(-1n),
      int64(2n ** 63n - 1n),
    ]).data;
    expect(Array.from(i8.values as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 53n + 1n, -1n, 2n ** 63n - 1n]);
  });

  it('floats, time of day', () => {
    expect(
      Array.from(fill('float4', spec('float32'), [be(4, (b) => b.writeFloatBE(1.5))]).data.values as Float32Array),
    ).toEqual([1.5]);
    expect(
      Array.from(
        fill('float8', spec('float64'), [
          be(8, (b) => b.writeDoubleBE(-0.1)),
          be(8, (b) => b.writeDoubleBE(Number.NaN)),
        ]).data.values as Float64Array,
      ),
    ).toEqual([-0.1, Number.NaN]);
    expect(Array.from(fill('time', spec('time'), [int64(86_400_000_000n)]).data.values as BigInt64Array)).toEqual([
      86_400_000_000n,
    ]);
  });

  it('dates and timestamps from the 2000-01-01 epoch; ±infinity become NULL and are counted', () => {
    const d = fill('date', spec('date'), [int32(0), int32(-PG_EPOCH_DAYS - 1), int32(0x7fffffff), int32(-0x80000000)]);
    expect(Array.from(d.data.values as Int32Array).slice(0, 2)).toEqual([PG_EPOCH_DAYS, -1]);
    expect(d.data.nullCount).toBe(2);
    expect(d.builder.counters.notRepresentable).toBe(2);
    const t = fill('timestamp', spec('timestamptz'), [
      int64(0n),
      int64(-PG_EPOCH_MICROS - 1n),
      int64(2n ** 63n - 1n),
      int64(2n ** 60n),
    ]);
    expect(Array.from(t.data.values as BigInt64Array)).toEqual([PG_EPOCH_MICROS, -1n, 0n, 2n ** 60n + PG_EPOCH_MICROS]);
    expect(t.builder.counters.notRepresentable).toBe(1);
  });

  it('numeric at the column scale, as 128-bit unscaled integers; NaN becomes NULL', () => {
    const n = fill('numeric', spec('decimal', { precision: 12, scale: 2 }), [
      numeric(0, 0, 2, [12, 3400]), // 12.34
      numeric(0, 0x4000, 0, [5]), // -5
      numeric(0, 0xc000, 0, []), // NaN
    ]);
    const w = n.data.values as Uint32Array;
    expect([w[0], w[1], w[2], w[3]]).toEqual([1234, 0, 0, 0]);
    expect([w[4], w[5], w[6], w[7]]).toEqual([-500 >>> 0, 0xffffffff, 0xffffffff, 0xffffffff]);
    expect(n.data.nullCount).toBe(1);
    expect(n.builder.counters.notRepresentable).toBe(1);
  });

  it('a value of the wrong length is refused with the column and the form named', () => {
    expect(() => fill('int4', spec('int32'), [int16(1)])).toThrow(
      /column "c" \(int32\): cannot read value .*a binary int4 is 4 bytes, got 2/,
    );
    expect(() => fill('timestamp', spec('timestamp'), [int32(1)])).toThrow(/a binary timestamp is 8 bytes, got 4/);
    expect(() =>
      fill('numeric', spec('decimal', { precision: 5, scale: 0 }), [numeric(0, 0, 0, [1]).subarray(0, 9)]),
    ).toThrow(/a binary numeric is 10 bytes, got 9/);
  });
});
