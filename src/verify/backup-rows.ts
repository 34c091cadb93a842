import type { RecordBatch } from 'apache-arrow';
import { runtimeError } from '../errors.js';
import { FLOAT_KINDS, INTEGER_KINDS, type ColumnKind, type ColumnSpec } from '../source/columns.js';
import type { OpenedBackup } from '../manifest/open.js';
import { fileColumns, filesThrough } from '../manifest/view.js';
import { readObjectBatches } from '../parquet/read.js';
import { decimalUnscaled } from '../arrow/to-text.js';
import { canonReader, hashes, isFloatColumn, newSide, type Hash, type Side } from '../checksum/canon.js';
import type { ProgressSink } from '../progress.js';
import { keyDigest, keyTexts } from '../lifecycle/live-keys.js';

/** An incremental backup's newest version per key is found with a map; past this many keys per pass, more passes. */
const KEYS_PER_PASS = 2_000_000;

/**
 * A batch's rows as canonical text (checksum/canon.ts), the same as the database computes it: the key
 * (primary key cells) and the row. With `split` (MySQL) floats are hashed apart from the rest: MySQL
 * can compute the rest in SQL but has no exact text of a float, so its floats are streamed.
 */
function rowTexts(
  batch: RecordBatch,
  ctx: RowContext,
  written?: ColumnSpec[],
): { key: (r: number) => string; hash: (r: number, key: string) => Hash } {
  const readers = ctx.columns.map((c) => {
    const w = written ? written.find((x) => x.name === c.name) : c;
    if (!w) return () => 'n'; // added after this object was written: NULL in it
    const child = batch.getChild(c.name);
    if (!child) throw runtimeError('VERIFY_COLUMN', `column ${c.name} is missing from a batch`);
    return canonReader(c, child.data[0]!, w);
  });
  const isFloat = ctx.columns.map((c) => ctx.split && isFloatColumn(c));
  const rest = readers.filter((_, i) => !isFloat[i]);
  const floats = readers.filter((_, i) => isFloat[i]);
  return {
    key: (r) => ctx.keyIdx.map((k) => readers[k]!(r)).join('\u001f'),
    hash: (r, key) =>
      hashes(
        key,
        rest.map((f) => f(r)).join('\u001f'),
        floats.length ? floats.map((f) => f(r)).join('\u001f') : undefined,
      ),
  };
}

function add(side: Side, h: { bucket: number; a: number; b: number }): void {
  side.count[h.bucket]! += 1;
  side.sumA[h.bucket] = (side.sumA[h.bucket]! + h.a) >>> 0;
  side.sumB[h.bucket] = (side.sumB[h.bucket]! + h.b) >>> 0;
}

/** Kinds whose Arrow values are the cursor's order as they are: integers, floats, days, microseconds. */
const RAW_NUMBER_KINDS: ReadonlySet<ColumnKind> = new Set([
  'timestamp',
  'timestamptz',
  'time',
  'date',
  ...INTEGER_KINDS,
  ...FLOAT_KINDS,
]);

/** Comparable cursor values of one batch: the raw integer, float, day or microsecond number; decimals from their words; else text. */
export function cursorReader(batch: RecordBatch, spec: ColumnSpec): (r: number) => bigint | number | string | null {
  const data = batch.getChild(spec.name)!.data[0]!;
  const off = data.offset;
  if (spec.kind === 'decimal') {
    const w = data.values as Uint32Array;
    return (r) => (data.getValid(r) ? decimalUnscaled(w, (off + r) * 4) : null);
  }
  if (RAW_NUMBER_KINDS.has(spec.kind)) {
    const values = data.values as unknown as ArrayLike<number | bigint>;
    return (r) => (data.getValid(r) ? values[off + r]! : null);
  }
  const read = canonReader(spec, data);
  return (r) => {
    const v = read(r);
    return v === 'n' ? null : v;
  };
}

