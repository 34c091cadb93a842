import type { Binary, List, Utf8 } from 'apache-arrow';
import type { ColumnSpec } from '../source/columns.js';
import type { ReadText } from '../source/text-forms.js';
import { arrowType } from './arrow-type.js';
import type { ColumnBuilder, Ctor, Fixed } from './column-builder.js';
import { FixedBuilder } from './fixed-builder.js';
import {
  dateWriter,
  decimalWriter,
  floatWriter,
  int64Writer,
  intWriter,
  timeWriter,
  timestampWriter,
} from './text-writers.js';
import { BoolBuilder, ListBuilder, VarBuilder } from './var-builders.js';

/** The builder of a column whose values come in the engine's text form (MySQL rows, PostgreSQL text COPY). */
export function createBuilder(spec: ColumnSpec, dialect: ReadText, capacity: number): ColumnBuilder {
  const type = arrowType(spec);
  const F = <T extends Fixed>(A: Ctor<T>, w: (b: FixedBuilder, i: number, buf: Buffer, s: number, e: number) => void) =>
    new FixedBuilder<T>(spec, type, capacity, A, w);
  switch (spec.kind) {
    case 'bool':
      return new BoolBuilder(spec, capacity);
    case 'int8':
      return F(Int8Array, intWriter(-128, 127));
    case 'int16':
      return F(Int16Array, intWriter(-32768, 32767));
    case 'int32':
      return F(Int32Array, intWriter(-2147483648, 2147483647));
    case 'uint8':
      return F(Uint8Array, intWriter(0, 255));
    case 'uint16':
      return F(Uint16Array, intWriter(0, 65535));
    case 'uint32':
      return F(Uint32Array, intWriter(0, 4294967295));
    case 'int64':
      return F(BigInt64Array, int64Writer);
    case 'uint64':
      return F(BigUint64Array, int64Writer);
    case 'float32':
      return F(Float32Array, floatWriter);
    case 'float64':
      return F(Float64Array, floatWriter);
    case 'decimal':
      return new FixedBuilder(spec, type, capacity, Uint32Array, decimalWriter(spec.scale ?? 0), 4);
    case 'string':
    case 'json':
      return new VarBuilder(spec, type as Utf8, capacity, false);
    case 'binary':
      return new VarBuilder(spec, type as Binary, capacity, dialect.hexBinary);
    case 'date':
      return F(Int32Array, dateWriter);
    case 'time':
      return F(BigInt64Array, timeWriter);
    case 'timestamp':
    case 'timestamptz':
      return F(BigInt64Array, timestampWriter);
    case 'list':
      return new ListBuilder(spec, type as List, createBuilder(spec.element!, dialect, capacity * 4), capacity);
  }
}
