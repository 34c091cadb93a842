import { sql } from 'kysely';
import type { ColumnSpec } from '../source/columns.js';
import {
  migrateState,
  openStateDb,
  withLock,
  type FilesRow,
  type RunsRow,
  type SchemasRow,
  type StateDb,
  type TablesRow,
} from './db.js';

/** One durable object and what it moves: its file row, the table's counters and watermark, the recent versions. */
export interface ObjectCommit {
  tableKey: string;
  /** The object's sequence number: the table row must still count `seq` files, or another writer got there first. */
  seq: number;
  objectKey: string;
  rows: number;
  bytes: number;
  sha256: string;
  /** The watermark the object's rows follow (null: from the start). */
  after: string[] | null;
  /** The watermark once it is committed (the same as `after` for late rows). */
  through: string[];
  runId: string;
  schemaVersion: number;
  /** The columns written, recorded on the table row. */
  columns: ColumnSpec[];
  /** Hashes of the row versions written, for the lag window (see versionHash). */
  recentVersions: string[];
}

/** A new schema version of a table; `reset` also clears its watermark (`--reset-table`). */
export interface SchemaVersion {
  tableKey: string;
  version: number;
  columns: ColumnSpec[];
  keyColumns: string[];
  changes: string[] | null;
  reset: boolean;
}

export interface RunTotals {
  rows: number;
  files: number;
  bytes: number;
  watermarkBefore: string[] | null;
  watermarkAfter: string[] | null;
}

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
}

/** Recent versions go in and out in statements of this many rows, well under either engine's limit on placeholders. */
const CHUNK = 500;

const now = () => new Date().toISOString();

/**
 * The state store, as the operations backups need: every statement on the `tablevault_*`
 * tables is here. Engine differences (locks, insert-or-skip) come from the engine's state
 * dialect, so each operation is written once for PostgreSQL and MySQL.
 * @example
 * ```ts
 * const state = await openState(stateUrl(flags.state, strategy));
 * try {
 *   await state.migrate();
 *   const row = await state.ensureTable({ tableKey, destination, sourceTable: 'public.orders' });
 * } finally {
 *   await state.close();
 * }
 * ```
 */
export class StateRepository {
  constructor(private readonly s: StateDb) {}

  /** The state store's URL without credentials, for messages. */
  get label(): string {
    return this.s.label;
  }

  /** Creates or upgrades the schema; the names of the migrations applied. */
  migrate(): Promise<string[]> {
    return migrateState(this.s);
  }

  /** Runs `fn` holding the lock `name`, or returns `busy` when another process holds it. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T | 'busy'> {
    return withLock(this.s, name, fn);
  }

  async close(): Promise<void> {
    await this.s.db.destroy();
  }

  /** The table's row, created empty (no watermark, no files) on its first backup. */
  async ensureTable(t: { tableKey: string; destination: string; sourceTable: string }): Promise<TablesRow> {
    await this.s.db
      .insertInto('tablevault_tables')
      .values({
        table_key: t.tableKey,
        destination: t.destination,
        source_table: t.sourceTable,
        watermark: null,
        files: 0,
        rows: 0,
        bytes: 0,
        columns_json: null,
        last_run_id: null,
        updated_at: now(),
      })
      .$call((qb) => this.s.dialect.ignoreDuplicates(qb))
      .execute();
    return this.s.db
      .selectFrom('tablevault_tables')
      .selectAll()
      .where('table_key', '=', t.tableKey)
      .executeTakeFirstOrThrow();
  }

  /**
   * The watermark a dry run reports: read only, and null when there is none yet, also when the
   * state store has no schema (a dry run does not migrate it).
   */
  async peekWatermark(tableKey: string): Promise<string[] | null> {
    const row = await this.s.db
      .selectFrom('tablevault_tables')
      .select('watermark')
      .where('table_key', '=', tableKey)
      .executeTakeFirst()
      .catch(() => undefined);
    return row?.watermark ? (JSON.parse(row.watermark) as string[]) : null;
  }

