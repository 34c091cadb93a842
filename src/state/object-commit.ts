import { sql, type Kysely } from 'kysely';
import type { ColumnSpec } from '../source/columns.js';
import { commitTransaction, type StateDb, type StateSchema } from './db.js';
import { insertRecentVersions } from './recent-versions.js';
import { now } from './timestamps.js';

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
  /** The backup run (the whole command) it is part of. */
  backupRun?: string;
  schemaVersion: number;
  /** The columns written, recorded on the table row. */
  columns: ColumnSpec[];
  /** Hashes of the row versions written, for the lag window (see versionHash). */
  recentVersions: string[];
  /** A tombstone object (`rows` deleted keys): the table's row count and watermark stay. */
  kind?: 'deletes';
}

/**
 * Moves the table's row past `files` new files, inside the caller's transaction: the watermark,
 * the counters, the columns and the last run. Only while the row still counts `seq` files, so a
 * concurrent writer of the same table fails here (the transaction rolls back), not the data.
 */
export async function advanceTable(
  tx: Kysely<StateSchema>,
  a: {
    tableKey: string;
    seq: number;
    files: number;
    rows: number;
    bytes: number;
    watermark: string[];
    columns: ColumnSpec[];
    runId: string;
  },
): Promise<void> {
  const upd = await tx
    .updateTable('tablevault_tables')
    .set({
      watermark: JSON.stringify(a.watermark),
      files: a.seq + a.files,
      rows: sql`${sql.ref('rows')} + ${a.rows}`,
      bytes: sql`${sql.ref('bytes')} + ${a.bytes}`,
      columns_json: JSON.stringify(a.columns),
      last_run_id: a.runId,
      updated_at: now(),
    })
    .where('table_key', '=', a.tableKey)
    .where('files', '=', a.seq)
    .executeTakeFirst();
  if (Number(upd.numUpdatedRows) !== 1)
    throw new Error(`state of ${a.tableKey} changed under this run (another backup?); rerun`);
}

/**
 * Commits an object already durable in the store, in one transaction: its file row, the table's
 * counters and watermark, and the recent versions. The table row is updated only while it still
 * counts `seq` files, so a concurrent writer of the same table fails this commit, not the data.
 */
export async function commitObject(s: StateDb, c: ObjectCommit): Promise<void> {
  await commitTransaction(s, async (tx) => {
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
        backup_run: c.backupRun ?? null,
        created_at: now(),
        schema_version: c.schemaVersion,
        ...(c.kind ? { kind: c.kind } : {}),
      })
      .execute();
    await advanceTable(tx, {
      tableKey: c.tableKey,
      seq: c.seq,
      files: 1,
      rows: c.kind ? 0 : c.rows,
      bytes: c.bytes,
      watermark: c.through,
      columns: c.columns,
      runId: c.runId,
    });
    await insertRecentVersions(s, tx, c.tableKey, c.recentVersions);
  });
}
