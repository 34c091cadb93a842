import type { ColumnSpec } from '../source/columns.js';
import {
  EXPORT_FORMAT,
  type IncrementalObjectEntry,
  type KeptFrom,
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
  /** Incremental: base generations (compaction), oldest first; see chooseFiles. */
  generations?: GenerationView[];
  /** Incremental: the oldest run retention keeps; an as-of point before it is expired. */
  keptFrom?: KeptFrom;
}

/** A base generation as restore and verify see it: what it covers and its objects. */
export interface GenerationView {
  id: number;
  /** It stands for `files[0 .. through)`. */
  through: number;
  files: BackupFile[];
  /** The run of the last file it covers (and its backup run): an as-of point it ends, when those files are no longer listed. */
  runId?: string;
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
    ...(m.generations?.length
      ? {
          generations: m.generations.map((g) => ({
            id: g.id,
            through: g.through,
            files: g.files,
            runId: g.runId,
            ...(g.backupRunId ? { backupRunId: g.backupRunId } : {}),
          })),
        }
      : {}),
    ...(m.keptFrom ? { keptFrom: m.keptFrom } : {}),
  };
}

/** The objects a restore or verify of one point reads, in order, and the generation they start with. */
export interface FileChoice {
  files: BackupFile[];
  generation?: number;
}

/**
 * The objects that make up the table as of the end of `files[0 .. end)` (the latest state: all
 * of them): the newest generation covering at most those, then the files after it up to `end`;
 * without one, the files themselves. A generation holds the newest version of each key its files
 * hold (tombstones applied), each row with its cursor, and comes first: newest-cursor-wins and a
 * later tombstone apply to it as to the files it stands for, so both orders restore the same rows.
 * Objects before the last `--reset-table` are left out (currentFiles).
 */
export function filesThrough(m: BackupManifest, end: number = m.files.length): FileChoice {
  const g = (m.generations ?? []).filter((x) => x.through <= end).at(-1);
  if (!g) return { files: currentFiles(m, m.files.slice(0, end)) };
  return { files: currentFiles(m, [...g.files, ...m.files.slice(g.through, end)]), generation: g.id };
}

/**
 * Where run `asOf` ends in an incremental manifest's file list: one past its last file (a table's
 * run id, or the backup run it was part of), or, when retention no longer lists its files, where
 * the generation that ends with it stands; -1 when neither is of that run.
 */
export function runEnd(m: BackupManifest, asOf: string): number {
  const last = m.files.map((f) => f.runId === asOf || f.backupRunId === asOf).lastIndexOf(true);
  if (last >= 0) return last + 1;
  const g = (m.generations ?? []).findLast((x) => x.runId === asOf || x.backupRunId === asOf);
  return g ? g.through : -1;
}

/**
 * Whether run `asOf` is an as-of point the backup no longer keeps: before its oldest kept run
 * (retention), or absent from a backup retention has expired runs of.
 */
export function expiredRun(m: BackupManifest, asOf: string): boolean {
  if (!m.keptFrom) return false;
  const end = runEnd(m, asOf);
  return end < 0 || end < runEnd(m, m.keptFrom.runId);
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
