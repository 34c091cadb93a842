import { isUtf8 } from 'node:buffer';
import type { Data } from 'apache-arrow';
import {
  DECIMAL128_NUMERIC_SIZE,
  numericSize,
  writeNumericDecimal128,
  writeNumericScaled,
  writeNumericText,
} from './binary-numeric.js';
import { nullTest, writeNull, type ValueWriter, type WriterFactory } from './binary-value.js';
import type { CopyOut } from './copy-chunks.js';

/**
 * Variable-length values: text (text, varchar, char, enums, json), jsonb, bytea, uuid from its
 * text, and NUMERIC from a decimal or from decimal text.
 */

/** Keeps a leading U+FEFF, as the bytes hold it; replacement characters for bytes that are not UTF-8. */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** A value's bytes copied into the COPY chunk: a loop for short ones (no subarray made), `set` for long ones. */
function copyBytes(out: CopyOut, src: Uint8Array, s: number, e: number): void {
  const buf = out.buf;
  let at = out.at;
  if (e - s < 48) for (let k = s; k < e; k++) buf[at++] = src[k]!;
  else {
    buf.set(src.subarray(s, e), at);
    at += e - s;
  }
  out.at = at;
}

/**
 * Whether every value of a string column is UTF-8 on its own: the values' bytes together are, and
 * none starts inside a character (a continuation byte), checked once per batch.
 */
function allUtf8(data: Data): boolean {
  const offs = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const first = offs[0]!;
  const last = offs[data.length]!;
  if (!isUtf8(bytes.subarray(first, last))) return false;
  for (let i = 0; i < data.length; i++) if ((bytes[offs[i]!]! & 0xc0) === 0x80) return false;
  return true;
}

/**
 * A string or binary column's values as their bytes, after `prefix` (jsonb's version byte).
 * Text that is not UTF-8 (only raw bytes exported as text are) is sent as the text path sends it,
 * with replacement characters, since PostgreSQL would refuse the bytes.
 */
function bytesWriter(data: Data, prefix: number | undefined, checkUtf8: boolean): ValueWriter {
  const offs = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const isNull = nullTest(data);
  const extra = prefix === undefined ? 0 : 1;
  let fixed: Buffer[] | undefined;
  if (checkUtf8 && !allUtf8(data)) {
    fixed = [];
    for (let i = 0; i < data.length; i++) {
      const v = bytes.subarray(offs[i]!, offs[i + 1]!);
      fixed.push(isUtf8(v) ? Buffer.from(v) : Buffer.from(decoder.decode(v), 'utf8'));
    }
  }
  return {
    size: (i) => (fixed ? fixed[i]!.length : offs[i + 1]! - offs[i]!) + 4 + extra,
    write(i, out) {
      if (isNull?.(i)) return writeNull(out);
      const src = fixed ? fixed[i]! : bytes;
      const s = fixed ? 0 : offs[i]!;
      const e = fixed ? src.length : offs[i + 1]!;
      out.view.setInt32(out.at, e - s + extra);
      out.at += 4;
      if (prefix !== undefined) out.buf[out.at++] = prefix;
      copyBytes(out, src, s, e);
    },
  };
}

/** text, varchar, char, enums, json, citext: the UTF-8 bytes. */
export const textWriter: WriterFactory = (data) => bytesWriter(data, undefined, true);
/** jsonb: version 1, then the JSON text. */
export const jsonbWriter: WriterFactory = (data) => bytesWriter(data, 1, true);
/** bytea: the bytes. */
export const byteaWriter: WriterFactory = (data) => bytesWriter(data, undefined, false);

const hex = (c: number): number =>
  c >= 0x30 && c <= 0x39 ? c - 0x30 : (c | 0x20) >= 0x61 && (c | 0x20) <= 0x66 ? (c | 0x20) - 0x57 : -1;

/**
 * uuid from its text, as uuid_in reads it: optional braces, 32 hex digits, a hyphen allowed after
 * any group of four; 16 bytes. Anything else is refused with uuid_in's message.
 */
export const uuidWriter: WriterFactory = (data) => {
  const offs = data.valueOffsets as Int32Array;
  const src = data.values as Uint8Array;
  const isNull = nullTest(data);
  return {
    size: () => 20,
    fixed: 20,
    write(i, out) {
      if (isNull?.(i)) return writeNull(out);
      const s0 = offs[i]!;
      const e = offs[i + 1]!;
      const bad = () => new Error(`invalid input syntax for type uuid: "${decoder.decode(src.subarray(s0, e))}"`);
      let s = s0;
      const braces = src[s] === 0x7b && s < e;
      if (braces) s++;
      out.view.setInt32(out.at, 16);
      for (let k = 0; k < 16; k++) {
        const a = s < e ? hex(src[s]!) : -1;
        const b = s + 1 < e ? hex(src[s + 1]!) : -1;
        if (a < 0 || b < 0) throw bad();
        out.buf[out.at + 4 + k] = a * 16 + b;
        s += 2;
        if (s < e && src[s] === 0x2d && k % 2 === 1 && k < 15) s++;
      }
      if (braces) {
        if (s >= e || src[s] !== 0x7d) throw bad();
        s++;
      }
      if (s !== e) throw bad();
      out.at += 20;
    },
  };
};

/** NUMERIC from Arrow's 128-bit decimal at the column's scale (the fraction digits shown). */
export function decimalWriter(scale: number): WriterFactory {
  return (data) => {
    const words = data.values as Uint32Array;
    const isNull = nullTest(data);
    return {
      size: () => DECIMAL128_NUMERIC_SIZE,
      fixed: DECIMAL128_NUMERIC_SIZE,
      write(i, out) {
        if (isNull?.(i)) return writeNull(out);
        out.at = writeNumericDecimal128(out.view, out.at, words, i * 4, scale);
      },
    };
  };
}

/** NUMERIC from an integer column (a number or, for 64 bits, a bigint). */
export const integerNumericWriter: WriterFactory = (data) => {
  const v = data.values as ArrayLike<number | bigint>;
  const isNull = nullTest(data);
  return {
    size: () => numericSize(20),
    fixed: numericSize(20),
    write(i, out) {
      if (isNull?.(i)) return writeNull(out);
      out.at = writeNumericScaled(out.view, out.at, v[i]!, 0);
    },
  };
};

/** NUMERIC from the exact decimal text that NUMERIC columns without a precision (or above 38 digits) are exported as. */
export const numericTextWriter: WriterFactory = (data) => {
  const offs = data.valueOffsets as Int32Array;
  const src = data.values as Uint8Array;
  const isNull = nullTest(data);
  return {
    size: (i) => numericSize(offs[i + 1]! - offs[i]!),
    write(i, out) {
      if (isNull?.(i)) return writeNull(out);
      out.at = writeNumericText(out.view, out.at, src, offs[i]!, offs[i + 1]!);
    },
  };
};
