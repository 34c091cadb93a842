import type { Binary, DataType, Utf8 } from 'apache-arrow';
import type { ColumnSpec } from '../source/columns.js';
import { NOT_REPRESENTABLE } from './text.js';
import { checkLength, pgDate, pgInt64, pgNumeric, pgTimestamp } from './pg-binary.js';
import { arrowType } from './arrow-type.js';
import type { ColumnBuilder, Ctor, Fixed } from './column-builder.js';
import { FixedBuilder, setInt64, writeDecimal } from './fixed-builder.js';
import { BoolBuilder, VarBuilder } from './var-builders.js';

/**
 * The column builders: the interface, and the two factories (values in the engine's text form,
 * values in PostgreSQL's binary COPY form). Each kind of builder lives in its own file
 * (column-builder, fixed-builder, var-builders); PostgreSQL's binary numbers, dates and
 * timestamps are the one PgFixedBuilder class here.
 */
export type { ColumnBuilder, ValueCounters } from './column-builder.js';
export { arrowType } from './arrow-type.js';
export { createBuilder } from './text-builders.js';

/** PostgreSQL binary COPY forms that have a builder of their own; other types are read as text. */
export type PgBinaryWire =
  | 'bool'
  | 'int2'
  | 'int4'
  | 'int8'
  | 'float4'
  | 'float8'
  | 'numeric'
  | 'varlena'
  | 'jsonb'
  | 'date'
  | 'time'
  | 'timestamp';

/** The column kinds each binary form can fill. */
export const PG_BINARY_KINDS: Record<PgBinaryWire, readonly string[]> = {
  bool: ['bool'],
  int2: ['int16'],
  int4: ['int32'],
  int8: ['int64'],
  float4: ['float32'],
  float8: ['float64'],
  numeric: ['decimal'],
  varlena: ['string', 'json', 'binary'],
  jsonb: ['json'],
  date: ['date'],
  time: ['time'],
  timestamp: ['timestamp', 'timestamptz'],
};

/** The fixed-width binary forms, as small integers for PgFixedBuilder's switch. */
const FIXED_WIRES = {
  int2: 1,
  int4: 2,
  int8: 3,
  time: 3,
  float4: 4,
  float8: 5,
  numeric: 6,
  date: 7,
  timestamp: 8,
} as const;
type FixedWire = keyof typeof FIXED_WIRES;

/** Byte length of forms 1-5, read here as they are; numeric, date and timestamp check their own. */
const RAW_BYTES = [0, 2, 4, 8, 4, 8];

function noWriter(): void {
  throw new Error('internal: PgFixedBuilder writes its values itself');
}

/**
 * Numbers, dates and timestamps in PostgreSQL's binary form. One class whose append switches
 * on the form, instead of a FixedBuilder calling a writer closure per column: the decoder's
 * `append` call then sees two classes instead of a closure per column, and V8 inlines it
 * (decoding the benchmark table's COPY output took 5-10% less CPU).
 */
class PgFixedBuilder<T extends Fixed = Fixed> extends FixedBuilder<T> {
  private readonly wire: number;
  private readonly scale: number;
  constructor(
    spec: ColumnSpec,
    type: DataType,
    capacity: number,
    ArrayType: Ctor<T>,
    private readonly wireName: FixedWire,
    stride = 1,
  ) {
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
        case 1:
          (this.values as Int16Array)[i] = buf.readInt16BE(s);
          break;
        case 2:
          (this.values as Int32Array)[i] = buf.readInt32BE(s);
          break;
        case 3:
          setInt64(this, i, pgInt64(buf, s));
          break;
        case 4:
          (this.values as Float32Array)[i] = buf.readFloatBE(s);
          break;
        case 5:
          (this.values as Float64Array)[i] = buf.readDoubleBE(s);
          break;
        case 6: {
          const v = pgNumeric(buf, s, e, this.scale);
          if (v === NOT_REPRESENTABLE) {
            this.nullInstead(v);
            return;
          }
          writeDecimal(this, i, v);
          break;
        }
        case 7: {
          const d = pgDate(buf, s, e);
          if (d === NOT_REPRESENTABLE) {
            this.nullInstead(d);
            return;
          }
          (this.values as Int32Array)[i] = d;
          break;
        }
        case 8: {
          const t = pgTimestamp(buf, s, e);
          if (t === NOT_REPRESENTABLE) {
            this.nullInstead(t);
            return;
          }
          setInt64(this, i, t);
          break;
        }
      }
    } catch (err) {
      throw this.valueError(buf, s, e, err);
    }
    this.validity.set(i, true);
    this.length = i + 1;
  }
}

export function createPgBinaryBuilder(spec: ColumnSpec, wire: PgBinaryWire, capacity: number): ColumnBuilder {
  if (!PG_BINARY_KINDS[wire].includes(spec.kind))
    throw new Error(`internal: binary ${wire} cannot fill a ${spec.kind} column`);
  const type = arrowType(spec);
  const F = <T extends Fixed>(A: Ctor<T>, wire: FixedWire, stride = 1) =>
    new PgFixedBuilder<T>(spec, type, capacity, A, wire, stride);
  switch (wire) {
    case 'bool':
      return new BoolBuilder(spec, capacity, true);
    case 'int2':
      return F(Int16Array, wire);
    case 'int4':
      return F(Int32Array, wire);
    case 'int8':
    case 'time':
      return F(BigInt64Array, wire);
    case 'float4':
      return F(Float32Array, wire);
    case 'float8':
      return F(Float64Array, wire);
    case 'numeric':
      return F(Uint32Array, wire, 4);
    case 'date':
      return F(Int32Array, wire);
    case 'timestamp':
      return F(BigInt64Array, wire);
    case 'varlena':
      return new VarBuilder(spec, type as Utf8 | Binary, capacity, false);
    case 'jsonb':
      return new VarBuilder(spec, type as Utf8, capacity, false, true);
  }
}
