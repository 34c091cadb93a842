import {
  Binary, Bool, DataType, DateDay, Decimal, Field, Float32, Float64, Int16, Int32, Int64, Int8, List,
  TimeMicrosecond, TimestampMicrosecond, Uint16, Uint32, Uint64, Uint8, Utf8, makeData, type Data,
} from 'apache-arrow';
import type { ColumnSpec } from '../source/columns.js';
import type { ReadText } from '../source/text-forms.js';
import {
  NOT_REPRESENTABLE, decodePgHex, latin1, parseBigInt, parseDatePart, parseDecimal, parseSmallInt, parseTime, parseTimestamp,
} from './text.js';
import { parsePgArray } from './pg-array.js';
import { checkLength, pgDate, pgInt64, pgNumeric, pgTimestamp } from './pg-binary.js';

/**
 * One builder per column: it takes each value as the bytes of the engine's text format and
 * appends it to typed arrays (no per-value objects), then hands the batch to Arrow as Data.
 * Values a type cannot hold (MySQL zero dates, infinities, NaN in a DECIMAL) become NULL and
 * are counted, never silently changed into something else.
 */
export interface ColumnBuilder {
  readonly spec: ColumnSpec;
  readonly type: DataType;
  readonly length: number;
  append(buf: Buffer, start: number, end: number): void;
  appendNull(): void;
  /** The values appended since the last flush, as Arrow Data; the builder starts empty again. */
  flush(): Data;
  readonly counters: ValueCounters;
}

export interface ValueCounters {
  /** MySQL zero dates (0000-00-00, or a zero month/day) written as NULL. */
  zeroDates: number;
  /** Other values the Parquet type cannot hold (infinity dates, NaN decimals, TIME beyond 24h) written as NULL. */
  notRepresentable: number;
}

class Validity {
  bits: Uint8Array;
  nullCount = 0;
  constructor(cap: number) { this.bits = new Uint8Array((cap + 7) >> 3); }
  grow(cap: number): void {
    const need = (cap + 7) >> 3;
    if (need <= this.bits.length) return;
    const next = new Uint8Array(Math.max(need, this.bits.length * 2));
    next.set(this.bits);
    this.bits = next;
  }
  set(i: number, valid: boolean): void {
    if (valid) this.bits[i >> 3]! |= 1 << (i & 7);
    else this.nullCount++;
  }
  take(length: number): { nullCount: number; nullBitmap: Uint8Array | undefined } {
    const out = { nullCount: this.nullCount, nullBitmap: this.nullCount ? this.bits.slice(0, (length + 7) >> 3) : undefined };
    this.bits.fill(0, 0, (length + 7) >> 3);
    this.nullCount = 0;
    return out;
  }
}

type Ctor<T> = { new (n: number): T };
type Fixed = Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array | Float32Array | Float64Array | BigInt64Array | BigUint64Array;

type Writer = (b: FixedBuilder, i: number, buf: Buffer, s: number, e: number) => void;

abstract class BaseBuilder implements ColumnBuilder {
  length = 0;
  cap: number;
  readonly validity: Validity;
  private readonly ownCounters: ValueCounters = { zeroDates: 0, notRepresentable: 0 };
  get counters(): ValueCounters { return this.ownCounters; }
  constructor(readonly spec: ColumnSpec, readonly type: DataType, capacity: number) {
    this.cap = Math.max(16, capacity);
    this.validity = new Validity(this.cap);
  }
  protected ensure(): void {
    if (this.length < this.cap) return;
    this.cap *= 2;
    this.validity.grow(this.cap);
    this.growValues(this.cap);
  }
  protected abstract growValues(cap: number): void;
  abstract append(buf: Buffer, start: number, end: number): void;
  abstract flush(): Data;
  appendNull(): void {
    this.ensure();
    this.validity.set(this.length, false);
    this.writeNull(this.length);
    this.length++;
  }
  protected writeNull(_i: number): void {}
  protected nullFor(reason: 'zero' | typeof NOT_REPRESENTABLE): void {
    if (reason === 'zero') this.ownCounters.zeroDates++;
    else this.ownCounters.notRepresentable++;
    this.appendNull();
  }
  protected valueError(buf: Buffer, start: number, end: number, cause: unknown): Error {
    const shown = latin1(buf, start, Math.min(end, start + 60));
    return new Error(`column "${this.spec.name}" (${this.spec.dbType}): cannot read value "${shown}": ${cause instanceof Error ? cause.message : String(cause)}`);
  }
}

