import type { CompressionName } from '../parquet/compression.js';
import type { ColumnSpec, SourceTable } from '../source/columns.js';
import type { ObjectStore } from '../store/store.js';
import { VERSION } from '../version.js';
import { manifestKey, objectName } from './layout.js';
import {
  EXPORT_FORMAT,
  INCREMENTAL_FORMAT,
  type ExportManifest,
  type GenerationEntry,
  type IncrementalManifest,
  type KeptFrom,
  type Manifest,
  type ManifestSource,
  type ObjectEntry,
  type SchemaVersionEntry,
} from './types.js';

/** A data object as its writer knows it: by its full key. */
export interface WrittenObject {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

type TableName = Pick<SourceTable, 'engine' | 'schema' | 'name'>;

function manifestSource(t: TableName): ManifestSource {
  return { engine: t.engine, schema: t.schema, table: t.name };
}

function objectEntry(prefix: string, o: WrittenObject): ObjectEntry {
  return { name: objectName(prefix, o.key), rows: o.rows, bytes: o.bytes, sha256: o.sha256 };
}

/** An export's manifest: the table's columns and key, and its part objects in order. */
export function exportManifest(
  prefix: string,
  table: TableName & Pick<SourceTable, 'columns' | 'primaryKey'>,
  compression: CompressionName,
  files: WrittenObject[],
  completedAt = new Date().toISOString(),
  backupRunId?: string,
): ExportManifest {
  return {
    format: EXPORT_FORMAT,
    tablevaultVersion: VERSION,
    source: manifestSource(table),
    columns: table.columns,
    primaryKey: table.primaryKey,
    compression,
    rows: files.reduce((n, f) => n + f.rows, 0),
    files: files.map((f) => objectEntry(prefix, f)),
    completedAt,
    ...(backupRunId ? { backupRunId } : {}),
  };
}

/** What an incremental manifest is made of: the table's recorded state, its objects and schema versions, as plain data. */
export interface IncrementalManifestInput {
  table: TableName;
  columns: ColumnSpec[];
  keyColumns: string[];
  /** Always given by backups; absent in manifests written before it (their fixtures). */
  primaryKey?: string[];
  schemaVersion: number;
  watermark: string[] | null;
  rows: number;
  schemas: SchemaVersionEntry[];
  /** In sequence order. */
  objects: Array<
    WrittenObject & {
      schemaVersion: number;
      after: string[] | null;
      through: string[];
      runId: string;
      backupRunId?: string;
      kind?: 'deletes';
    }
  >;
  /** Done generations, oldest first, their objects by full key (compaction). */
  generations?: Array<Omit<GenerationEntry, 'files'> & { files: Array<WrittenObject & { schemaVersion: number }> }>;
  /** Retention: the oldest kept run, once an expire moved it. */
  keptFrom?: KeptFrom;
}

/** An incremental backup's manifest, from the state store's record of it. */
export function incrementalManifest(
  prefix: string,
  input: IncrementalManifestInput,
  updatedAt = new Date().toISOString(),
): IncrementalManifest {
  return {
    format: INCREMENTAL_FORMAT,
    tablevaultVersion: VERSION,
    source: manifestSource(input.table),
    columns: input.columns,
    keyColumns: input.keyColumns,
    primaryKey: input.primaryKey,
    schemaVersion: input.schemaVersion,
    schemas: input.schemas,
    watermark: input.watermark,
    rows: input.rows,
    files: input.objects.map((o) => ({
      ...objectEntry(prefix, o),
      schemaVersion: o.schemaVersion,
      after: o.after,
      through: o.through,
      runId: o.runId,
      ...(o.backupRunId ? { backupRunId: o.backupRunId } : {}),
      ...(o.kind ? { kind: o.kind } : {}),
      // a late object leaves the watermark where it was: it starts and ends at the same key (a
      // tombstone object leaves it too, but holds no rows)
      late: !o.kind && o.after !== null && JSON.stringify(o.after) === JSON.stringify(o.through),
    })),
    ...(input.generations?.length
      ? {
          generations: input.generations.map((g) => ({
            ...g,
            files: g.files.map((f) => ({ ...objectEntry(prefix, f), schemaVersion: f.schemaVersion })),
          })),
        }
      : {}),
    ...(input.keptFrom ? { keptFrom: input.keptFrom } : {}),
    updatedAt,
  };
}

/** Writes a table's manifest as one object (pretty JSON, as every version so far has). */
export async function writeManifest(store: ObjectStore, prefix: string, manifest: Manifest): Promise<void> {
  await store.put({
    key: manifestKey(prefix),
    contentType: 'application/json',
    body: (async function* () {
      yield Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    })(),
  });
}

export async function writeIncrementalManifest(
  store: ObjectStore,
  prefix: string,
  input: IncrementalManifestInput,
): Promise<void> {
  await writeManifest(store, prefix, incrementalManifest(prefix, input));
}
