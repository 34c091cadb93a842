import type { CompressionName } from '../parquet/compression.js';
import type { ColumnSpec, TextDialect } from '../source/columns.js';

/**
 * The manifests, as they are in the bucket: one `_manifest.json` per table, beside its objects.
 * Everything needed to read a backup from the bucket alone. The format names the version; a
 * field added later is optional here, because manifests written before it must still read.
 */

export const EXPORT_FORMAT = 'tablevault.export.v1';
export const INCREMENTAL_FORMAT = 'tablevault.incremental.v1';
export const MANIFEST_FORMATS = [EXPORT_FORMAT, INCREMENTAL_FORMAT] as const;
export type ManifestFormat = (typeof MANIFEST_FORMATS)[number];

export interface ManifestSource {
  engine: TextDialect;
  schema: string;
  table: string;
}

/** One data object; `name` is its key relative to the table's prefix. */
export interface ObjectEntry {
  name: string;
  rows: number;
  bytes: number;
  /** Hex SHA-256 of the object's bytes. */
  sha256: string;
}

/** `tablevault.export.v1`: one whole copy of a table, in primary-key order. */
export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  tablevaultVersion: string;
  source: ManifestSource;
  columns: ColumnSpec[];
  primaryKey: string[];
  compression: CompressionName;
  rows: number;
  files: ObjectEntry[];
  completedAt: string;
  /** The backup run (one `backup` command) that exported it, when a backup run did (restore `--as-of`). */
  backupRunId?: string;
}

export interface IncrementalObjectEntry extends ObjectEntry {
  /** The schema version the object was written under (since schema versions; before: 1). */
  schemaVersion?: number;
  /** The watermark its rows follow; null for the first object. */
  after: string[] | null;
  /** The watermark after it: the (cursor, primary key…) of its last row. */
  through: string[];
  /** The table's backup run that committed it (restore `--as-of`). */
  runId: string;
  /** The backup run (one `backup` command, all its tables) it was committed by (restore `--as-of`; since 0007). */
  backupRunId?: string;
  /** Rows committed late, found in the lag window: their cursors are at or below `after` (since the lag window). */
  late?: boolean;
  /**
   * What the object holds: absent, row versions; `deletes` (a tombstone object, since deletion
   * detection), the primary keys, and only those columns, of rows the run found gone from the
   * source. Every version of such a key in an earlier object is deleted; a version in a later
   * object (the key inserted again) is not. `rows` counts the keys.
   */
  kind?: 'deletes';
}

/** The columns objects were written with, from one schema change (or `--reset-table`) to the next. */
export interface SchemaVersionEntry {
  version: number;
  columns: ColumnSpec[];
  keyColumns: string[];
  /** What changed from the version before, e.g. `column note added`. */
  changes: string[];
  /** A `--reset-table` started a new full backup here: objects before it are history. */
  reset: boolean;
  createdAt: string;
}

/**
 * A base generation (compaction, since generations): the table's state as of the end of
 * `files[0 .. through)` — the newest version of every key, tombstones applied — as row objects
 * of one version per key. A restore of a point at or past it reads it instead of those files.
 */
export interface GenerationEntry {
  id: number;
  /** It covers `files[0 .. through)` of the manifest's file list. */
  through: number;
  /** The table's run that committed the last covered file. */
  runId: string;
  backupRunId?: string;
  /** The latest schema version among its objects. */
  schemaVersion: number;
  rows: number;
  /** `gen-GGGGG/part-NNNNN.parquet`, each written under one schema version (its own `schemaVersion`). */
  files: Array<ObjectEntry & { schemaVersion: number }>;
  createdAt: string;
}

/** The oldest run a backup keeps (retention): `restore --as-of` an earlier run fails, naming it. */
export interface KeptFrom {
  runId: string;
  backupRunId?: string;
  /** When it committed its last object. */
  at: string;
}

/** `tablevault.incremental.v1`: row versions past a (cursor, primary key) watermark, object by object. */
export interface IncrementalManifest {
  format: typeof INCREMENTAL_FORMAT;
  tablevaultVersion: string;
  source: ManifestSource;
  /** The latest schema version's columns. */
  columns: ColumnSpec[];
  /** (cursor, primary key…) */
  keyColumns: string[];
  /**
   * The primary key (since 0.1 of this field; before, the key columns after the cursor, which
   * drop a key column that is also the cursor): what restore and verify tell rows apart by.
   */
  primaryKey?: string[];
  /** Since schema versions. */
  schemaVersion?: number;
  /** Every version's columns: objects written under an older one lack added columns and hold narrower types (since schema versions). */
  schemas?: SchemaVersionEntry[];
  watermark: string[] | null;
  rows: number;
  files: IncrementalObjectEntry[];
  /**
   * Base generations (compaction), oldest first: `files` still lists every object, which as-of
   * points before a generation read (since generations).
   */
  generations?: GenerationEntry[];
  /**
   * Retention (since expire): the oldest kept run. Objects only earlier runs read are gone and no
   * longer listed; a run before it whose objects a kept run still reads stays listed, but is expired.
   */
  keptFrom?: KeptFrom;
  updatedAt: string;
}

export type Manifest = ExportManifest | IncrementalManifest;