class FixedBuilder<T extends Fixed = Fixed> extends BaseBuilder {
  values: T;
  constructor(spec: ColumnSpec, type: DataType, capacity: number, private readonly ArrayType: Ctor<T>,
    private readonly write: Writer,
    /** array slots per value: 4 for a 128-bit decimal */
    private readonly stride = 1) {
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
    try { this.write(this, i, buf, start, end); } catch (e) { throw this.valueError(buf, start, end, e); }
    if (this.length === i) { this.validity.set(i, true); this.length++; }
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
  nullInstead(reason: 'zero' | typeof NOT_REPRESENTABLE): void { this.nullFor(reason); }
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
function setInt64(b: FixedBuilder, i: number, v: number | bigint): void {
  if (typeof v === 'bigint') { (b.values as BigInt64Array)[i] = v; return; }
  const i32 = b.int32View();
  const hi = Math.floor(v / 4294967296);
  i32[2 * i] = (v - hi * 4294967296) | 0;
  i32[2 * i + 1] = hi | 0;
}

function int64Writer(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const small = parseSmallInt(buf, s, e);
  setInt64(b, i, small ?? parseBigInt(buf, s, e));
}

function intWriter(min: number, max: number) {
  return (b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void => {
    const v = parseSmallInt(buf, s, e);
    if (v === undefined || v < min || v > max) throw new RangeError(`not an integer in [${min}, ${max}]`);
    (b.values as Int32Array)[i] = v;
  };
}

function floatWriter(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const text = latin1(buf, s, e);
  const v = Number(text);
  if (Number.isNaN(v) && !/^[+-]?nan$/i.test(text)) throw new SyntaxError('not a number');
  (b.values as Float64Array)[i] = v;
}

function dateWriter(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const d = parseDatePart(buf, s, e);
  if (d === 'zero' || d === NOT_REPRESENTABLE) { b.nullInstead(d); return; }
  (b.values as Int32Array)[i] = d.days;
}

function timeWriter(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const t = parseTime(buf, s, e);
  if (t === NOT_REPRESENTABLE) { b.nullInstead(t); return; }
  setInt64(b, i, t);
}

function timestampWriter(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const t = parseTimestamp(buf, s, e);
  if (t === 'zero' || t === NOT_REPRESENTABLE) { b.nullInstead(t); return; }
  setInt64(b, i, t);
}

function decimalWriter(scale: number) {
  return (b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void => {
    writeDecimal(b, i, parseDecimal(buf, s, e, scale));
  };
}

/** The unscaled integer as a little-endian 128-bit two's complement in four uint32 words. */
function writeDecimal(b: FixedBuilder, i: number, v: number | bigint | typeof NOT_REPRESENTABLE): void {
  if (v === NOT_REPRESENTABLE) { b.nullInstead(v); return; }
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
  for (let k = 0; k < 4; k++) { w[o + k] = Number(u & 0xffffffffn); u >>= 32n; }
}

class BoolBuilder extends BaseBuilder {
  bits: Uint8Array;
  /** pgBinary: one byte, 0 or 1 (PostgreSQL's binary COPY) instead of text */
  constructor(spec: ColumnSpec, capacity: number, private readonly pgBinary = false) {
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
    } else if (c === 0x74 || c === 0x54) v = true; // t, true
    else if (c === 0x66 || c === 0x46) v = false; // f, false
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

/** Strings, JSON and binary: int32 offsets and one byte buffer. */
class VarBuilder extends BaseBuilder {
  offsets: Int32Array;
  bytes: Uint8Array;
  used = 0;
  constructor(spec: ColumnSpec, type: Utf8 | Binary, capacity: number, private readonly pgHex: boolean,
    /** jsonb's binary COPY form: a version byte (1) before the JSON text */
    private readonly jsonbVersion = false) {
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
    if (size > 0x7fffffff) throw new RangeError(`column "${this.spec.name}": more than 2 GiB of values in one batch; lower --batch-rows`);
    const next = new Uint8Array(size);
    next.set(this.bytes.subarray(0, this.used));
    this.bytes = next;
  }
  append(buf: Buffer, start: number, end: number): void {
    this.ensure();
    if (this.pgHex) {
      let decoded: Buffer;
      try { decoded = decodePgHex(buf, start, end); } catch (e) { throw this.valueError(buf, start, end, e); }
      buf = decoded; start = 0; end = decoded.length;
    } else if (this.jsonbVersion) {
      if (buf[start] !== 1) throw this.valueError(buf, start, end, `jsonb binary format version ${buf[start]} is not supported`);
      start++;
    }
    const n = end - start;
    this.reserve(n);
    const out = this.bytes;
    let o = this.used;
    if (n < 48) for (let i = start; i < end; i++) out[o++] = buf[i]!; // cheaper than a native call for short values
    else buf.copy(out, o, start, end);
    this.used += n;
    this.validity.set(this.length, true);
    this.length++;
    this.offsets[this.length] = this.used;
  }
  protected override writeNull(i: number): void { this.offsets[i + 1] = this.used; }
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

/** PostgreSQL one-dimensional arrays: `{a,b,NULL}` parsed into a child builder. */
class ListBuilder extends BaseBuilder {
  offsets: Int32Array;
  constructor(spec: ColumnSpec, type: List, readonly child: ColumnBuilder, capacity: number) {
    super(spec, type, capacity);
    this.offsets = new Int32Array(this.cap + 1);
  }
  override get counters(): ValueCounters { return this.child.counters; }
  protected growValues(cap: number): void {
    const next = new Int32Array(cap + 1);
    next.set(this.offsets);
    this.offsets = next;
  }
  append(buf: Buffer, start: number, end: number): void {
    this.ensure();
    try { parsePgArray(buf, start, end, this.child); } catch (e) { throw this.valueError(buf, start, end, e); }
    this.validity.set(this.length, true);
    this.length++;
    this.offsets[this.length] = this.child.length;
  }
  protected override writeNull(i: number): void { this.offsets[i + 1] = this.child.length; }
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

export function arrowType(spec: ColumnSpec): DataType {
  switch (spec.kind) {
    case 'bool': return new Bool();
    case 'int8': return new Int8();
    case 'int16': return new Int16();
    case 'int32': return new Int32();
    case 'int64': return new Int64();
    case 'uint8': return new Uint8();
    case 'uint16': return new Uint16();
    case 'uint32': return new Uint32();
    case 'uint64': return new Uint64();
    case 'float32': return new Float32();
    case 'float64': return new Float64();
    case 'decimal': return new Decimal(spec.scale ?? 0, spec.precision ?? 38, 128);
    case 'string': case 'json': return new Utf8();
    case 'binary': return new Binary();
    case 'date': return new DateDay();
    case 'time': return new TimeMicrosecond();
    case 'timestamp': return new TimestampMicrosecond();
    case 'timestamptz': return new TimestampMicrosecond('UTC');
    case 'list': return new List(new Field('element', arrowType(spec.element!), true));
  }
}

export function createBuilder(spec: ColumnSpec, dialect: ReadText, capacity: number): ColumnBuilder {
  const type = arrowType(spec);
  const F = <T extends Fixed>(A: Ctor<T>, w: (b: FixedBuilder, i: number, buf: Buffer, s: number, e: number) => void) =>
    new FixedBuilder<T>(spec, type, capacity, A, w);
  switch (spec.kind) {
    case 'bool': return new BoolBuilder(spec, capacity);
    case 'int8': return F(Int8Array, intWriter(-128, 127));
    case 'int16': return F(Int16Array, intWriter(-32768, 32767));
    case 'int32': return F(Int32Array, intWriter(-2147483648, 2147483647));
    case 'uint8': return F(Uint8Array, intWriter(0, 255));
    case 'uint16': return F(Uint16Array, intWriter(0, 65535));
    case 'uint32': return F(Uint32Array, intWriter(0, 4294967295));
    case 'int64': return F(BigInt64Array, int64Writer);
    case 'uint64': return F(BigUint64Array, int64Writer);
    case 'float32': return F(Float32Array, floatWriter);
    case 'float64': return F(Float64Array, floatWriter);
    case 'decimal': return new FixedBuilder(spec, type, capacity, Uint32Array, decimalWriter(spec.scale ?? 0), 4);
    case 'string': case 'json': return new VarBuilder(spec, type as Utf8, capacity, false);
    case 'binary': return new VarBuilder(spec, type as Binary, capacity, dialect.hexBinary);
    case 'date': return F(Int32Array, dateWriter);
    case 'time': return F(BigInt64Array, timeWriter);
    case 'timestamp': case 'timestamptz': return F(BigInt64Array, timestampWriter);
    case 'list': return new ListBuilder(spec, type as List, createBuilder(spec.element!, dialect, capacity * 4), capacity);
  }
}

/** PostgreSQL binary COPY forms that have a builder of their own; other types are read as text. */
export type PgBinaryWire = 'bool' | 'int2' | 'int4' | 'int8' | 'float4' | 'float8' | 'numeric' | 'varlena' | 'jsonb' | 'date' | 'time' | 'timestamp';

/** The column kinds each binary form can fill. */
export const PG_BINARY_KINDS: Record<PgBinaryWire, readonly string[]> = {
  bool: ['bool'], int2: ['int16'], int4: ['int32'], int8: ['int64'], float4: ['float32'], float8: ['float64'],
  numeric: ['decimal'], varlena: ['string', 'json', 'binary'], jsonb: ['json'],
  date: ['date'], time: ['time'], timestamp: ['timestamp', 'timestamptz'],
};

/** The fixed-width binary forms, as small integers for PgFixedBuilder's switch. */
const FIXED_WIRES = { int2: 1, int4: 2, int8: 3, time: 3, float4: 4, float8: 5, numeric: 6, date: 7, timestamp: 8 } as const;
type FixedWire = keyof typeof FIXED_WIRES;

/** Byte length of forms 1-5, read here as they are; numeric, date and timestamp check their own. */
const RAW_BYTES = [0, 2, 4, 8, 4, 8];

function noWriter(): void { throw new Error('internal: PgFixedBuilder writes its values itself'); }

/**
 * Numbers, dates and timestamps in PostgreSQL's binary form. One class whose append switches
 * on the form, instead of a FixedBuilder calling a writer closure per column: the decoder's
 * `append` call then sees two classes instead of a closure per column, and V8 inlines it
 * (decoding the benchmark table's COPY output took 5-10% less CPU).
 */
class PgFixedBuilder<T extends Fixed = Fixed> extends FixedBuilder<T> {
  private readonly wire: number;
  private readonly scale: number;
  constructor(spec: ColumnSpec, type: DataType, capacity: number, ArrayType: Ctor<T>, private readonly wireName: FixedWire, stride = 1) {
    super(spec, type, capacity, ArrayType, noWriter, stride);
    this.wire = FIXED_WIRES[wireName];
    this.scale = spec.scale ?? 0;
  }
  override append(buf: Buffer, s: number, e: number): void {
    this.ensure();
    const i = this.length;
    const w = this.wire;
    try {
      if (w < 6) checkLength(s, e, RAW_BYTES[w]!, this.wireName);
      switch (w) {
        case 1: (this.values as Int16Array)[i] = buf.readInt16BE(s); break;
        case 2: (this.values as Int32Array)[i] = buf.readInt32BE(s); break;
        case 3: setInt64(this, i, pgInt64(buf, s)); break;
        case 4: (this.values as Float32Array)[i] = buf.readFloatBE(s); break;
        case 5: (this.values as Float64Array)[i] = buf.readDoubleBE(s); break;
        case 6: {
          const v = pgNumeric(buf, s, e, this.scale);
          if (v === NOT_REPRESENTABLE) { this.nullInstead(v); return; }
          writeDecimal(this, i, v);
          break;
        }
        case 7: {
          const d = pgDate(buf, s, e);
          if (d === NOT_REPRESENTABLE) { this.nullInstead(d); return; }
          (this.values as Int32Array)[i] = d;
          break;
        }
        case 8: {
          const t = pgTimestamp(buf, s, e);
          if (t === NOT_REPRESENTABLE) { this.nullInstead(t); return; }
          setInt64(this, i, t);
          break;
        }
      }
    } catch (err) { throw this.valueError(buf, s, e, err); }
    this.validity.set(i, true);
    this.length = i + 1;
  }
}

export function createPgBinaryBuilder(spec: ColumnSpec, wire: PgBinaryWire, capacity: number): ColumnBuilder {
  if (!PG_BINARY_KINDS[wire].includes(spec.kind)) throw new Error(`internal: binary ${wire} cannot fill a ${spec.kind} column`);
  const type = arrowType(spec);
  const F = <T extends Fixed>(A: Ctor<T>, wire: FixedWire, stride = 1) => new PgFixedBuilder<T>(spec, type, capacity, A, wire, stride);
  switch (wire) {
    case 'bool': return new BoolBuilder(spec, capacity, true);
    case 'int2': return F(Int16Array, wire);
    case 'int4': return F(Int32Array, wire);
    case 'int8': case 'time': return F(BigInt64Array, wire);
    case 'float4': return F(Float32Array, wire);
    case 'float8': return F(Float64Array, wire);
    case 'numeric': return F(Uint32Array, wire, 4);
    case 'date': return F(Int32Array, wire);
    case 'timestamp': return F(BigInt64Array, wire);
    case 'varlena': return new VarBuilder(spec, type as Utf8 | Binary, capacity, false);
    case 'jsonb': return new VarBuilder(spec, type as Utf8, capacity, false, true);
  }
}
