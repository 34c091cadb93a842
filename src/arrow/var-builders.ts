import { Bool, makeData, type Binary, type Data, type List, type Utf8 } from 'apache-arrow';
import type { ColumnSpec } from '../source/columns.js';
import { decodePgHex, parseSmallInt } from './text.js';
import { parsePgArray } from './pg-array.js';
import { BaseBuilder, type ColumnBuilder, type ValueCounters } from './column-builder.js';

/** Booleans as a bitmap: text (t/f, true/false, 0/1) or PostgreSQL's one binary byte. */
export class BoolBuilder extends BaseBuilder {
  bits: Uint8Array;
  /** pgBinary: one byte, 0 or 1 (PostgreSQL's binary COPY) instead of text */
  constructor(
    spec: ColumnSpec,
    capacity: number,
    private readonly pgBinary = false,
  ) {
    super(spec, new Bool(), capacity);
    this.bits = new Uint8Array((this.cap + 7) >> 3);
  }
  protected growValues(cap: number): void {
    const next = new Uint8Array((cap + 7) >> 3);
    next.set(this.bits);
    this.bits = next;
  }
  append(buf: Buffer, start: number, end: number): void {
    this.ensure();
    const c = buf[start];
    let v: boolean;
    if (this.pgBinary) {
      if (end - start !== 1 || c! > 1) throw this.valueError(buf, start, end, 'not a binary boolean');
      v = c === 1;
    } else if (c === 0x74 || c === 0x54)
      v = true; // t, true
    else if (c === 0x66 || c === 0x46)
      v = false; // f, false
    else {
      const n = parseSmallInt(buf, start, end);
      if (n === undefined) throw this.valueError(buf, start, end, 'not a boolean');
      v = n !== 0;
    }
    if (v) this.bits[this.length >> 3]! |= 1 << (this.length & 7);
    this.validity.set(this.length, true);
    this.length++;
  }
  flush(): Data {
    const length = this.length;
    const { nullCount, nullBitmap } = this.validity.take(length);
    const data = this.bits.subarray(0, (length + 7) >> 3);
    this.bits = new Uint8Array((this.cap + 7) >> 3);
    this.length = 0;
    return makeData({ type: new Bool(), length, nullCount, nullBitmap, data });
  }
}

export /** Strings, JSON and binary: int32 offsets and one byte buffer. */
class VarBuilder extends BaseBuilder {
  offsets: Int32Array;
  bytes: Uint8Array;
  used = 0;
  constructor(
    spec: ColumnSpec,
    type: Utf8 | Binary,
    capacity: number,
    private readonly pgHex: boolean,
    /** jsonb's binary COPY form: a version byte (1) before the JSON text */
    private readonly jsonbVersion = false,
  ) {
    super(spec, type, capacity);
    this.offsets = new Int32Array(this.cap + 1);
    this.bytes = new Uint8Array(this.cap * 16);
  }
  protected growValues(cap: number): void {
    const next = new Int32Array(cap + 1);
    next.set(this.offsets);
    this.offsets = next;
  }
  private reserve(n: number): void {
    if (this.used + n <= this.bytes.length) return;
    let size = this.bytes.length * 2;
    while (size < this.used + n) size *= 2;
    if (size > 0x7fffffff)
      throw new RangeError(`column "${this.spec.name}": more than 2 GiB of values in one batch; lower --batch-rows`);
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.used));
    this.bytes = next;
  }
  append(buf: Buffer, start: number, end: number): void {
    this.ensure();
    if (this.pgHex) {
      let decoded: Buffer;
      try {
        decoded = decodePgHex(buf, start, end);
      } catch (e) {
        throw this.valueError(buf, start, end, e);
      }
      buf = decoded;
      start = 0;
      end = decoded.length;
    } else if (this.jsonbVersion) {
      if (buf[start] !== 1)
        throw this.valueError(buf, start, end, `jsonb binary format version ${buf[start]} is not supported`);
      start++;
    }
    const n = end - start;
    this.reserve(n);
    const out = this.bytes;
    let o = this.used;
    if (n < 48)
      for (let i = start; i < end; i++) out[o++] = buf[i]!; // cheaper than a native call for short values
    else buf.copy(out, o, start, end);
    this.used += n;
    this.validity.set(this.length, true);
    this.length++;
    this.offsets[this.length] = this.used;
  }
  protected override writeNull(i: number): void {
    this.offsets[i + 1] = this.used;
  }
  flush(): Data {
    const length = this.length;
    const { nullCount, nullBitmap } = this.validity.take(length);
    const valueOffsets = this.offsets.slice(0, length + 1);
    const data = this.bytes.slice(0, this.used);
    this.length = 0;
    this.used = 0;
    this.offsets[0] = 0;
    return makeData({ type: this.type as Utf8, length, nullCount, nullBitmap, valueOffsets, data });
  }
}

export /** PostgreSQL one-dimensional arrays: `{a,b,NULL}` parsed into a child builder. */
class ListBuilder extends BaseBuilder {
  offsets: Int32Array;
  constructor(
    spec: ColumnSpec,
    type: List,
    readonly child: ColumnBuilder,
    capacity: number,
  ) {
    super(spec, type, capacity);
    this.offsets = new Int32Array(this.cap + 1);
  }
  override get counters(): ValueCounters {
    return this.child.counters;
  }
  protected growValues(cap: number): void {
    const next = new Int32Array(cap + 1);
    next.set(this.offsets);
    this.offsets = next;
  }
  append(buf: Buffer, start: number, end: number): void {
    this.ensure();
    try {
      parsePgArray(buf, start, end, this.child);
    } catch (e) {
      throw this.valueError(buf, start, end, e);
    }
    this.validity.set(this.length, true);
    this.length++;
    this.offsets[this.length] = this.child.length;
  }
  protected override writeNull(i: number): void {
    this.offsets[i + 1] = this.child.length;
  }
  flush(): Data {
    const length = this.length;
    const { nullCount, nullBitmap } = this.validity.take(length);
    const valueOffsets = this.offsets.slice(0, length + 1);
    const child = this.child.flush();
    this.length = 0;
    this.offsets[0] = 0;
    return makeData({ type: this.type as List, length, nullCount, nullBitmap, valueOffsets, child });
  }
}
