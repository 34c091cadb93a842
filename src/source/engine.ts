import type { RawBuilder, Expression, InsertQueryBuilder, Kysely, QueryExecutorProvider } from 'kysely';
import { inputError, type TablevaultError } from '../errors.js';
import { redactUrl } from '../redact.js';
import type { ChecksumOptions, SourceChecksums } from './checksums.js';
import type { ColumnKind, ColumnSpec, SourceTable } from './columns.js';
import type { Loader } from './loader.js';
import type { Source, SourceOptions } from './source.js';
import type { ValueText } from './text-forms.js';

export type EngineName = 'postgres' | 'mysql';

/**
 * What the state store needs that differs by engine. Each engine folder provides one, so the
 * state repository (src/state/) is written once for both.
 */
export interface StateDialect {
  /** A kysely instance on the state database at `url` (connects lazily). */
  open<DB>(url: string, opts?: { maxConnections?: number }): Kysely<DB>;
  /** The state database's clock, in milliseconds since the epoch (leases are timed by it, never by a worker's clock). */
  readonly nowMs: RawBuilder<number>;
  /** Takes the session-level lock `name` on this connection without waiting; false when another session holds it. */
  tryLock(conn: QueryExecutorProvider, name: string): Promise<boolean>;
  unlock(conn: QueryExecutorProvider, name: string): Promise<void>;
  /**
   * A one-row SELECT of `values` that yields its row only when it took the lock `name` (as
   * tryLock does): an INSERT … SELECT of it takes a lock and records what holds it in one
   * statement. The lock stays taken if the INSERT then fails.
   */
  selectIfLocked(values: Expression<unknown>[], name: string): Expression<unknown>;
  /** The INSERT skips rows whose key already exists (PostgreSQL `ON CONFLICT DO NOTHING`, MySQL `INSERT IGNORE`). */
  ignoreDuplicates<DB, TB extends keyof DB, O>(qb: InsertQueryBuilder<DB, TB, O>): InsertQueryBuilder<DB, TB, O>;
}

/**
 * One database engine: everything engine-specific lives in its folder (`source/postgres/`,
 * `source/mysql/`) behind this object, so nothing outside `src/source/` branches on the engine.
 * Adding an engine means adding a folder and a line in `ENGINES` below.
 */
export interface Engine {
  readonly name: EngineName;
  /** The engine as messages name it: PostgreSQL, MySQL. */
  readonly displayName: string;
  /** A source to read tables from (connects lazily; loads the driver only when called). */
  openSource(url: string, opts?: SourceOptions): Promise<Source>;
  readonly state: StateDialect;
  /** A failed connection as an error that says what to fix; `label` is the URL without credentials. */
  connectError(e: unknown, label: string): TablevaultError;
  quoteIdent(name: string): string;
  /** How values are written for this engine to take them (restore's loaders). */
  readonly valueText: ValueText;
  /**
   * The engine's zero date for `kind` ('0000-00-00' for a MySQL DATE), which export writes as
   * NULL; undefined when the engine (or the kind) has none.
   */
  zeroDateText(kind: ColumnKind): string | undefined;
  /** What a restore's CREATE TABLE uses for a column backed up from another engine. */
  readonly ddl: {
    columnType(c: ColumnSpec, inKey: boolean): string;
    /** Appended to `CREATE TABLE … (…)`. */
    readonly tableOptions: string;
    /** Creates a schema (MySQL: a database) unless it exists. */
    createSchemaSql(schema: string): string;
    /** Renames a table within its schema. */
    renameTableSql(table: { schema?: string; name: string }, to: string): string;
  };
  /** Opens a connection for a restore to load rows into (`url`: the target). */
  openLoader(url: string): Promise<Loader>;
  /** The source's side of a verify of `table`, computed in the database where it can be, in one snapshot. */
  openChecksums(
    url: string,
    source: Source,
    table: SourceTable,
    key: ColumnSpec[],
    opts: ChecksumOptions,
  ): Promise<SourceChecksums>;
  /** Verify hashes float columns apart from the rest, on both sides (the engine cannot give a float's exact text in SQL). */
  readonly hashesFloatsApart: boolean;
}

/** URL schemes per engine; each engine module is loaded only when a URL asks for it. */
const ENGINES: Record<string, () => Promise<Engine>> = {
  'postgres:': async () => (await import('./postgres/engine.js')).postgresEngine,
  'postgresql:': async () => (await import('./postgres/engine.js')).postgresEngine,
  'mysql:': async () => (await import('./mysql/engine.js')).mysqlEngine,
  'mariadb:': async () => (await import('./mysql/engine.js')).mysqlEngine,
};

/**
 * The engine a database URL names: postgres://, postgresql://, mysql:// or mariadb://.
 * `what` names the URL in messages (`--source`, `state URL`, …).
 * @example
 * ```ts
 * const engine = await engineFor('postgres://backup@db:5432/shop', '--source');
 * const source = await engine.openSource(url);
 * ```
 */
export async function engineFor(url: string, what: string): Promise<Engine> {
  return (await engineLoader(url, what))();
}

function engineLoader(url: string, what: string): () => Promise<Engine> {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw inputError(
      'SOURCE_URL',
      `${what} "${redactUrl(url)}" is not a URL; use postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db`,
    );
  }
  const load = ENGINES[u.protocol];
  if (!load)
    throw inputError(
      'SOURCE_URL',
      `${what} scheme "${u.protocol.replace(/:$/, '')}" is not supported; use postgres://… or mysql://…`,
    );
  return load;
}

/** The engine a manifest or a table names (`SourceTable.engine`, `source.engine` of a manifest). */
export async function engineNamed(name: EngineName): Promise<Engine> {
  const load = ENGINES[`${name}:`];
  if (!load)
    throw inputError(
      'BACKUP_FORMAT',
      `engine "${String(name)}" is not one this version knows (postgres, mysql); upgrade tablevault`,
    );
  return load();
}

/** mariadb:// is mysql:// to the driver. */
export function driverUrl(url: string): string {
  return url.replace(/^mariadb:/, 'mysql:');
}
