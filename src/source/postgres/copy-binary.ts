import type { BatchAssembler } from '../../arrow/batch.js';
import { pgInt64 } from '../../arrow/pg-binary.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

type FieldVisitor = (buf: Buffer, column: number, start: number, length: number) => void;

/**
 * The `n` fields of a row from `p` (just after its field count), each a length (-1 for NULL) and
 * that many bytes, handed to `visit`; returns where they end.
 */
function walkFields(buf: Buffer, p: number, n: number, visit: FieldVisitor): number {
  for (let col = 0; col < n; col++) {
    const len = buf.readInt32BE(p);
    p += 4;
    visit(buf, col, p, len);
    if (len > 0) p += len;
  }
  return p;
}

/** How a key column's last value is turned back into PostgreSQL's text form for the next page. */
export type KeyForm = 'int2' | 'int4' | 'int8' | 'text';

/**
 * Decodes `COPY … TO STDOUT (FORMAT binary)`, one row (one CopyData message) at a time,
 * straight into the column builders: a row is a field count, then per field a length (-1 for
 * NULL) and that many bytes. The first message also carries the file header; the last is the
 * trailer (field count -1).
 */
export class CopyBinaryDecoder {
  private header = true;
  private ended = false;
  rows = 0;
  private lastBuf: Buffer | undefined;
  private lastStart = 0;

  constructor(
    private readonly asm: BatchAssembler,
    private readonly keyIndexes: number[],
    private readonly keyForms: KeyForm[],
  ) {}

  row(buf: Buffer, s: number, e: number): void {
    let p = s;
    if (this.header) {
      if (e - s < 19 || SIGNATURE.compare(buf, s, s + 11) !== 0)
        throw new Error('COPY output does not start with the binary signature');
      p += 19 + buf.readInt32BE(s + 15); // flags, then the header extension's length
      this.header = false;
      if (p === e) return;
    }
    const ncols = this.asm.builders.length;
    const rowStart = p;
    const n = buf.readInt16BE(p);
    if (n === -1) {
      this.ended = true;
      return;
    }
    if (n !== ncols) throw new Error(`COPY row has ${n} fields, expected ${ncols}`);
    p = walkFields(buf, p + 2, n, this.appendField);
    if (p !== e) throw new Error('COPY row is longer than its fields');
    this.asm.endRow();
    this.rows++;
    this.lastBuf = buf;
    this.lastStart = rowStart;
  }

  private readonly appendField: FieldVisitor = (buf, col, start, len) => {
    const b = this.asm.builders[col]!;
    if (len < 0) b.appendNull();
    else b.append(buf, start, start + len);
  };

  end(): void {
    if (!this.ended) throw new Error('COPY output ended without its trailer');
  }

  /** The key columns of the last row read, in PostgreSQL's text form. */
  get lastKey(): string[] {
    const buf = this.lastBuf;
    if (!buf) return [];
    const fields: Array<[number, number]> = [];
    walkFields(buf, this.lastStart + 2, this.asm.builders.length, (_b, col, start, len) => {
      fields[col] = [start, len];
    });
    return this.keyIndexes.map((i, k) => {
      const [at, len] = fields[i]!;
      if (len < 0) throw new Error(`key column ${this.asm.columns[i]!.name} is NULL`);
      switch (this.keyForms[k]!) {
        case 'int2':
          return String(buf.readInt16BE(at));
        case 'int4':
          return String(buf.readInt32BE(at));
        case 'int8':
          return String(pgInt64(buf, at));
        case 'text':
          return buf.toString('utf8', at, at + len);
      }
    });
  }
}
