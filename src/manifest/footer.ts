import type { SourceTable } from '../source/columns.js';
import { VERSION } from '../version.js';
import { dayFolder, nextDay } from './layout.js';

/**
 * Key-value metadata in every Parquet footer, so an object found on its own says where it came
 * from. The keys and their order are part of the object's bytes: keep them as they are.
 */
export function parquetMetadata(
  table: Pick<SourceTable, 'engine' | 'schema' | 'name'>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    'tablevault.version': VERSION,
    'tablevault.source': JSON.stringify({ engine: table.engine, schema: table.schema, table: table.name }),
    ...extra,
  };
}

export interface IncrementalFooter {
  /** The watermark the object's rows follow (null: from the start). */
  after: string[] | null;
  schemaVersion: number;
  /** (cursor, primary key…) */
  keyColumns: string[];
  /** Day partitions: the cursor day (`YYYY-MM-DD`) of every row in the object. */
  day?: string;
}

/** A tombstone object's footer: the keys it holds, and the run that found them deleted. */
export function deletesMetadata(
  table: Pick<SourceTable, 'engine' | 'schema' | 'name'>,
  f: { schemaVersion: number; primaryKey: string[]; runId: string },
): Record<string, string> {
  return parquetMetadata(table, {
    'tablevault.kind': 'deletes',
    'tablevault.schema_version': String(f.schemaVersion),
    'tablevault.key_columns': JSON.stringify(f.primaryKey),
    'tablevault.deleted_in_run': f.runId,
  });
}

/** An incremental object's footer: where it sits in the backup, readable without the manifest. */
export function incrementalMetadata(
  table: Pick<SourceTable, 'engine' | 'schema' | 'name'>,
  f: IncrementalFooter,
): Record<string, string> {
  return parquetMetadata(table, {
    'tablevault.after': JSON.stringify(f.after),
    'tablevault.schema_version': String(f.schemaVersion),
    'tablevault.key_columns': JSON.stringify(f.keyColumns),
    // with day partitions the cursor range is known up front: [day, next day); always in the row groups' column statistics
    ...(f.day
      ? {
          'tablevault.partition': dayFolder(f.day),
          'tablevault.cursor_from': f.day,
          'tablevault.cursor_before': nextDay(f.day),
        }
      : {}),
  });
}
