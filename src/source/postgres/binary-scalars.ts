import type { Data } from 'apache-arrow';
import { fixedWriter, type WriterFactory } from './binary-value.js';

/**
 * Fixed-size values: booleans, integers, floats, dates, times and timestamps, in the big-endian
 * form of their `send` functions. Dates count days and timestamps microseconds from 2000-01-01;
 * 64-bit values are moved as two 32-bit halves, so no bigint is made per value.
 */

/** 2000-01-01 − 1970-01-01, in days and in microseconds (as 32-bit halves). */
const PG_EPOCH_DAYS = 10957;
const PG_EPOCH_US = 946_684_800_000_000;
const EPOCH_HI = Math.floor(PG_EPOCH_US / 4294967296);
const EPOCH_LO = PG_EPOCH_US % 4294967296;
const INT32_MIN = -2147483648;

/** The 64-bit values of an Arrow column as 32-bit halves (little-endian: low word first). */
function halves(data: Data): Int32Array {
  const v = data.values as BigInt64Array | BigUint64Array;
  return new Int32Array(v.buffer, v.byteOffset, v.length * 2);
}

export const boolWriter: WriterFactory = (data) => {
  const bits = data.values as Uint8Array;
  const off = data.offset;
  return fixedWriter(data, 1, (i, view, at) => view.setUint8(at, (bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1));
};

/** An integer of at most 32 bits (a JS number in Arrow) as int2, int4 or int8: the caller checked it fits. */
export function smallIntWriter(bytes: 2 | 4 | 8): WriterFactory {
  return (data) => {
    const v = data.values as Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
    if (bytes === 2) return fixedWriter(data, 2, (i, view, at) => view.setInt16(at, v[i]!));
    if (bytes === 4) return fixedWriter(data, 4, (i, view, at) => view.setInt32(at, v[i]!));
    return fixedWriter(data, 8, (i, view, at) => {
      const x = v[i]!;
      view.setInt32(at, x < 0 ? -1 : 0);
      view.setUint32(at + 4, x >>> 0);
    });
  };
}

/** A signed 64-bit integer as int8. */
export const int64Writer: WriterFactory = (data) => {
  const w = halves(data);
  return fixedWriter(data, 8, (i, view, at) => {
    view.setInt32(at, w[2 * i + 1]!);
    view.setInt32(at + 4, w[2 * i]!);
  });
};

/** float4 from Arrow float32, float8 from float32 or float64; NaN as PostgreSQL's own NaN ('NaN' reads as that one). */
export function floatWriter(bytes: 4 | 8): WriterFactory {
  return (data) => {
    const v = data.values as Float32Array | Float64Array;
    if (bytes === 4)
      return fixedWriter(data, 4, (i, view, at) => {
        const x = v[i]!;
        if (x !== x) view.setUint32(at, 0x7fc00000);
        else view.setFloat32(at, x);
      });
    return fixedWriter(data, 8, (i, view, at) => {
      const x = v[i]!;
      if (x === x) return view.setFloat64(at, x);
      view.setUint32(at, 0x7ff80000);
      view.setUint32(at + 4, 0);
    });
  };
}

/** Days since 1970 → days since 2000. The one value that is -infinity in PostgreSQL cannot come from a date: refused, as its text would be. */
export const dateWriter: WriterFactory = (data) => {
  const v = data.values as Int32Array;
  return fixedWriter(data, 4, (i, view, at) => {
    const d = v[i]! - PG_EPOCH_DAYS;
    if (d < INT32_MIN + 1) throw new RangeError(`date out of range: day ${v[i]} from 1970-01-01`);
    view.setInt32(at, d);
  });
};

/** Microseconds of the day (time), unchanged. */
export const timeWriter: WriterFactory = int64Writer;

/** Microseconds since 1970 → since 2000 (timestamp: the wall clock; timestamptz: UTC), subtracted on the 32-bit halves. */
export const timestampWriter: WriterFactory = (data) => {
  const w = halves(data);
  return fixedWriter(data, 8, (i, view, at) => {
    let lo = (w[2 * i]! >>> 0) - EPOCH_LO;
    let hi = w[2 * i + 1]! - EPOCH_HI;
    if (lo < 0) {
      lo += 4294967296;
      hi -= 1;
    }
    // below int64 (or at its minimum, PostgreSQL's -infinity): no timestamp PostgreSQL holds
    if (hi < INT32_MIN || (hi === INT32_MIN && lo === 0))
      throw new RangeError('timestamp out of range: more than 292,000 years before 2000');
    view.setInt32(at, hi);
    view.setUint32(at + 4, lo);
  });
};
