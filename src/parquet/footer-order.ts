/**
 * Puts a Parquet footer's key-value metadata in key order, in place, so that a file's bytes do
 * not depend on the writer's hash-map order.
 *
 * parquet-wasm takes the metadata as a JS Map and builds a Rust HashMap from it, whose iteration
 * order (the order the footer lists the keys in) depends on how many HashMaps the WebAssembly
 * instance has made before: the same rows written twice could differ in their footer alone, so a
 * rerun would not find its objects already stored with the same checksum. The footer is Thrift's
 * compact protocol, in which each KeyValue struct is encoded on its own (field ids are relative to
 * the struct's start): reordering the list is a permutation of byte ranges, with no length or
 * offset anywhere changing. No library fitted: Thrift readers (thrift, hyparquet) decode to
 * values, and writing the footer back through another encoder would risk changing more than the
 * order.
 */

const MAGIC = 0x31524150; // "PAR1", little-endian
const FILE_METADATA_KEY_VALUES = 5;

const T = {
  TRUE: 1,
  FALSE: 2,
  BYTE: 3,
  I16: 4,
  I32: 5,
  I64: 6,
  DOUBLE: 7,
  BINARY: 8,
  LIST: 9,
  SET: 10,
  MAP: 11,
  STRUCT: 12,
};

class Reader {
  constructor(
    readonly b: Uint8Array,
    public pos: number,
    readonly end: number,
  ) {}

  byte(): number {
    if (this.pos >= this.end) throw new RangeError('Parquet footer ends early');
    return this.b[this.pos++]!;
  }

  varint(): number {
    let v = 0;
    for (let shift = 0; ; shift += 7) {
      const x = this.byte();
      if (shift < 49) v += (x & 0x7f) * 2 ** shift; // exact below 2^53; larger values are only skipped
      if ((x & 0x80) === 0) return v;
      if (shift > 63) throw new RangeError('Parquet footer has a varint longer than 10 bytes');
    }
  }

  skipBytes(n: number): void {
    if (n > this.end - this.pos) throw new RangeError('Parquet footer ends early');
    this.pos += n;
  }

  /** A field header: its type, or 0 at the struct's end; the field id follows the previous one's. */
  field(prev: number): { type: number; id: number } {
    const h = this.byte();
    const type = h & 0x0f;
    if (type === 0) return { type, id: 0 };
    const delta = h >> 4;
    if (delta !== 0) return { type, id: prev + delta };
    const z = this.varint();
    return { type, id: z % 2 === 0 ? z / 2 : -(z + 1) / 2 };
  }

  listHeader(): { size: number; type: number } {
    const h = this.byte();
    const short = h >> 4;
    return { size: short === 15 ? this.varint() : short, type: h & 0x0f };
  }

  skip(type: number): void {
    switch (type) {
      case T.TRUE:
      case T.FALSE:
        return; // a struct field's value is in its type; a list element's is one byte (skipElement)
      case T.BYTE:
        return this.skipBytes(1);
      case T.I16:
      case T.I32:
      case T.I64:
        this.varint();
        return;
      case T.DOUBLE:
        return this.skipBytes(8);
      case T.BINARY:
        return this.skipBytes(this.varint());
      case T.LIST:
      case T.SET: {
        const { size, type: el } = this.listHeader();
        for (let i = 0; i < size; i++) this.skipElement(el);
        return;
      }
      case T.MAP: {
        const size = this.varint();
        if (size === 0) return;
        const kv = this.byte();
        for (let i = 0; i < size; i++) {
          this.skipElement(kv >> 4);
          this.skipElement(kv & 0x0f);
        }
        return;
      }
      case T.STRUCT:
        for (let f = this.field(0); f.type !== 0; f = this.field(f.id)) this.skip(f.type);
        return;
      default:
        throw new RangeError(`Parquet footer has an unknown Thrift type ${type}`);
    }
  }

  private skipElement(type: number): void {
    if (type === T.TRUE || type === T.FALSE) this.skipBytes(1);
    else this.skip(type);
  }
}

interface Entry {
  key: Uint8Array;
  bytes: Uint8Array;
}

/** A KeyValue struct from `r.pos`: its key (field 1) and its encoded bytes. */
function readEntry(r: Reader): Entry {
  const start = r.pos;
  let key: Uint8Array = new Uint8Array(0);
  for (let f = r.field(0); f.type !== 0; f = r.field(f.id)) {
    if (f.id === 1 && f.type === T.BINARY) {
      const n = r.varint();
      key = r.b.subarray(r.pos, r.pos + n);
      r.skipBytes(n);
    } else r.skip(f.type);
  }
  return { key, bytes: r.b.slice(start, r.pos) };
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/**
 * Sorts the key-value metadata of the Parquet file whose last bytes are `tail` (the footer, its
 * length and the magic must all be in it) by key, in place. Returns false, changing nothing, when
 * `tail` does not hold the whole footer.
 */
export function sortFooterMetadata(tail: Uint8Array): boolean {
  const view = new DataView(tail.buffer, tail.byteOffset, tail.byteLength);
  if (tail.length < 8 || view.getUint32(tail.length - 4, true) !== MAGIC) return false;
  const end = tail.length - 8;
  const start = end - view.getUint32(end, true);
  if (start < 0) return false;
  const r = new Reader(tail, start, end);
  for (let f = r.field(0); f.type !== 0; f = r.field(f.id)) {
    if (f.id !== FILE_METADATA_KEY_VALUES || f.type !== T.LIST) {
      r.skip(f.type);
      continue;
    }
    const { size, type } = r.listHeader();
    if (type !== T.STRUCT) throw new RangeError('Parquet footer key_value_metadata is not a list of structs');
    const from = r.pos;
    const entries: Entry[] = [];
    for (let i = 0; i < size; i++) entries.push(readEntry(r));
    entries.sort((a, b) => compareBytes(a.key, b.key)); // stable: equal keys keep their order
    let at = from;
    for (const e of entries) {
      tail.set(e.bytes, at);
      at += e.bytes.length;
    }
    return true;
  }
  return true; // no metadata: nothing to order
}
