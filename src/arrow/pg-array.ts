import type { ColumnBuilder } from './column-builder.js';

/**
 * Parses a PostgreSQL one-dimensional array literal (`{1,2,NULL}`, `{"a b","c\"d"}`,
 * optionally prefixed by bounds such as `[0:1]=`) and appends each element to `child`.
 * Multi-dimensional values are refused: their shape would be lost in a flat list.
 */
export function parsePgArray(buf: Buffer, start: number, end: number, child: ColumnBuilder): void {
  let i = start;
  if (buf[i] === 0x5b) {
    // [lo:hi]= dimension decoration
    while (i < end && buf[i] !== 0x3d) i++;
    i++;
  }
  if (buf[i] !== 0x7b || buf[end - 1] !== 0x7d) throw new SyntaxError('not an array literal');
  i++;
  const close = end - 1;
  if (i === close) return; // {}
  let scratch: Buffer | undefined;
  while (i <= close) {
    if (buf[i] === 0x7b)
      throw new SyntaxError('multi-dimensional arrays are not supported; cast the column to text in a view');
    if (buf[i] === 0x22) {
      // quoted element with backslash escapes
      i++;
      const s = i;
      let hasEscape = false;
      while (i < close && buf[i] !== 0x22) {
        if (buf[i] === 0x5c) {
          hasEscape = true;
          i++;
        }
        i++;
      }
      if (!hasEscape) child.append(buf, s, i);
      else {
        scratch ??= Buffer.allocUnsafe(close - start);
        let n = 0;
        for (let k = s; k < i; k++) {
          if (buf[k] === 0x5c) k++;
          scratch[n++] = buf[k]!;
        }
        child.append(scratch, 0, n);
      }
      i++; // closing quote
    } else {
      const s = i;
      while (i < close && buf[i] !== 0x2c) i++;
      let e = i;
      while (e > s && buf[e - 1] === 0x20) e--;
      if (
        e - s === 4 &&
        (buf[s]! | 0x20) === 0x6e &&
        (buf[s + 1]! | 0x20) === 0x75 &&
        (buf[s + 2]! | 0x20) === 0x6c &&
        (buf[s + 3]! | 0x20) === 0x6c
      )
        child.appendNull();
      else child.append(buf, s, e);
    }
    if (buf[i] === 0x2c) i++;
    else if (i >= close) break;
    else throw new SyntaxError('unexpected character in array literal');
  }
}
