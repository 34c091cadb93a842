import type { BatchAssembler } from '../../arrow/batch.js';

const TAB = 9,
  NL = 10,
  BACKSLASH = 92;

/**
 * Decodes the text format of `COPY … TO STDOUT` straight into column builders: rows end at a
 * raw newline (data newlines are escaped), fields at a tab, `\N` is NULL, and backslash
 * escapes are undone only in the fields that have one. Keeps the key columns of the last
 * row, in PostgreSQL's own text form, for the next keyset page.
 */
export class CopyTextDecoder {
  private carry: Buffer | undefined;
  private scratch = Buffer.allocUnsafe(64 * 1024);
  rows = 0;
  lastKey: string[] = [];

  constructor(
    private readonly asm: BatchAssembler,
    private readonly keyIndexes: number[],
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    if (this.carry) {
      // join only the row cut by the chunk boundary, not the whole chunk
      const nl = chunk.indexOf(NL);
      if (nl < 0) {
        this.carry = Buffer.concat([this.carry, chunk]);
        return;
      }
      const row = Buffer.concat([this.carry, chunk.subarray(0, nl + 1)]);
      this.carry = undefined;
      this.parseLines(row, row.length - 1);
      start = nl + 1;
    }
    const lastNl = chunk.lastIndexOf(NL);
    if (lastNl < start) {
      if (start < chunk.length) this.carry = Buffer.from(chunk.subarray(start));
      return;
    }
    this.parseLines(chunk, lastNl, start);
    if (lastNl + 1 < chunk.length) this.carry = Buffer.from(chunk.subarray(lastNl + 1));
  }

  /** One CopyData message: one row, with its newline. */
  row(buf: Buffer, start: number, end: number): void {
    this.push(buf.subarray(start, end));
  }

  end(): void {
    if (this.carry && this.carry.length > 0) throw new Error('COPY output ended in the middle of a row');
  }

  private parseLines(buf: Buffer, lastNl: number, from = 0): void {
    const builders = this.asm.builders;
    const ncols = builders.length;
    let pos = from;
    let lastRowStart = -1;
    let nextBs = buf.indexOf(BACKSLASH, from);
    if (nextBs < 0 || nextBs > lastNl) nextBs = Infinity;
    while (pos <= lastNl) {
      const nl = buf.indexOf(NL, pos);
      let s = pos;
      for (let col = 0; col < ncols; col++) {
        const e = col === ncols - 1 ? nl : buf.indexOf(TAB, s);
        if (e < 0 || e > nl) throw new Error(`COPY row has ${col + 1} fields, expected ${ncols}`);
        const b = builders[col]!;
        if (nextBs < e) {
          if (e - s === 2 && buf[s + 1] === 0x4e)
            b.appendNull(); // \N
          else {
            const n = this.unescape(buf, s, e);
            b.append(this.scratch, 0, n);
          }
          nextBs = buf.indexOf(BACKSLASH, e);
          if (nextBs < 0 || nextBs > lastNl) nextBs = Infinity;
        } else {
          b.append(buf, s, e);
        }
        s = e + 1;
      }
      if (s !== nl + 1) throw new Error(`COPY row has more than ${ncols} fields`);
      this.asm.endRow();
      this.rows++;
      lastRowStart = pos;
      pos = nl + 1;
    }
    if (this.keyIndexes.length && lastRowStart >= 0) this.rememberKey(buf, lastRowStart, lastNl);
  }

  /** Re-splits the final row of a chunk for its key columns (once per chunk, not per row). */
  private rememberKey(buf: Buffer, start: number, end: number): void {
    const fields: Buffer[] = [];
    let s = start;
    for (;;) {
      let e = buf.indexOf(TAB, s);
      if (e < 0 || e > end) e = end;
      fields.push(buf.subarray(s, e));
      if (e === end) break;
      s = e + 1;
    }
    this.lastKey = this.keyIndexes.map((i) => {
      const f = fields[i]!;
      const n = this.unescape(f, 0, f.length);
      return this.scratch.toString('utf8', 0, n);
    });
  }

  private unescape(buf: Buffer, s: number, e: number): number {
    if (this.scratch.length < e - s) this.scratch = Buffer.allocUnsafe(Math.max(e - s, this.scratch.length * 2));
    const out = this.scratch;
    let n = 0;
    for (let i = s; i < e; i++) {
      const c = buf[i]!;
      if (c !== BACKSLASH || i + 1 >= e) {
        out[n++] = c;
        continue;
      }
      const d = buf[++i]!;
      switch (d) {
        case 0x62:
          out[n++] = 8;
          break; // \b
        case 0x66:
          out[n++] = 12;
          break; // \f
        case 0x6e:
          out[n++] = 10;
          break; // \n
        case 0x72:
          out[n++] = 13;
          break; // \r
        case 0x74:
          out[n++] = 9;
          break; // \t
        case 0x76:
          out[n++] = 11;
          break; // \v
        case 0x78: {
          // \xH or \xHH
          let v = 0;
          let k = 0;
          while (k < 2 && i + 1 < e && isHex(buf[i + 1]!)) {
            v = v * 16 + hexVal(buf[++i]!);
            k++;
          }
          out[n++] = k ? v : d;
          break;
        }
        default:
          if (d >= 0x30 && d <= 0x37) {
            // \ooo
            let v = d - 0x30;
            let k = 1;
            while (k < 3 && i + 1 < e && buf[i + 1]! >= 0x30 && buf[i + 1]! <= 0x37) {
              v = v * 8 + (buf[++i]! - 0x30);
              k++;
            }
            out[n++] = v & 0xff;
          } else out[n++] = d;
      }
    }
    return n;
  }
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}
function hexVal(c: number): number {
  return c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x61 + 10;
}
