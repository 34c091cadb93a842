import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import { MANIFEST_NAME } from '../backup/objects.js';
import { inputError } from '../errors.js';
import type { S3Options } from '../s3/client.js';
import { DEFAULT_UPLOADER_OPTIONS } from '../s3/uploader.js';
import type { ColumnSpec, TextDialect } from '../source/columns.js';
import { openDestination } from '../store/open.js';
import type { ObjectStore } from '../store/store.js';

/** What restore and verify need from a table's manifest, whichever kind of backup wrote it. */
export interface BackupManifest {
  format: 'tablevault.export.v1' | 'tablevault.incremental.v1';
  source: { engine: TextDialect; schema: string; table: string };
  columns: ColumnSpec[];
  /** Primary key columns (for an incremental backup: the key columns after the cursor). */
  primaryKey: string[];
  /** Incremental only: the cursor column; the row with the highest cursor per key is the latest. */
  cursor?: string;
  rows: number;
  files: Array<{ name: string; rows: number; bytes: number; sha256: string; runId?: string; through?: string[] | null; schemaVersion?: number }>;
  /** Incremental: every schema version's columns (objects of older versions lack added columns, hold narrower types). */
  schemas?: Array<{ version: number; columns: ColumnSpec[]; reset: boolean; changes: string[] }>;
}

/** The columns an object was written with (its schema version's), or the manifest's. */
export function fileColumns(m: BackupManifest, f: BackupManifest['files'][number]): ColumnSpec[] {
  return m.schemas?.find((v) => v.version === f.schemaVersion)?.columns ?? m.columns;
}

/** The objects since the last `--reset-table` (a reset starts a new full backup; what came before is history). */
export function currentFiles(m: BackupManifest, files: BackupManifest['files'] = m.files): BackupManifest['files'] {
  const resets = (m.schemas ?? []).filter((v) => v.reset).map((v) => v.version);
  const since = resets.length ? Math.max(...resets) : 0;
  return files.filter((f) => (f.schemaVersion ?? 1) >= since);
}

/** Columns of the latest schema that some object in `files` lacks: NULL in those objects' rows. */
export function columnsAddedLater(m: BackupManifest, files: BackupManifest['files']): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const have = new Set(fileColumns(m, f).map((c) => c.name));
    for (const c of m.columns) if (!have.has(c.name)) out.add(c.name);
  }
  return out;
}

export interface OpenedBackup {
  store: ObjectStore;
  /** The table's prefix inside the store, e.g. `nightly/public.orders`. */
  prefix: string;
  manifest: BackupManifest;
  close(): void;
}

interface RawManifest {
  format?: string;
  source?: BackupManifest['source'];
  columns?: ColumnSpec[];
  primaryKey?: string[];
  keyColumns?: string[];
  rows?: number;
  files?: BackupManifest['files'];
  schemas?: BackupManifest['schemas'];
}

/** `s3://bucket/prefix/<schema.table>` (or `file:///dir/<schema.table>`): the store and its manifest. */
export async function openBackup(url: string, s3: S3Options = {}): Promise<OpenedBackup> {
  const dest = openDestination(url.replace(/\/+$/, ''), s3, DEFAULT_UPLOADER_OPTIONS);
  try {
    await dest.store.check();
    const key = dest.prefix ? `${dest.prefix}/${MANIFEST_NAME}` : MANIFEST_NAME;
    let raw: RawManifest;
    try {
      raw = JSON.parse(Buffer.from(await dest.store.get(key)).toString('utf8')) as RawManifest;
    } catch (e) {
      if ((e as { code?: string }).code === 'NOT_FOUND') {
        throw inputError('NO_MANIFEST', `${url} holds no ${MANIFEST_NAME}: give the table's own prefix (…/<schema>.<table>) of a finished export or backup`, e);
      }
      throw e;
    }
    let manifest: BackupManifest;
    if (raw.format === 'tablevault.export.v1') {
      manifest = { format: raw.format, source: raw.source!, columns: raw.columns!, primaryKey: raw.primaryKey ?? [], rows: raw.rows ?? 0, files: raw.files ?? [] };
    } else if (raw.format === 'tablevault.incremental.v1') {
      const [cursor, ...pk] = raw.keyColumns ?? [];
      manifest = { format: raw.format, source: raw.source!, columns: raw.columns!, primaryKey: pk, cursor, rows: raw.rows ?? 0, files: raw.files ?? [], schemas: raw.schemas };
    } else {
      throw inputError('MANIFEST_FORMAT', `${url}/${MANIFEST_NAME} has format ${String(raw.format)}, which this tablevault does not read; upgrade tablevault`);
    }
    return { store: dest.store, prefix: dest.prefix, manifest, close: () => dest.store.close() };
  } catch (e) {
    dest.store.close();
    throw e;
  }
}

let wasmModule: Promise<typeof import('parquet-wasm')> | undefined;

/**
 * The rows of one Parquet object, one row group at a time: the object's bytes are held once and
 * each row group is decoded only when the consumer asks for it, so memory is one object plus
 * one row group however large the table.
 */
export async function* readObjectBatches(store: ObjectStore, key: string, batchRows = 65_536): AsyncGenerator<RecordBatch> {
  const wasm = await (wasmModule ??= import('parquet-wasm'));
  let bytes: Uint8Array | undefined = await store.get(key);
  const file = await wasm.ParquetFile.fromFile(new Blob([bytes]));
  bytes = undefined; // the Blob holds its own copy: let this one go while the row groups are read
  try {
    const groups = file.metadata().numRowGroups();
    for (let g = 0; g < groups; g++) {
      const table = await file.read({ rowGroups: [g], batchSize: batchRows });
      const ipc = table.intoIPCStream();
      for (const b of tableFromIPC(ipc).batches) yield b;
    }
  } finally {
    file.free();
  }
}
