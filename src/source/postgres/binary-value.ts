import type { Data } from 'apache-arrow';
import type { CopyOut } from './copy-chunks.js';

/**
 * One column of one batch written in PostgreSQL's binary COPY form, value by value: each value is
 * its 32-bit big-endian length (-1 for NULL) and then its type's `send` bytes, which the column's
 * `recv` function reads. Writers read the Arrow buffers directly: no JS value per cell.
 */
export interface ValueWriter {
  /** Bytes value `i` takes at most, its length word included. */
  size(i: number): number;
  /** Set when every value takes this many bytes at most (size(i) is this for all i): the row loop adds it once. */
  readonly fixed?: number;
  /** Writes value `i` at `out.at`, in the room the caller made for size(i), and moves `out.at` past it. */
  write(i: number, out: CopyOut): void;
}

/** A writer for one Arrow column of a batch (the factory is chosen once per column, the writer made per batch). */
export type WriterFactory = (data: Data) => ValueWriter;

/** (i) => whether value i is NULL, from Arrow's validity bitmap (offset included); undefined when none is. */
export function nullTest(data: Data): ((i: number) => boolean) | undefined {
  const bits = data.nullBitmap;
  if (data.nullCount === 0 || !bits || bits.length === 0) return undefined;
  const off = data.offset;
  return (i) => ((bits[(off + i) >> 3]! >> ((off + i) & 7)) & 1) === 0;
}

export function writeNull(out: CopyOut): void {
  out.view.setInt32(out.at, -1);
  out.at += 4;
}

/** A fixed-size value: `put(i, view, at)` writes its `bytes` bytes after the length word. */
export function fixedWriter(
  data: Data,
  bytes: number,
  put: (i: number, view: DataView, at: number) => void,
): ValueWriter {
  const isNull = nullTest(data);
  const fixed = 4 + bytes;
  const size = () => fixed;
  if (!isNull)
    return {
      size,
      fixed,
      write(i, out) {
        out.view.setInt32(out.at, bytes);
        put(i, out.view, out.at + 4);
        out.at += 4 + bytes;
      },
    };
  return {
    size,
    fixed,
    write(i, out) {
      if (isNull(i)) return writeNull(out);
      out.view.setInt32(out.at, bytes);
      put(i, out.view, out.at + 4);
      out.at += 4 + bytes;
    },
  };
}

/** A NULL in every row: a column added after the object was written. */
export const nullWriter: ValueWriter = { size: () => 4, fixed: 4, write: (_i, out) => writeNull(out) };