/** What both sides hash a row by: the backup's columns, the primary key's positions among them, and whether floats are hashed apart. */
export interface RowContext {
  columns: ColumnSpec[];
  keyIdx: number[];
  batchRows: number;
  split: boolean;
}

export type Hashed = { key: string; h: Hash };

/** A batch's rows with their key, content and hashes, those in the `want` buckets only. */
function* hashedRows(
  batch: RecordBatch,
  ctx: RowContext,
  want: (bucket: number) => boolean,
  written?: ColumnSpec[],
): Generator<Hashed> {
  const t = rowTexts(batch, ctx, written);
  for (let r = 0; r < batch.numRows; r++) {
    const key = t.key(r);
    const h = t.hash(r, key);
    if (want(h.bucket)) yield { key, h };
  }
}

/** The backup's rows (for an incremental one: the newest version per key), as (key, row) pairs, restricted to `want` buckets. */
export async function* backupRows(
  b: OpenedBackup,
  ctx: RowContext,
  want: (bucket: number) => boolean,
): AsyncGenerator<Hashed> {
  const m = b.manifest;
  const keyOf = (f: string) => (b.prefix ? `${b.prefix}/${f}` : f);
  if (m.format === 'tablevault.export.v1') {
    for (const f of m.files) {
      for await (const batch of readObjectBatches(b.store, keyOf(f.name), ctx.batchRows))
        yield* hashedRows(batch, ctx, want, fileColumns(m, f));
    }
    return;
  }
  // incremental: several versions per key; the newest cursor wins (later file on a tie); a
  // tombstone object deletes its keys' versions so far (a later version is the key inserted again)
  const cursorSpec = m.columns.find((c) => c.name === m.cursor)!;
  const passes = Math.max(1, Math.ceil(m.rows / KEYS_PER_PASS));
  const keyColumns = ctx.keyIdx.map((i) => ctx.columns[i]!);
  for (let pass = 0; pass < passes; pass++) {
    const latest = new Map<string, { cursor: bigint | number | string | null; h: Hash }>();
    for (const f of filesThrough(m).files) {
      if (f.kind === 'deletes') {
        const names = keyColumns.map((c) => c.name);
        for await (const batch of readObjectBatches(b.store, keyOf(f.name), ctx.batchRows, names)) {
          const text = keyTexts(batch, keyColumns, fileColumns(m, f));
          for (let r = 0; r < batch.numRows; r++) {
            const key = text(r);
            if (passes === 1 || keyDigest(key).bucket % passes === pass) latest.delete(key);
          }
        }
        continue;
      }
      for await (const batch of readObjectBatches(b.store, keyOf(f.name), ctx.batchRows)) {
        const t = rowTexts(batch, ctx, fileColumns(m, f));
        const cur = cursorReader(batch, cursorSpec);
        for (let r = 0; r < batch.numRows; r++) {
          const key = t.key(r);
          const h = t.hash(r, key);
          if (h.bucket % passes !== pass || !want(h.bucket)) continue;
          const c = cur(r);
          const prev = latest.get(key);
          if (!prev || prev.cursor === null || (c !== null && c >= prev.cursor)) latest.set(key, { cursor: c, h });
        }
      }
    }
    for (const [key, v] of latest) yield { key, h: v.h };
  }
}

/** The backup's side of the checksums, read while the database computes its own. */
export async function backupSide(
  backup: OpenedBackup,
  ctx: RowContext,
  opts: { table: string; progress?: ProgressSink },
): Promise<Side> {
  const bak = newSide();
  opts.progress?.({ table: opts.table, estimatedRows: backup.manifest.rows });
  let n = 0;
  for await (const r of backupRows(backup, ctx, () => true)) {
    add(bak, r.h);
    if (++n === 10_000) {
      opts.progress?.({ table: opts.table, rows: n });
      n = 0;
    }
  }
  opts.progress?.({ table: opts.table, rows: n });
  return bak;
}
