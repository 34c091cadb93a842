import type { ColumnKind, ColumnSpec } from '../columns.js';
import {
  boolWriter,
  dateWriter,
  floatWriter,
  int64Writer,
  smallIntWriter,
  timeWriter,
  timestampWriter,
} from './binary-scalars.js';
import { nullTest, writeNull, type WriterFactory } from './binary-value.js';
import {
  byteaWriter,
  decimalWriter,
  integerNumericWriter,
  jsonbWriter,
  numericTextWriter,
  textWriter,
  uuidWriter,
} from './binary-varlena.js';

/**
 * Which binary writer a backup's column takes into a target column, or none (then the batch goes
 * as COPY text, which the server converts with the column's input function). Binary is chosen
 * only where the target type's `recv` reads exactly what the text path's value would mean: an
 * integer into an integer type at least as wide, float32 into float4/float8, float64 into float8,
 * decimals and integers into numeric, strings into the text-like types, and each kind into its
 * own type. The target is known by its base type's receive function, so domains work too.
 */
export interface TargetType {
  /** The base type's receive function without its schema: int4recv, numeric_recv, textrecv, array_recv, … */
  recv: string;
  /** Arrays: the element type's OID (written in every array value) and the element's own target. */
  elementOid?: number;
  element?: TargetType;
}

const TEXT_RECV = new Set(['textrecv', 'varcharrecv', 'bpcharrecv', 'enum_recv', 'json_recv', 'citextrecv']);
const NARROW_INTS: ReadonlySet<ColumnKind> = new Set(['int8', 'int16', 'uint8']);
const INTS_32: ReadonlySet<ColumnKind> = new Set([...NARROW_INTS, 'int32', 'uint16']);
const INTS_64: ReadonlySet<ColumnKind> = new Set([...INTS_32, 'uint32']);
const INTEGERS: ReadonlySet<ColumnKind> = new Set([...INTS_64, 'int64', 'uint64']);

/** Text exported from a NUMERIC or DECIMAL column (unbounded, or above 38 digits): exact decimal text. */
const numericText = (spec: ColumnSpec) => spec.kind === 'string' && /^(numeric|decimal)\b/i.test(spec.dbType);

/** The writer factory for values of `spec` (as the object wrote them) into `target`, or undefined when binary would not be exact. */
export function binaryWriterFor(spec: ColumnSpec, target: TargetType): WriterFactory | undefined {
  const k = spec.kind;
  switch (target.recv) {
    case 'boolrecv':
      return k === 'bool' ? boolWriter : undefined;
    case 'int2recv':
      return NARROW_INTS.has(k) ? smallIntWriter(2) : undefined;
    case 'int4recv':
      return INTS_32.has(k) ? smallIntWriter(4) : undefined;
    case 'int8recv':
      return INTS_64.has(k) ? smallIntWriter(8) : k === 'int64' ? int64Writer : undefined;
    case 'float4recv':
      return k === 'float32' ? floatWriter(4) : undefined;
    case 'float8recv':
      return k === 'float32' || k === 'float64' ? floatWriter(8) : undefined;
    case 'numeric_recv':
      if (k === 'decimal') return decimalWriter(spec.scale ?? 0);
      if (INTEGERS.has(k)) return integerNumericWriter;
      return numericText(spec) ? numericTextWriter : undefined;
    case 'jsonb_recv':
      return k === 'string' || k === 'json' ? jsonbWriter : undefined;
    case 'uuid_recv':
      return k === 'string' ? uuidWriter : undefined;
    case 'bytearecv':
      return k === 'binary' ? byteaWriter : undefined;
    case 'date_recv':
      return k === 'date' ? dateWriter : undefined;
    case 'time_recv':
      return k === 'time' ? timeWriter : undefined;
    case 'timestamp_recv':
      return k === 'timestamp' ? timestampWriter : undefined;
    case 'timestamptz_recv':
      return k === 'timestamptz' ? timestampWriter : undefined;
    case 'array_recv':
      return k === 'list' && target.element && target.elementOid !== undefined
        ? arrayWriter(spec.element!, target.element, target.elementOid)
        : undefined;
    default:
      return TEXT_RECV.has(target.recv) && (k === 'string' || k === 'json') ? textWriter : undefined;
  }
}

/**
 * A one-dimensional array (array_recv): ndim 1, whether any element is NULL, the element type's
 * OID, the length and lower bound 1, then each element as a value of its own; an empty list is
 * ndim 0, as `'{}'` reads.
 */
function arrayWriter(
  elementSpec: ColumnSpec,
  elementTarget: TargetType,
  elementOid: number,
): WriterFactory | undefined {
  const element = binaryWriterFor(elementSpec, elementTarget);
  if (!element) return undefined;
  return (data) => {
    const offs = data.valueOffsets as Int32Array;
    const child = data.children[0]!;
    const items = element(child);
    const itemNull = nullTest(child);
    const isNull = nullTest(data);
    const each = items.fixed;
    return {
      size(i) {
        // elements of a fixed size (integers, dates, …) by count, as binaryRows adds fixed columns
        if (each !== undefined) return 24 + (offs[i + 1]! - offs[i]!) * each;
        let n = 24;
        for (let k = offs[i]!; k < offs[i + 1]!; k++) n += items.size(k);
        return n;
      },
      write(i, out) {
        if (isNull?.(i)) return writeNull(out);
        const first = offs[i]!;
        const count = offs[i + 1]! - first;
        const start = out.at;
        const view = out.view;
        view.setInt32(start + 4, count ? 1 : 0);
        view.setInt32(start + 12, elementOid);
        out.at = start + 16;
        let nulls = 0;
        if (count) {
          view.setInt32(start + 16, count);
          view.setInt32(start + 20, 1);
          out.at = start + 24;
          for (let k = first; k < first + count; k++) {
            if (itemNull?.(k)) nulls = 1;
            items.write(k, out);
          }
        }
        view.setInt32(start + 8, nulls);
        view.setInt32(start, out.at - start - 4);
      },
    };
  };
}
