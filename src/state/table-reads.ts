import type { FilesRow, GenerationsRow, RetentionRow, RunsRow, SchemasRow, StateDb, TablesRow } from './db.js';
import { listGenerations } from './generations.js';
import { PRIMARY_TARGET, retentionRow } from './retention.js';

/** What `status` shows of a table: its row, its last run and (incremental tables) its schema changes. */
export interface TableState {
  table?: TablesRow;
  lastRun?: RunsRow;
  schemaChanges?: SchemasRow[];
}

/** What the incremental manifest is written from: what it lists, retention applied. */
export interface ManifestState {
  table: TablesRow;
  /** Listed files, in seq order: those the target's retention has not left behind. */
  files: FilesRow[];
  schemas: SchemasRow[];
  /** Listed done base generations (compaction), oldest first. */
  generations: GenerationsRow[];
  /** The target's retention, once an expire has moved it: the oldest kept run, what is listed. */
  retention?: RetentionRow;
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

/**
 * The table's row, its listed files in order and every schema version: what its manifest (the
 * destination's, or with `target` a mirror's) says.
 */
export async function manifestState(
  s: StateDb,
  tableKey: string,
  target: string = PRIMARY_TARGET,
): Promise<ManifestState> {
  const db = s.db;
  const table = await db
    .selectFrom('tablevault_tables')
    .selectAll()
    .where('table_key', '=', tableKey)
    .executeTakeFirstOrThrow();
  const retention = await retentionRow(s, tableKey, target);
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
  return listed({ table, files, schemas, generations: await listGenerations(s, tableKey, 'done') }, retention);
}

/** What a manifest lists under a target's retention: files from kept_seq on, generations from kept_gen on. */
export function listed(all: ManifestState, retention: RetentionRow | undefined): ManifestState {
  if (!retention) return all;
  return {
    ...all,
    files: all.files.filter((f) => f.seq >= retention.kept_seq),
    generations: all.generations.filter((g) => g.generation >= retention.kept_gen),
    retention,
  };
}
