import { createHash } from 'node:crypto';
import { makeVector, type Data, type Vector } from 'apache-arrow';
import { NUMBER_KINDS, type ColumnKind, type ColumnSpec } from '../source/columns.js';
import { decimalText } from '../arrow/to-text.js';

/**
 * The canonical text of a value for verify's checksums, the same whether it is computed in
 * the database (each engine's checksum.ts, in source/) or from Arrow data (canonReader): integers and decimals in decimal
 * digits, floats as the hex of their IEEE bytes, dates as day numbers, times and timestamps as
 * microsecond numbers, bytes as hex, text and JSON as the database's own text, arrays as JSON.
 * A cell is `v<text>`, or `n` for NULL, so NULL and any text differ.
 *
 * Both sides of a verify need it (source/'s checksum side, verify/'s backup side), so it lives in
 * neither folder: source/ never imports verify/ (test/unit/folder-deps.test.ts).
 */

const NUMERIC: ReadonlySet<ColumnKind> = NUMBER_KINDS;

function floatHex(v: number, bytes: 4 | 8): string {
  const b = Buffer.alloc(bytes);
  if (bytes === 4) b.writeFloatBE(v);
  else b.writeDoubleBE(v);
  return b.toString('hex');
}

/**
 * Raw text of a value (no NULL marker), or null. `written` is the column as the object holds it
 * (an older schema version's narrower type); the text is that of `spec`, the current type: a
 * decimal at the current scale, a float32 widened to float64 by its float64 bytes.
 */
function rawReader(spec: ColumnSpec, data: Data, written: ColumnSpec = spec): (i: number) => string | null {
  const valid = (i: number) => data.nullCount === 0 || data.getValid(i);
  const off = data.offset;
  switch (written.kind) {
    case 'decimal': {
      const w = data.values as Uint32Array;
      const scale = written.scale ?? 0;
      const pad = spec.kind === 'decimal' ? Math.max(0, (spec.scale ?? 0) - scale) : 0;
      const zeros = pad ? `${scale === 0 ? '.' : ''}${'0'.repeat(pad)}` : '';
      return (i) => (valid(i) ? decimalText(w, (off + i) * 4, scale) + zeros : null);
    }
    case 'float32':
    case 'float64': {
      const values = data.values as Float32Array | Float64Array;
      const n = spec.kind === 'float32' ? 4 : 8;
      return (i) => (valid(i) ? floatHex(values[off + i]!, n) : null);
    }
    case 'bool': {
      const v = makeVector(data) as Vector;
      return (i) => (valid(i) ? (v.get(i) ? '1' : '0') : null);
    }
    case 'binary': {
      const v = makeVector(data) as Vector;
      return (i) => (valid(i) ? Buffer.from(v.get(i) as Uint8Array).toString('hex') : null);
    }
    case 'date':
    case 'time':
    case 'timestamp':
    case 'timestamptz': {
      const values = data.values as unknown as ArrayLike<number | bigint>;
      return (i) => (valid(i) ? String(values[off + i]) : null);
    }
    case 'list': {
      const offsets = data.valueOffsets as Int32Array;
      const el = rawReader(spec.element!, data.children[0]!, written.element);
      const numeric = NUMERIC.has(spec.element!.kind) && !spec.element!.kind.startsWith('float');
      return (i) => {
        if (!valid(i)) return null;
        const items: string[] = [];
        for (let k = offsets[off + i]!; k < offsets[off + i + 1]!; k++) {
          const v = el(k);
          items.push(v === null ? 'null' : numeric ? v : JSON.stringify(v));
        }
        return `[${items.join(',')}]`;
      };
    }
    default: {
      const v = makeVector(data) as Vector;
      return (i) => (valid(i) ? String(v.get(i)) : null);
    }
  }
}

export function canonReader(spec: ColumnSpec, data: Data, written?: ColumnSpec): (i: number) => string {
  const raw = rawReader(spec, data, written);
  return (i) => {
    const v = raw(i);
    return v === null ? 'n' : `v${v}`;
  };
}

/** Key ranges: rows are spread over this many buckets by the MD5 of their key's canonical text. */
export const BUCKETS = 1024;

/** One side of a verify: per bucket, the row count and two 32-bit sums of row MD5s. */
export interface Side {
  count: Uint32Array;
  sumA: Uint32Array;
  sumB: Uint32Array;
}

export function newSide(): Side {
  return { count: new Uint32Array(BUCKETS), sumA: new Uint32Array(BUCKETS), sumB: new Uint32Array(BUCKETS) };
}

export const isFloatColumn = (c: ColumnSpec) => c.kind === 'float32' || c.kind === 'float64';

export interface Hash {
  bucket: number;
  a: number;
  b: number;
  digest: string;
}

/** The key's bucket: the first 32 bits of its MD5, modulo BUCKETS (as SQL computes it). */
export function bucketOf(key: string): number {
  return createHash('md5').update(key).digest().readUInt32BE(0) % BUCKETS;
}

/** Two 32-bit numbers and the hex of a text's MD5: what the sums and per-key digests are made of. */
export function md5Part(text: string): { a: number; b: number; hex: string } {
  const d = createHash('md5').update(text).digest();
  return { a: d.readUInt32BE(0), b: d.readUInt32BE(4), hex: d.toString('hex') };
}

/** A row's bucket and checksums: the row text's MD5, plus (MySQL) the floats' MD5 added to the sums and appended to the digest. */
export function hashes(key: string, row: string, floats?: string): Hash {
  const r = md5Part(row);
  if (floats === undefined) return { bucket: bucketOf(key), a: r.a, b: r.b, digest: r.hex };
  const f = md5Part(floats);
  return { bucket: bucketOf(key), a: (r.a + f.a) >>> 0, b: (r.b + f.b) >>> 0, digest: r.hex + f.hex };
}
