import type { BatchAssembler } from '../../arrow/batch.js';
import { pgInt64 } from '../../arrow/pg-binary.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

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

  constructor(private readonly asm: BatchAssembler, private readonly keyIndexes: number[], private readonly keyForms: KeyForm[]) {}

  row(buf: Buffer, s: number, e: number): void {
    let p = s;
    if (this.header) {
      if (e - s < 19 || SIGNATURE.compare(buf, s, s + 11) !== 0) throw new Error('COPY output does not start with the binary signature');
      p += 19 + buf.readInt32BE(s + 15); // flags, then the header extension's length
      this.header = false;
      if (p === e) return;
    }
    const builders = this.asm.builders;
    const rowStart = p;
    const n = buf.readInt16BE(p);
    p += 2;
    if (n === -1) { this.ended = true; return; }
    if (n !== builders.length) throw new Error(`COPY row has ${n} fields, expected ${builders.length}`);
    for (let col = 0; col < n; col++) {
      const len = buf.readInt32BE(p);
      p += 4;
      if (len < 0) builders[col]!.appendNull();
      else { builders[col]!.append(buf, p, p + len); p += len; }
    }
    if (p !== e) throw new Error('COPY row is longer than its fields');
    this.asm.endRow();
    this.rows++;
    this.lastBuf = buf;
    this.lastStart = rowStart;
  }

  end(): void {
    if (!this.ended) throw new Error('COPY output ended without its trailer');
  }

  /** The key columns of the last row read, in PostgreSQL's text form. */
  get lastKey(): string[] {
    const buf = this.lastBuf;
    if (!buf) return [];
    let p = this.lastStart + 2;
    const fields: Array<[number, number]> = [];
    for (let col = 0; col < this.asm.builders.length; col++) {
      const len = buf.readInt32BE(p);
      fields.push([p + 4, len]);
      p += 4 + Math.max(len, 0);
    }
    return this.keyIndexes.map((i, k) => {
      const [at, len] = fields[i]!;
      if (len < 0) throw new Error(`key column ${this.asm.columns[i]!.name} is NULL`);
      switch (this.keyForms[k]!) {
        case 'int2': return String(buf.readInt16BE(at));
        case 'int4': return String(buf.readInt32BE(at));
        case 'int8': return String(pgInt64(buf, at));
        case 'text': return buf.toString('utf8', at, at + len);
      }
    });
  }
}
