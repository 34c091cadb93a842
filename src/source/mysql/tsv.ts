/**
 * Rows in the text format `LOAD DATA` reads by default (and that the loader spells out in full:
 * `FIELDS TERMINATED BY '\t' ENCLOSED BY '' ESCAPED BY '\\' LINES TERMINATED BY '\n'`): fields
 * apart by a tab, rows ended by a newline, NULL as `\N`, and in a value a backslash before each
 * byte the format would otherwise read as syntax: tab `\t`, newline `\n`, carriage return `\r`,
 * backslash `\\`, NUL `\0`. Nothing else is escaped (the server reads `\x` as `x` for any other
 * x, and every other byte as itself). Text is written as UTF-8, so the statement names
 * `CHARACTER SET utf8mb4`.
 */

/** How a field's text is written: `raw` is known to need no escaping (numbers, hex), `text` is escaped. */
export type TsvField = 'raw' | 'text';

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
/** Bytes of the escape letter after the backslash, by the byte escaped (0: written as it is). */
const ESCAPE = new Uint8Array(128);
ESCAPE[0x00] = 0x30; // \0
ESCAPE[TAB] = 0x74; // \t
ESCAPE[NEWLINE] = 0x6e; // \n
ESCAPE[0x0d] = 0x72; // \r
ESCAPE[BACKSLASH] = BACKSLASH; // \\
const SPECIAL = /[\0\t\n\r\\]/;
const SPECIAL_ALL = /[\0\t\n\r\\]/g;
const escapeOne = (c: string): string => `\\${String.fromCharCode(ESCAPE[c.charCodeAt(0)]!)}`;
/** Below this many UTF-16 units a value is copied char by char (cheaper than a native call per value). */
const SHORT = 32;

/**
 * One chunk of rows at a time, each written into a buffer from `alloc` (by default a new one):
 * a buffer `take` hands on is not written again by the writer.
 */
export class TsvWriter {
  private buf: Buffer;
  private at = 0;

  constructor(
    chunkBytes = 1 << 16,
    private readonly alloc: () => Buffer = () => Buffer.allocUnsafe(chunkBytes + 1024),
  ) {
    this.buf = alloc();
  }

  /** Bytes written since the last `take`. */
  get size(): number {
    return this.at;
  }

  /** Writes one field; `first` leaves out the tab before it. */
  field(v: string | null, kind: TsvField, first: boolean): void {
    if (v === null) {
      this.room(3);
      if (!first) this.buf[this.at++] = TAB;
      this.buf[this.at++] = BACKSLASH;
      this.buf[this.at++] = 0x4e; // N
      return;
    }
    const n = v.length;
    // at most 3 bytes per UTF-16 unit (an escape is 2, a BMP char 3, a surrogate pair 4 for 2 units)
    this.room(1 + 3 * n);
    const buf = this.buf;
    let at = this.at;
    if (!first) buf[at++] = TAB;
    if (n < SHORT) {
      let i = 0;
      for (; i < n; i++) {
        const c = v.charCodeAt(i);
        if (c >= 0x80) break;
        const e = ESCAPE[c]!;
        if (e !== 0 && kind === 'text') {
          buf[at++] = BACKSLASH;
          buf[at++] = e;
        } else buf[at++] = c;
      }
      // the rest holds a non-ASCII char: escaped and encoded as a long value is
      if (i < n) at += this.writeText(v.slice(i), at, kind);
    } else {
      at += this.writeText(v, at, kind);
    }
    this.at = at;
  }

  /** Ends a row. */
  endRow(): void {
    this.room(1);
    this.buf[this.at++] = NEWLINE;
  }

  /** The bytes written since the last take (a buffer of their own), and a new buffer for what follows. */
  take(): Buffer {
    const out = this.buf.subarray(0, this.at);
    this.buf = this.alloc();
    this.at = 0;
    return out;
  }

  private writeText(v: string, at: number, kind: TsvField): number {
    const text = kind === 'text' && SPECIAL.test(v) ? v.replace(SPECIAL_ALL, escapeOne) : v;
    return this.buf.write(text, at, 'utf8');
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(this.buf.length, this.at + n));
    this.buf.copy(bigger, 0, 0, this.at);
    this.buf = bigger;
  }
}

/** Rows as one TSV buffer (the tests' and small callers' way in; the loader streams chunks instead). */
export function tsvRows(rows: ReadonlyArray<ReadonlyArray<string | null>>, kinds?: readonly TsvField[]): Buffer {
  const w = new TsvWriter();
  const parts: Buffer[] = [];
  for (const row of rows) {
    row.forEach((v, c) => w.field(v, kinds?.[c] ?? 'text', c === 0));
    w.endRow();
    if (w.size >= 1 << 16) parts.push(w.take());
  }
  parts.push(w.take());
  return Buffer.concat(parts);
}
