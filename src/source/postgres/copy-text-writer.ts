import type { LoadBatch, LoadPlan } from '../loader.js';
import type { CopyOut } from './copy-chunks.js';

/**
 * COPY's text format, from the batch's cells (the text path: a column the binary writers do not
 * cover, and MySQL's values as text): backslash, tab, newline and carriage return escaped; NULL
 * is `\N`; bytea as `\\x` and hex. Each value is written straight into the chunk's buffer (no
 * string per line or per chunk).
 */

const SPECIAL = /[\\\t\n\r]/;
const TAB = 9;
const NEWLINE = 10;

function copyEscape(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** One batch's rows; yields each chunk as it fills (the last, partial one stays in `out`). */
export function* textRows(plan: LoadPlan, batch: LoadBatch, out: CopyOut): Generator<Buffer> {
  const binary = plan.columns.map((c) => c.kind === 'binary');
  const cells = batch.cells;
  for (let r = 0; r < batch.numRows; r++) {
    for (let c = 0; c < cells.length; c++) {
      const v = cells[c]!(r);
      // room for the tab, `\N` or `\\x`, the value as UTF-8 (at most 3 bytes per UTF-16 unit) and the newline
      out.room(5 + (v === null ? 0 : 3 * v.length));
      const buf = out.buf;
      if (c) buf[out.at++] = TAB;
      if (v === null) out.at += buf.write('\\N', out.at, 'latin1');
      else if (binary[c]) out.at += buf.write(`\\\\x${v}`, out.at, 'latin1');
      else out.at += buf.write(SPECIAL.test(v) ? copyEscape(v) : v, out.at, 'utf8');
    }
    out.room(1);
    out.buf[out.at++] = NEWLINE;
    if (out.full.length) yield* out.drain(false);
  }
}
