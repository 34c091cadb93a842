import type { Data } from 'apache-arrow';
import type { ColumnSpec } from './columns.js';
import type { EngineName } from './engine.js';

/**
 * What a restore loads through: each engine folder's `loader.ts` gives one (`engine.openLoader`),
 * with the engine's fast path (COPY FROM STDIN for PostgreSQL, multi-row INSERT for MySQL).
 */

/** One column of a batch as the backup's object holds it. */
export interface LoadColumn {
  /** The batch's Arrow values; undefined when the object was written before the column existed (NULL in every row). */
  data?: Data;
  /** The column as the object wrote it: its kind may be narrower than the plan's (before a widening). */
  written?: ColumnSpec;
}

/** One batch to load: `numRows` rows, each column's text (already checked and NULL-ed where it had to be). */
export interface LoadBatch {
  numRows: number;
  /** Per column: (row) => text | null; binary columns give lowercase hex. */
  cells: Array<(row: number) => string | null>;
  /**
   * Per column (the plan's order): the Arrow values, for a loader that writes them in a binary
   * form instead of reading `cells`. It must give the values `cells` give: NULL where `cells` give
   * NULL (MySQL zero dates: the Arrow value is NULL already; they are counted by the caller), and
   * `cells` where a value would be Unrepresentable in the target (into PostgreSQL none is).
   */
  columns?: LoadColumn[];
  /**
   * A tombstone object's keys (an incremental backup's `kind: 'deletes'`), not rows: `cells` and
   * `columns` are the plan's primary-key columns, in `primaryKey` order. Every version of these
   * keys loaded before it is deleted (from the target, or from the versions a table load has
   * staged); a version loaded after it stays.
   */
  deletes?: true;
}

/** The plan for a tombstone's keys: the plan's primary-key columns alone, in key order. */
export function keyPlan(plan: LoadPlan): LoadPlan {
  return { ...plan, columns: plan.primaryKey.map((k) => plan.columns.find((c) => c.name === k)!) };
}

export interface LoadPlan {
  table: { schema?: string; name: string };
  columns: ColumnSpec[];
  /** insert: plain rows; upsert: replace rows with the same key; newest: replace only when the row's cursor is not older. */
  conflict: 'insert' | 'upsert' | 'newest';
  primaryKey: string[];
  cursor?: string;
}

/** A whole table's load in one transaction (Loader.loadTable). */
export interface TableLoad {
  plan: LoadPlan;
  /** Run first, in the transaction: the CREATE TABLE (without the primary key when `after` adds it). */
  create?: string;
  /** The existing table emptied first, in the transaction (`--mode replace`): a failure leaves its rows. */
  empty?: boolean;
  /** Run after the last batch, before COMMIT: `ALTER TABLE … ADD PRIMARY KEY`. */
  after?: string[];
}

type TableName = LoadPlan['table'];

/**
 * A table built under another name and put in place in one statement, for engines whose DDL
 * commits (MySQL: RENAME TABLE, atomic however many tables it renames), so a load that fails
 * leaves the target as it was and a table that is in place is complete.
 */
export interface TableSwap {
  /**
   * Why `table` cannot be swapped out whole without changing what else the database holds
   * (triggers, which stay with the old table; foreign keys to or from it), or undefined.
   */
  blocker(table: TableName): Promise<string | undefined>;
  /** Creates `aside` empty, with `table`'s definition (columns, keys, indexes, partitions). */
  createLike(aside: TableName, table: TableName): Promise<void>;
  /** `aside` renamed to `table`; with `old`, `table` renamed to `old` in the same statement (the caller drops it). */
  putInPlace(aside: TableName, table: TableName, old?: TableName): Promise<void>;
  /** Drops the table if it exists. */
  drop(table: TableName): Promise<void>;
  /**
   * Takes the restore's lock on `table` for this connection, without waiting: false when another
   * restore holds it (two restores into one target would build the same aside table).
   */
  lock(table: TableName): Promise<boolean>;
  unlock(table: TableName): Promise<void>;
}

/**
 * A note kept with a table and written in the transaction of its rows (PostgreSQL: the table's
 * COMMENT), so a table loaded in several transactions says how far it got, and is never wrong.
 */
export interface TableNotes {
  /** The table's note (undefined: none); undefined when there is no such table. */
  read(table: TableName): Promise<{ note?: string } | undefined>;
  /** The statement that sets the note (undefined: clears it), to run in a transaction of the caller's. */
  writeSql(table: TableName, note: string | undefined): string;
  /**
   * The statements that add ` word` to the end of the note, in a transaction of the caller's, run
   * just before its COMMIT: transactions of several connections adding their words at once each
   * keep the others' (PostgreSQL: the table locked against other note writers until the commit,
   * then the note read as committed and rewritten), where two COMMENTs would keep only the last.
   */
  addSql(table: TableName, word: string): string;
  /** The table's name as SQL (quoted, with its schema). */
  name(table: TableName): string;
}

/** A restore's lock on its target table, held by one connection (two restores into one target would build the same aside table). */
export interface TargetLock {
  /** Takes it for this connection without waiting: false when another restore holds it. */
  take(table: TableName): Promise<boolean>;
  give(table: TableName): Promise<void>;
}

export interface Loader {
  readonly engine: EngineName;
  /** Optional: the restore's lock on a target (PostgreSQL: an advisory lock; MySQL's is TableSwap.lock). */
  readonly lock?: TargetLock;
  /** Optional: build a table aside and swap it in (see TableSwap). */
  readonly swap?: TableSwap;
  /** Optional, with loadTable: a note kept with a table (see TableNotes). */
  readonly notes?: TableNotes;
  /** Loads one batch in one transaction (a tombstone's, `deletes`: deletes its keys from the table). */
  load(plan: LoadPlan, batch: LoadBatch): Promise<void>;
  /**
   * Optional, for engines whose DDL is transactional: creates the table, loads every batch and
   * runs `after` in one transaction, so a failure leaves no table behind; the engine may stream
   * the batches as one load (PostgreSQL: one COPY … FREEZE into the table it just created; with
   * `conflict` newest or upsert, into a staging table, then the newest version of each key at once).
   * The created table has no primary key until `after`, which must add it for a plan that merges.
   */
  loadTable?(job: TableLoad, batches: AsyncIterable<LoadBatch>): Promise<void>;
  /**
   * Optional: the batches of one table (in order) loaded in one transaction, streamed as one
   * statement where the engine can (MySQL: one LOAD DATA LOCAL), each batch asked for once the
   * last is written, so batches decoded small still make large transactions. A plan that merges
   * (upsert, newest) may be loaded batch by batch, each in its own transaction, as `load` does.
   */
  loadMany?(plan: LoadPlan, batches: AsyncIterable<LoadBatch>): Promise<void>;
  /** Optional: batches loaded so far per wire format (PostgreSQL: binary, text), for the summary. */
  readonly formats?: Readonly<Record<string, number>>;
  /** Empties the table (`--mode replace`). */
  truncate(table: LoadPlan['table']): Promise<void>;
  execute(sqlText: string): Promise<void>;
  close(): Promise<void>;
}
