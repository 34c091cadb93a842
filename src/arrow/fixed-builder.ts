import { makeData, type Data, type DataType } from 'apache-arrow';
import type { ColumnSpec } from '../source/columns.js';
import { NOT_REPRESENTABLE } from './text.js';
import { BaseBuilder, type Ctor, type Fixed, type NullReason } from './column-builder.js';

/** Writes one value from its text at [s, e) into slot i (or appends a NULL through `nullInstead`). */
export type Writer = (b: FixedBuilder, i: number, buf: Buffer, s: number, e: number) => void;

/** Fixed-width values (numbers, dates, times, decimals) in one typed array. */
export class FixedBuilder<T extends Fixed = Fixed> extends BaseBuilder {
  values: T;
  constructor(
    spec: ColumnSpec,
    type: DataType,
    capacity: number,
    private readonly ArrayType: Ctor<T>,
    private readonly write: Writer,
    /** array slots per value: 4 for a 128-bit decimal */
    private readonly stride = 1,
  ) {
    super(spec, type, capacity);
    this.values = new ArrayType(this.cap * stride);
  }
  protected growValues(cap: number): void {
    const next = new this.ArrayType(cap * this.stride);
    next.set(this.values as never);
    this.values = next;
  }
  append(buf: Buffer, start: number, end: number): void {
    this.ensure();
    const i = this.length;
    try {
      this.write(this, i, buf, start, end);
    } catch (e) {
      throw this.valueError(buf, start, end, e);
    }
    if (this.length === i) {
      this.validity.set(i, true);
      this.length++;
    }
  }
  private view?: Int32Array;
  private viewOf?: T;
  /** The 64-bit values as int32 pairs, to write safe numbers without BigInt. */
  int32View(): Int32Array {
    if (this.viewOf !== this.values) {
      this.view = new Int32Array(this.values.buffer, this.values.byteOffset, this.values.byteLength >> 2);
      this.viewOf = this.values;
    }
    return this.view!;
  }
  /** Called by a writer that decided the value is NULL (it appends the null itself). */
  nullInstead(reason: NullReason): void {
    this.nullFor(reason);
  }
  flush(): Data {
    const length = this.length;
    const { nullCount, nullBitmap } = this.validity.take(length);
    // hand the array to Arrow and start a fresh one: no copy, and NULL slots stay zero so equal rows give equal bytes
    const data = this.values.subarray(0, length * this.stride);
    this.values = new this.ArrayType(this.cap * this.stride);
    this.length = 0;
    return makeData({ type: this.type as never, length, nullCount, nullBitmap, data } as never) as Data;
  }
}

/** Writes a 64-bit integer held as a safe JS number without going through BigInt. */
export function setInt64(b: FixedBuilder, i: number, v: number | bigint): void {
  if (typeof v === 'bigint') {
    (b.values as BigInt64Array)[i] = v;
    return;
  }
  const i32 = b.int32View();
  const hi = Math.floor(v / 4294967296);
  i32[2 * i] = (v - hi * 4294967296) | 0;
  i32[2 * i + 1] = hi | 0;
}

/** The unscaled integer as a little-endian 128-bit two's complement in four uint32 words. */
export function writeDecimal(b: FixedBuilder, i: number, v: number | bigint | typeof NOT_REPRESENTABLE): void {
  if (v === NOT_REPRESENTABLE) {
    b.nullInstead(v);
    return;
  }
  const o = i * 4;
  const w = b.values as Uint32Array;
  if (typeof v === 'number') {
    const hi = Math.floor(v / 4294967296);
    w[o] = v - hi * 4294967296;
    w[o + 1] = hi >>> 0;
    const ext = v < 0 ? 0xffffffff : 0;
    w[o + 2] = ext;
    w[o + 3] = ext;
    return;
  }
  let u = BigInt.asUintN(128, v);
  for (let k = 0; k < 4; k++) {
    w[o + k] = Number(u & 0xffffffffn);
    u >>= 32n;
  }
}
