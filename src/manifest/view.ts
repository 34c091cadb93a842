import type { ColumnSpec } from '../source/columns.js';
import {
  EXPORT_FORMAT,
  type IncrementalObjectEntry,
  type Manifest,
  type ManifestSource,
  type ObjectEntry,
  type SchemaVersionEntry,
} from './types.js';

/** One object as restore and verify see it, whichever kind of backup wrote it. */
export type BackupFile = ObjectEntry &
  Partial<Pick<IncrementalObjectEntry, 'runId' | 'backupRunId' | 'through' | 'schemaVersion' | 'kind'>>;

/** What restore and verify need from a table's manifest, whichever kind of backup wrote it. */
export interface BackupManifest {
  format: Manifest['format'];
  source: ManifestSource;
  columns: ColumnSpec[];
  /** Primary key columns (for an incremental backup: the key columns after the cursor). */
  primaryKey: string[];
  /** Incremental only: the cursor column; the row with the highest cursor per key is the latest. */
  cursor?: string;
  rows: number;
  files: BackupFile[];
  /** Incremental: every schema version's columns (objects of older versions lack added columns, hold narrower types). */
  schemas?: SchemaVersionEntry[];
  /** A full export: the backup run that made it, when a backup run did. */
  backupRunId?: string;
}

export function backupView(m: Manifest): BackupManifest {
  if (m.format === EXPORT_FORMAT) {
    return {
      format: m.format,
      source: m.source,
      columns: m.columns,
      primaryKey: m.primaryKey,
      rows: m.rows,
      files: m.files,
      ...(m.backupRunId ? { backupRunId: m.backupRunId } : {}),
    };
  }
  const [cursor, ...after] = m.keyColumns;
  return {
    format: m.format,
    source: m.source,
    columns: m.columns,
    // manifests before `primaryKey` hold only the key columns: after the cursor, or the cursor
    // itself when it is the whole key (`cursor: id`), which left the key columns after it empty
    primaryKey: m.primaryKey ?? (after.length ? after : [cursor!]),
    cursor,
    rows: m.rows,
    files: m.files,
    schemas: m.schemas,
  };
}

/** The columns an object was written with (its schema version's), or the manifest's. */
export function fileColumns(m: BackupManifest, f: BackupFile): ColumnSpec[] {
  return m.schemas?.find((v) => v.version === f.schemaVersion)?.columns ?? m.columns;
}

/** The objects since the last `--reset-table` (a reset starts a new full backup; what came before is history). */
export function currentFiles(m: BackupManifest, files: BackupFile[] = m.files): BackupFile[] {
  const resets = (m.schemas ?? []).filter((v) => v.reset).map((v) => v.version);
  const since = resets.length ? Math.max(...resets) : 0;
  return files.filter((f) => (f.schemaVersion ?? 1) >= since);
}

/** Columns of the latest schema that some object in `files` lacks: NULL in those objects' rows. */
export function columnsAddedLater(m: BackupManifest, files: BackupFile[]): Set<string> {
  const out = new Set<string>();
  for (const f of files) {
    const have = new Set(fileColumns(m, f).map((c) => c.name));
    for (const c of m.columns) if (!have.has(c.name)) out.add(c.name);
  }
  return out;
}
