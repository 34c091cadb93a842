import type { RecordBatch } from 'apache-arrow';
import { runtimeError } from '../errors.js';
import { hash } from 'node:crypto';
import { BUCKETS, canonReader } from '../checksum/canon.js';
import { fileColumns, type BackupFile, type BackupManifest } from '../manifest/view.js';
import { readObjectBatches } from '../parquet/read.js';
import { INTEGER_KINDS, type ColumnSpec } from '../source/columns.js';
import type { ObjectStore } from '../store/store.js';

/**
 * A table's backed-up key set, read from its objects: the side of deletion detection that is in
 * the bucket. Only the key columns are decoded.
 */

/** Where one key's latest version is: the file's place in the list and the row's within it, as one number. */
export type KeyPlace = number;
const ROW_SPAN = 2 ** 32;
export const keyPlace = (file: number, row: number): KeyPlace => file * ROW_SPAN + row;
export const placeFile = (p: KeyPlace): number => Math.floor(p / ROW_SPAN);
export const placeRow = (p: KeyPlace): number => p % ROW_SPAN;

/** Places grouped by object (its place in the list): each object's rows, ascending. */
export function rowsByFile(places: Iterable<KeyPlace>): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const p of places) {
    const file = placeFile(p);
    const rows = out.get(file) ?? [];
    out.set(file, rows);
    rows.push(placeRow(p));
  }
  for (const rows of out.values()) rows.sort((a, b) => a - b);
  return out;
}

/**
 * A key's bucket and checksums, as the source's checksums compute them for a table of its key
 * columns alone (the row's text is the key's): both halves of one MD5 of the key's canonical text.
 */
export function keyDigest(key: string): { bucket: number; a: number; b: number } {
  const d = hash('md5', key, 'buffer');
  const a = d.readUInt32BE(0);
  return { bucket: a % BUCKETS, a, b: d.readUInt32BE(4) };
}

/** Which of `passes` passes a key falls in: a number's remainder, or FNV-1a of a text's UTF-16 code units (cheap; both sides compute it here). */
export function passOf(k: KeyValue, passes: number): number {
  if (typeof k === 'number') return Math.abs(k % passes);
  let h = 0x811c9dc5;
  for (let i = 0; i < k.length; i++) h = Math.imul(h ^ k.charCodeAt(i), 0x01000193);
  return (h >>> 0) % passes;
}

/** Each row's key text (canonical cells joined, checksum/canon.ts) of a batch holding the key columns. */
export function keyTexts(batch: RecordBatch, key: ColumnSpec[], written?: ColumnSpec[]): (r: number) => string {
  const readers = key.map((c) => {
    const child = batch.getChild(c.name);
    if (!child) throw runtimeError('DELETES_COLUMN', `key column ${c.name} is missing from a backed-up object`);
    return canonReader(
      c,
      child.data[0]!,
      written?.find((w) => w.name === c.name),
    );
  });
  if (readers.length === 1) return readers[0]!;
  return (r) => readers.map((f) => f(r)).join('\u001f');
}

/** What a key is held by in a map: a number for one integer column within 2^53 (a fraction of a string's memory), else its text. */
export type KeyValue = string | number;

/** Each row's KeyValue: the same for the same key whichever side (object or source) and integer width it was read with. */
export function keyValues(batch: RecordBatch, key: ColumnSpec[], written?: ColumnSpec[]): (r: number) => KeyValue {
  const only = key.length === 1 ? key[0]! : undefined;
  if (!only || !INTEGER_KINDS.includes(only.kind)) return keyTexts(batch, key, written);
  const child = batch.getChild(only.name);
  if (!child) throw runtimeError('DELETES_COLUMN', `key column ${only.name} is missing from a backed-up object`);
  const data = child.data[0]!;
  const values = data.values as unknown as ArrayLike<number | bigint>;
  const off = data.offset;
  return (r) => {
    const v = values[off + r]!;
    if (typeof v === 'number') return v;
    return v <= MAX_SAFE && v >= -MAX_SAFE ? Number(v) : String(v);
  };
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The live keys of `files` (in order), with where their latest version is: a row object adds its
 * keys (a later version moves the key to it), a tombstone object removes its keys. With `want`,
 * only the keys it accepts (a pass over a share of them, passOf).
 */
export async function liveKeys(
  store: ObjectStore,
  keyOf: (f: BackupFile) => string,
  m: BackupManifest,
  files: BackupFile[],
  key: ColumnSpec[],
  want: ((key: KeyValue) => boolean) | undefined,
  batchRows: number,
): Promise<Map<KeyValue, KeyPlace>> {
  const live = new Map<KeyValue, KeyPlace>();
  const names = key.map((c) => c.name);
  for (const [file, f] of files.entries()) {
    const deletes = f.kind === 'deletes';
    let row = 0;
    for await (const batch of readObjectBatches(store, keyOf(f), batchRows, names)) {
      const value = keyValues(batch, key, fileColumns(m, f));
      for (let r = 0; r < batch.numRows; r++, row++) {
        const k = value(r);
        if (want && !want(k)) continue;
        if (deletes) live.delete(k);
        else live.set(k, keyPlace(file, row));
      }
    }
  }
  return live;
}
