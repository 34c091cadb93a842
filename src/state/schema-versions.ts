import type { ColumnSpec } from '../source/columns.js';
import { commitTransaction, type SchemasRow, type StateDb } from './db.js';
import { now } from './timestamps.js';

/** A new schema version of a table; `reset` also clears its watermark (`--reset-table`). */
export interface SchemaVersion {
  tableKey: string;
  version: number;
  columns: ColumnSpec[];
  keyColumns: string[];
  changes: string[] | null;
  reset: boolean;
}

/** The schema version new objects of the table are written under, if any is recorded. */
export function latestSchema(s: StateDb, tableKey: string): Promise<SchemasRow | undefined> {
  return s.db
    .selectFrom('tablevault_schemas')
    .selectAll()
    .where('table_key', '=', tableKey)
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
}

export function schemaVersion(s: StateDb, tableKey: string, version: number): Promise<SchemasRow> {
  return s.db
    .selectFrom('tablevault_schemas')
    .selectAll()
    .where('table_key', '=', tableKey)
    .where('version', '=', version)
    .executeTakeFirstOrThrow();
}

/** Records a schema version and makes it the table's current one, in one transaction. */
export async function addSchemaVersion(s: StateDb, v: SchemaVersion): Promise<void> {
  await commitTransaction(s, async (tx) => {
    await tx
      .insertInto('tablevault_schemas')
      .values({
        table_key: v.tableKey,
        version: v.version,
        columns_json: JSON.stringify(v.columns),
        key_columns: JSON.stringify(v.keyColumns),
        changes: v.changes ? JSON.stringify(v.changes) : null,
        reset: v.reset ? 1 : 0,
        created_at: now(),
      })
      .execute();
    await tx
      .updateTable('tablevault_tables')
      .set({ schema_version: v.version, ...(v.reset ? { watermark: null } : {}) })
      .where('table_key', '=', v.tableKey)
      .execute();
  });
}
