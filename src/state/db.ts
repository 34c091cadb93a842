import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { runtimeError } from '../errors.js';
import { packagePath } from '../package-root.js';
import { describeDbUrl } from '../redact.js';
import { engineFor, type Engine } from '../source/engine.js';

export interface TablesRow {
  table_key: string;
  destination: string;
  source_table: string;
  watermark: string | null;
  files: number;
  rows: string | number;
  bytes: string | number;
  columns_json: string | null;
  last_run_id: string | null;
  updated_at: string | null;
  schema_version?: number;
}
export interface FilesRow {
  table_key: string;
  seq: number;
  object_key: string;
  rows: string | number;
  bytes: string | number;
  sha256: string;
  key_from: string | null;
  key_to: string;
  run_id: string;
  created_at: string;
  schema_version?: number;
  /** The backup run (the command) that committed it; null before migration 0007. */
  backup_run?: string | null;
  /** null: row versions; `deletes`: a tombstone object (since 0008). */
  kind?: string | null;
}
export interface RunsRow {
  id: string;
  table_key: string;
  started_at: string;
  finished_at: string | null;
  status: string;
  rows: string | number;
  files: number;
  bytes: string | number;
  watermark_before: string | null;
  watermark_after: string | null;
  error: string | null;
}
export interface RecentRow {
  table_key: string;
  version: string;
}
export interface SchemasRow {
  table_key: string;
  version: number;
  columns_json: string;
  key_columns: string;
  changes: string | null;
  reset: number;
  created_at: string;
}
export interface SeenRow {
  seen_key: string;
  destination: string;
  table_name: string;
  first_seen: string;
  last_seen: string;
  /** Where its state is (tablevault_tables, tablevault_runs); null when last seen before migration 0005. */
  state_key: string | null;
}
export interface ChunksRow {
  table_key: string;
  chunk: number;
  plan_seq: number;
  key_columns: string;
  key_after: string | null;
  key_through: string;
  range_sql: string | null;
  estimated_rows: string | number;
  progress: string | null;
  parts: number;
  done: number;
  run_id: string;
  created_at: string;
}
export interface ChunkFilesRow {
  table_key: string;
  chunk: number;
  part: number;
  object_key: string;
  rows: string | number;
  bytes: string | number;
  sha256: string;
  key_from: string | null;
  key_to: string;
  schema_version: number;
  run_id: string;
}
export interface GenerationsRow {
  table_key: string;
  generation: number;
  through_seq: number;
  run_id: string;
  backup_run: string | null;
  schema_version: number;
  rows: string | number;
  bytes: string | number;
  files_json: string | null;
  /** `writing` until every object is durable, then `done` (since 0009). */
  status: string;
  created_at: string;
}
export interface RetentionRow {
  table_key: string;
  /** `''`: the destination; else a mirror's dest URL (since 0010). */
  target: string;
  kept_run: string;
  kept_backup_run: string | null;
  kept_at: string;
  kept_last_seq: number;
  kept_seq: number;
  kept_gen: number;
  swept_seq: number;
  swept_gen: number;
  updated_at: string;
}
export interface PlansRow {
  plan_key: string;
  backup_run: string;
  strategy: string;
  tasks: number;
  planned_by: string;
  status: string;
  created_at: string;
  finished_at: string | null;
}
export interface TasksRow {
  plan_key: string;
  task: number;
  name: string;
  spec: string;
  status: string;
  owner: string | null;
  host: string | null;
  token: string | number;
  lease_until: string | number;
  attempts: number;
  result: string | null;
  updated_at: string;
}
export interface StateSchema {
  tablevault_tables: TablesRow;
  tablevault_files: FilesRow;
  tablevault_runs: RunsRow;
  tablevault_recent: RecentRow;
  tablevault_schemas: SchemasRow;
  tablevault_seen: SeenRow;
  tablevault_chunks: ChunksRow;
  tablevault_chunk_files: ChunkFilesRow;
  tablevault_generations: GenerationsRow;
  tablevault_retention: RetentionRow;
  tablevault_plans: PlansRow;
  tablevault_tasks: TasksRow;
}

export interface StateDb {
  db: Kysely<StateSchema>;
  /** The state database's engine: its state-store SQL (`engine.state`: locks, insert-or-skip) and connection errors. */
  engine: Engine;
  label: string;
  /**
   * A shared run's task holder (see StateRepository.fenced): checks, inside each commit's
   * transaction, that the task's lease is still its own; throws when it is not, so the commit
   * rolls back.
   */
  fence?: (tx: Kysely<StateSchema>) => Promise<void>;
}

/**
 * A commit's transaction: fenced first when the repository is a task holder's (StateDb.fence),
 * so a worker whose lease was lost commits nothing.
 */
export function commitTransaction<T>(s: StateDb, fn: (tx: Kysely<StateSchema>) => Promise<T>): Promise<T> {
  return s.db.transaction().execute(async (tx) => {
    await s.fence?.(tx);
    return fn(tx);
  });
}

const MIGRATIONS_DIR = packagePath('migrations');

/** Loads migrations/NNNN_name.js in name order. */
class DirectoryMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const f of readdirSync(MIGRATIONS_DIR)
      .filter((n) => /^\d+_.*\.js$/.test(n))
      .sort()) {
      out[f.replace(/\.js$/, '')] = (await import(pathToFileURL(join(MIGRATIONS_DIR, f)).href)) as Migration;
    }
    return out;
  }
}

/** Opens the state store at a postgres:// or mysql:// URL (connects lazily; loads only that driver). */
export async function openStateDb(url: string, opts?: { maxConnections?: number }): Promise<StateDb> {
  const engine = await engineFor(url, 'state URL');
  return {
    db: engine.state.open<StateSchema>(url, opts),
    engine,
    label: describeDbUrl(url),
  };
}

/** Creates or upgrades the state schema; safe to run concurrently (kysely takes a migration lock). */
export async function migrateState(s: StateDb): Promise<string[]> {
  try {
    await sql`SELECT 1`.execute(s.db);
  } catch (e) {
    throw s.engine.connectError(e, s.label);
  }
  const migrator = new Migrator({
    db: s.db,
    provider: new DirectoryMigrationProvider(),
    migrationTableName: 'tablevault_migration',
    migrationLockTableName: 'tablevault_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error)
    throw runtimeError(
      'STATE_MIGRATE',
      `migrating the state store at ${s.label} failed: ${(error as Error).message}`,
      error,
    );
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/**
 * Runs `fn` holding an exclusive lock named `name` in the state database, or returns `busy`
 * when another process holds it. Session-level advisory locks (pg_try_advisory_lock,
 * GET_LOCK): a process that dies, even by SIGKILL, loses its connection and so its lock.
 */
export async function withLock<T>(s: StateDb, name: string, fn: () => Promise<T>): Promise<T | 'busy'> {
  return s.db.connection().execute(async (conn) => {
    if (!(await s.engine.state.tryLock(conn, name))) return 'busy' as const;
    try {
      return await fn();
    } finally {
      await s.engine.state.unlock(conn, name);
    }
  });
}