  /**
   * Commits an object already durable in the store, in one transaction: its file row, the table's
   * counters and watermark, and the recent versions. The table row is updated only while it still
   * counts `seq` files, so a concurrent writer of the same table fails this commit, not the data.
   */
  async commitObject(c: ObjectCommit): Promise<void> {
    await this.s.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('tablevault_files')
        .values({
          table_key: c.tableKey,
          seq: c.seq,
          object_key: c.objectKey,
          rows: c.rows,
          bytes: c.bytes,
          sha256: c.sha256,
          key_from: c.after ? JSON.stringify(c.after) : null,
          key_to: JSON.stringify(c.through),
          run_id: c.runId,
          created_at: now(),
          schema_version: c.schemaVersion,
        })
        .execute();
      const upd = await tx
        .updateTable('tablevault_tables')
        .set({
          watermark: JSON.stringify(c.through),
          files: c.seq + 1,
          rows: sql`${sql.ref('rows')} + ${c.rows}`,
          bytes: sql`${sql.ref('bytes')} + ${c.bytes}`,
          columns_json: JSON.stringify(c.columns),
          last_run_id: c.runId,
          updated_at: now(),
        })
        .where('table_key', '=', c.tableKey)
        .where('files', '=', c.seq)
        .executeTakeFirst();
      if (Number(upd.numUpdatedRows) !== 1)
        throw new Error(`state of ${c.tableKey} changed under this run (another backup?); rerun`);
      for (let i = 0; i < c.recentVersions.length; i += CHUNK) {
        const chunk = c.recentVersions.slice(i, i + CHUNK).map((version) => ({ table_key: c.tableKey, version }));
        await tx
          .insertInto('tablevault_recent')
          .values(chunk)
          .$call((qb) => this.s.dialect.ignoreDuplicates(qb))
          .execute();
      }
    });
  }

  /** The hashes of the row versions recorded in the table's lag window. */
  async recentVersions(tableKey: string): Promise<string[]> {
    return (
      await this.s.db.selectFrom('tablevault_recent').select('version').where('table_key', '=', tableKey).execute()
    ).map((r) => r.version);
  }

  /** Forgets recorded versions that left the lag window. */
  async pruneRecentVersions(tableKey: string, versions: string[]): Promise<void> {
    for (let i = 0; i < versions.length; i += CHUNK) {
      await this.s.db
        .deleteFrom('tablevault_recent')
        .where('table_key', '=', tableKey)
        .where('version', 'in', versions.slice(i, i + CHUNK))
        .execute();
    }
  }

  /** The schema version new objects of the table are written under, if any is recorded. */
  latestSchema(tableKey: string): Promise<SchemasRow | undefined> {
    return this.s.db
      .selectFrom('tablevault_schemas')
      .selectAll()
      .where('table_key', '=', tableKey)
      .orderBy('version', 'desc')
      .limit(1)
      .executeTakeFirst();
  }

  schemaVersion(tableKey: string, version: number): Promise<SchemasRow> {
    return this.s.db
      .selectFrom('tablevault_schemas')
      .selectAll()
      .where('table_key', '=', tableKey)
      .where('version', '=', version)
      .executeTakeFirstOrThrow();
  }

  /** Records a schema version and makes it the table's current one, in one transaction. */
  async addSchemaVersion(v: SchemaVersion): Promise<void> {
    await this.s.db.transaction().execute(async (tx) => {
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

  /** Records a table's run as started; `tableKey` is also the lock the run holds. */
  async startRun(id: string, tableKey: string): Promise<void> {
    await this.s.db
      .insertInto('tablevault_runs')
      .values({
        id,
        table_key: tableKey,
        started_at: now(),
        finished_at: null,
        status: 'running',
        rows: 0,
        files: 0,
        bytes: 0,
        watermark_before: null,
        watermark_after: null,
        error: null,
      })
      .execute();
  }

  async finishRunOk(id: string, r: RunTotals): Promise<void> {
    await this.s.db
      .updateTable('tablevault_runs')
      .set({
        finished_at: now(),
        status: 'ok',
        rows: r.rows,
        files: r.files,
        bytes: r.bytes,
        watermark_before: r.watermarkBefore ? JSON.stringify(r.watermarkBefore) : null,
        watermark_after: r.watermarkAfter ? JSON.stringify(r.watermarkAfter) : null,
      })
      .where('id', '=', id)
      .execute();
  }

  async finishRunFailed(id: string, error: string): Promise<void> {
    await this.s.db
      .updateTable('tablevault_runs')
      .set({ finished_at: now(), status: 'failed', error })
      .where('id', '=', id)
      .execute();
  }

  /** The table's row, its latest run, and with `schemaChanges` every schema version that changed something (oldest first). */
  async tableState(tableKey: string, opts: { schemaChanges: boolean }): Promise<TableState> {
    const db = this.s.db;
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
  async manifestState(tableKey: string): Promise<ManifestState> {
    const db = this.s.db;
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
    return { table, files, schemas };
  }
}

/** Opens the state store at a postgres:// or mysql:// URL (connects lazily); see stateUrl for which URL (example on StateRepository). */
export async function openState(url: string): Promise<StateRepository> {
  return new StateRepository(await openStateDb(url));
}
