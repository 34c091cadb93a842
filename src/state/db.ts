import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Kysely, Migrator, MysqlDialect, PostgresDialect, sql, type Migration, type MigrationProvider } from 'kysely';
import { inputError, runtimeError } from '../errors.js';
import { packagePath } from '../package-root.js';
import { describeDbUrl, redactUrl } from '../redact.js';
import { mysqlConnectionOptions } from '../source/mysql/connection.js';
import { mysqlConnectError } from '../source/mysql/errors.js';
import { pgConnectError } from '../source/postgres/errors.js';

export interface TablesRow {
  table_key: string; destination: string; source_table: string; watermark: string | null;
  files: number; rows: string | number; bytes: string | number; columns_json: string | null; last_run_id: string | null; updated_at: string | null;
  schema_version?: number;
}
export interface FilesRow {
  table_key: string; seq: number; object_key: string; rows: string | number; bytes: string | number; sha256: string;
  key_from: string | null; key_to: string; run_id: string; created_at: string; schema_version?: number;
}
export interface RunsRow {
  id: string; table_key: string; started_at: string; finished_at: string | null; status: string;
  rows: string | number; files: number; bytes: string | number; watermark_before: string | null; watermark_after: string | null; error: string | null;
}
export interface RecentRow { table_key: string; version: string }
export interface SchemasRow { table_key: string; version: number; columns_json: string; key_columns: string; changes: string | null; reset: number; created_at: string }
export interface StateSchema { tablevault_tables: TablesRow; tablevault_files: FilesRow; tablevault_runs: RunsRow; tablevault_recent: RecentRow; tablevault_schemas: SchemasRow }

export type Engine = 'postgres' | 'mysql';

export interface StateDb {
  db: Kysely<StateSchema>;
  engine: Engine;
  label: string;
}

const MIGRATIONS_DIR = packagePath('migrations');

/** Loads migrations/NNNN_name.js in name order. */
class DirectoryMigrationProvider implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    const out: Record<string, Migration> = {};
    for (const f of readdirSync(MIGRATIONS_DIR).filter((n) => /^\d+_.*\.js$/.test(n)).sort()) {
      out[f.replace(/\.js$/, '')] = (await import(pathToFileURL(join(MIGRATIONS_DIR, f)).href)) as Migration;
    }
    return out;
  }
}

/** Opens the state store at a postgres:// or mysql:// URL (connects lazily; loads only that driver). */
export async function openStateDb(url: string): Promise<StateDb> {
  let u: URL;
  try { u = new URL(url); } catch { throw inputError('STATE_URL', `state URL "${redactUrl(url)}" is not a URL; use postgres://… or mysql://…`); }
  const label = describeDbUrl(url);
  if (u.protocol === 'postgres:' || u.protocol === 'postgresql:') {
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: url, max: 10, application_name: 'tablevault-state' });
    pool.on('error', () => {});
    return { db: new Kysely<StateSchema>({ dialect: new PostgresDialect({ pool }) }), engine: 'postgres', label };
  }
  if (u.protocol === 'mysql:' || u.protocol === 'mariadb:') {
    const mysql = (await import('mysql2')).default;
    const pool = mysql.createPool({ ...mysqlConnectionOptions(url), connectionLimit: 10, supportBigNumbers: true, bigNumberStrings: true });
    return { db: new Kysely<StateSchema>({ dialect: new MysqlDialect({ pool }) }), engine: 'mysql', label };
  }
  throw inputError('STATE_URL', `state URL scheme "${u.protocol.replace(/:$/, '')}" is not supported; use postgres://… or mysql://…`);
}

/** Creates or upgrades the state schema; safe to run concurrently (kysely takes a migration lock). */
export async function migrateState(s: StateDb): Promise<string[]> {
  try {
    await sql`SELECT 1`.execute(s.db);
  } catch (e) {
    throw s.engine === 'postgres' ? pgConnectError(e, s.label) : mysqlConnectError(e, s.label);
  }
  const migrator = new Migrator({
    db: s.db, provider: new DirectoryMigrationProvider(),
    migrationTableName: 'tablevault_migration', migrationLockTableName: 'tablevault_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw runtimeError('STATE_MIGRATE', `migrating the state store at ${s.label} failed: ${(error as Error).message}`, error);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

/** MySQL lock names are at most 64 characters. */
function mysqlLockName(name: string): string {
  return `tablevault:${createHash('sha1').update(name).digest('hex')}`;
}

/**
 * Runs `fn` holding an exclusive lock named `name` in the state database, or returns `busy`
 * when another process holds it. Session-level advisory locks (pg_try_advisory_lock,
 * GET_LOCK): a process that dies, even by SIGKILL, loses its connection and so its lock.
 */
export async function withLock<T>(s: StateDb, name: string, fn: () => Promise<T>): Promise<T | 'busy'> {
  return s.db.connection().execute(async (conn) => {
    const got = s.engine === 'postgres'
      ? (await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(hashtextextended(${name}, 0)) AS ok`.execute(conn)).rows[0]!.ok
      : Number((await sql<{ ok: number }>`SELECT GET_LOCK(${mysqlLockName(name)}, 0) AS ok`.execute(conn)).rows[0]!.ok) === 1;
    if (!got) return 'busy' as const;
    try {
      return await fn();
    } finally {
      if (s.engine === 'postgres') await sql`SELECT pg_advisory_unlock(hashtextextended(${name}, 0))`.execute(conn);
      else await sql`SELECT RELEASE_LOCK(${mysqlLockName(name)})`.execute(conn);
    }
  });
}
