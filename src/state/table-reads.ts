import type { FilesRow, GenerationsRow, RunsRow, SchemasRow, StateDb, TablesRow } from './db.js';
import { listGenerations } from './generations.js';

/** What `status` shows of a table: its row, its last run and (incremental tables) its schema changes. */
export interface TableState {
  table?: TablesRow;
  lastRun?: RunsRow;
  schemaChanges?: SchemasRow[];
}

/** What the incremental manifest is written from. */
export interface ManifestState {
  table: TablesRow;
  files: FilesRow[];
  schemas: SchemasRow[];
  /** Done base generations (compaction), oldest first. */
  generations: GenerationsRow[];
}

/** The table's row, its latest run, and with `schemaChanges` every schema version that changed something (oldest first). */
export async function tableState(s: StateDb, tableKey: string, opts: { schemaChanges: boolean }): Promise<TableState> {
  const db = s.db;
  const table = await db
    .selectFrom('tablevault_tables')
    .selectAll()
    .where('table_key', '=', tableKey)
    .executeTakeFirst();
  const lastRun = await db
    .selectFrom('tablevault_runs')
    .selectAll()
    .where('table_key', '=', tableKey)
    .orderBy('started_at', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!opts.schemaChanges) return { table, lastRun };
  const schemaChanges = await db
    .selectFrom('tablevault_schemas')
    .selectAll()
    .where('table_key', '=', tableKey)
    .where('changes', 'is not', null)
    .orderBy('version')
    .execute();
  return { table, lastRun, schemaChanges };
}

/** The table's row, its files in order and every schema version: what its manifest says. */
export async function manifestState(s: StateDb, tableKey: string): Promise<ManifestState> {
  const db = s.db;
  const table = await db
    .selectFrom('tablevault_tables')
    .selectAll()
    .where('table_key', '=', tableKey)
    .executeTakeFirstOrThrow();
  const files = await db
    .selectFrom('tablevault_files')
    .selectAll()
    .where('table_key', '=', tableKey)
    .orderBy('seq')
    .execute();
  const schemas = await db
    .selectFrom('tablevault_schemas')
    .selectAll()
    .where('table_key', '=', tableKey)
    .orderBy('version')
    .execute();
  return { table, files, schemas, generations: await listGenerations(s, tableKey, 'done') };
}
