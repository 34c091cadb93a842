import type { ValueWriter } from './binary-value.js';
import type { CopyOut } from './copy-chunks.js';

/**
 * PostgreSQL's binary COPY stream (`COPY … FROM STDIN (FORMAT binary)`): the signature, a flags
 * word and an empty header extension; then per row a 16-bit field count and each field; then
 * -1 as the field count of the end. Rows are written into the COPY's chunks (CopyOut) and the
 * full chunks handed on as they fill, so a batch never sits in memory in its COPY form.
 */

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export function writeHeader(out: CopyOut): void {
  out.room(SIGNATURE.length + 8);
  out.buf.set(SIGNATURE, out.at);
  out.view.setInt32(out.at + SIGNATURE.length, 0);
  out.view.setInt32(out.at + SIGNATURE.length + 4, 0);
  out.at += SIGNATURE.length + 8;
}

export function writeTrailer(out: CopyOut): void {
  out.room(2);
  out.view.setInt16(out.at, -1);
  out.at += 2;
}

/** One batch's rows; yields each chunk as it fills (the last, partial one stays in `out`). */
export function* binaryRows(writers: ValueWriter[], numRows: number, out: CopyOut): Generator<Buffer> {
  const n = writers.length;
  // the fixed-size columns' bytes once, not a call per value: per row only the others are asked
  let fixed = 2;
  const sized: ValueWriter[] = [];
  for (const w of writers) {
    if (w.fixed === undefined) sized.push(w);
    else fixed += w.fixed;
  }
  for (let r = 0; r < numRows; r++) {
    let size = fixed;
    for (let c = 0; c < sized.length; c++) size += sized[c]!.size(r);
    out.room(size);
    out.view.setInt16(out.at, n);
    out.at += 2;
    for (let c = 0; c < n; c++) writers[c]!.write(r, out);
    if (out.full.length) yield* out.drain(false);
  }
}
