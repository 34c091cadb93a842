import type { RecordBatch } from 'apache-arrow';
import type { Catalog } from '../plan/tables.js';
import type { ColumnSpec, SourceTable, TableRef } from './columns.js';
import type { ValueText } from './text-forms.js';

export interface ReadOptions {
  /** Rows per Arrow batch; also the LIMIT of each keyset page. */
  batchRows: number;
  /**
   * Columns of the keyset, compared as a tuple and read in that order. Default: the primary key
   * (and, without one, a single unordered streamed read). An incremental backup passes
   * (cursor, primary key…).
   */
  keyColumns?: string[];
  /** Start strictly after this key tuple, in the engine's text form (a stored watermark). */
  after?: string[];
  /** Stop after this many rows (the last page is shortened to fit). */
  maxRows?: number;
  /** An SQL condition every row must meet (a strategy's `where`), in the source's dialect. */
  where?: string;
  /**
   * After the rows, in the same snapshot: the key tuples of the rows just read that also meet
   * the condition this returns (given the last key read), into `stats.keys`. Incremental backups
   * with a lag window record which recent row versions they have written.
   */
  recordKeys?: (lastKey: string[]) => string;
  /** Filled in as the read goes: values written as NULL because Parquet cannot hold them. */
  stats?: ReadStats;
  /**
   * Read in the run's snapshot (`Source.openSnapshot`) instead of one of the read's own; it must
   * come from this source and still be open.
   */
  snapshot?: RunSnapshot;
}

export interface ReadStats {
  counters: Array<{ column: string; zeroDates: number; notRepresentable: number }>;
  /** Rows read so far. */
  rows?: number;
  /** Key tuple (text form) of the last row read, when reading by a keyset. */
  lastKey?: string[];
  /** See ReadOptions.recordKeys. */
  keys?: string[][];
}

/**
 * How a source connects. The limit counts every connection the source opens: reads, describes,
 * chunk planning and a run snapshot's coordinating and reading connections.
 * @example
 * ```ts
 * const source = await openSource(url, { maxConnections: 4 });
 * ```
 */
export interface SourceOptions {
  /** At most this many connections to the database at once (default 6); a caller over it waits for one. */
  maxConnections?: number;
}

/** The connection limit when `SourceOptions.maxConnections` is not given. */
export const DEFAULT_MAX_CONNECTIONS = 6;

/**
 * One snapshot that every read of a run sees, so a run's tables and chunks are consistent with
 * one another as `pg_dump`'s are. Open it once (`Source.openSnapshot`), pass it to each `read`
 * and `readKeys` (`ReadOptions.snapshot`), close it after the last read has ended.
 *
 * - `exported` (PostgreSQL): a coordinating connection holds a REPEATABLE READ transaction and
 *   its `pg_export_snapshot()` open until `close()`; each read imports it
 *   (`SET TRANSACTION SNAPSHOT`) on a connection of its own, so reads never wait on one another.
 * - `backup-lock` (MySQL, MariaDB): commits were blocked (MariaDB `BACKUP STAGE BLOCK_COMMIT`,
 *   MySQL `FLUSH TABLES WITH READ LOCK`) just long enough to open `readers` connections each in
 *   `START TRANSACTION WITH CONSISTENT SNAPSHOT`; the lock is released before `openSnapshot`
 *   returns. A read borrows one of these connections (waiting while all are in use) and gives it
 *   back when it ends, so at most `readers` reads run at once. A read abandoned mid-stream must
 *   close its connection, and that snapshot with it: the others carry on with fewer connections;
 *   once none is left, each later read takes a snapshot of its own and `warning` says so.
 * - `per-read` (MySQL, MariaDB without the privilege or the lock): each read and `readKeys`
 *   has a snapshot of its own, as without a RunSnapshot; `warning` says why and which grant fixes it.
 */
export interface RunSnapshot {
  readonly kind: 'exported' | 'backup-lock' | 'per-read';
  /** Set when some reads were not (or will not be) in the one snapshot: for the run's summary. */
  readonly warning?: string;
  /**
   * Ends the snapshot and gives its connections back. Call it after every read given it has
   * ended (a read still running keeps its connection until it ends); reads given it afterwards
   * fail. `Source.close` closes snapshots left open. Idempotent.
   */
  close(): Promise<void>;
}

/**
 * One key range of a table, from `Source.planChunks`. The chunks of a plan partition the table:
 * every row meets exactly one chunk's `where`, whatever rows the table holds when read.
 */
export interface Chunk {
  /** 0, 1, …: the chunks in key (or page) order. */
  index: number;
  /**
   * SQL in the source's dialect, literals inlined, to AND into `ReadOptions.where`; undefined
   * when the plan is one chunk (the whole table).
   */
  where?: string;
  /** Rows the chunk is expected to hold, from statistics or a sample (for progress and scheduling). */
  estimatedRows: number;
}

/** Which rows `Source.planChunks` splits, and on which column: some of a table's rows, not all of them. */
export interface ChunkRange {
  /** The column the ranges are on (default: the first primary-key column). */
  column: string;
  /** SQL, literals inlined: the rows to split (none: every row). */
  where?: string;
}

/** A lag window: a duration for temporal cursors, an amount for numeric ones. */
export type Lag = { seconds: number } | { amount: number };

/**
 * A database to export from. Each engine lives in its own folder behind this interface:
 * `describe` introspects a table, `read` streams it as Arrow batches from one consistent
 * snapshot, and releases its connection in `finally` whether the consumer finishes or not.
 */
export interface Source {
  readonly engine: 'postgres' | 'mysql';
  /** Where it connects to, without credentials, for messages. */
  readonly label: string;
  /** How this engine spells values as text (its engine's `valueText`). */
  readonly valueText: ValueText;
  describe(ref: TableRef): Promise<SourceTable>;
  /**
   * Every relation a strategy may name (tables, partitioned tables, views; not the system
   * schemas'), described, in one catalog round trip (or a few): what patterns match against.
   */
  catalog(): Promise<Catalog>;
  read(table: SourceTable, opts: ReadOptions): AsyncGenerator<RecordBatch>;
  /**
   * Key tuples (text form) of the rows meeting `where`, in key order (in `opts.snapshot` when
   * given); with `last`, only the greatest (none when no row meets `where`).
   */
  readKeys(
    table: SourceTable,
    keyColumns: string[],
    where: string | undefined,
    opts?: { snapshot?: RunSnapshot; last?: boolean },
  ): Promise<string[][]>;
  /**
   * Opens the snapshot a run's reads share (see RunSnapshot), for at most `readers` reads at once.
   * The snapshot holds connections of the source's `maxConnections`: `readers` must be at most
   * `maxConnections - 1`, leaving one for describes, planning and a read that has to fall back.
   * @example
   * ```ts
   * const snapshot = await source.openSnapshot(3);
   * try {
   *   await Promise.all(chunks.map((c) => drain(source.read(table, { batchRows, where: c.where, snapshot }))));
   *   if (snapshot.warning) summary.warnings.push(snapshot.warning);
   * } finally {
   *   await snapshot.close();
   * }
   * ```
   */
  openSnapshot(readers: number): Promise<RunSnapshot>;
  /**
   * Splits `table` into chunks of about `chunkRows` rows (one chunk when it holds fewer, or
   * when it cannot be split: a MySQL table without a primary key, a view). Ranges on the first
   * primary-key column (exclusive lower, inclusive upper bound), placed from the database's
   * statistics or a sample; PostgreSQL tables without a primary key by `ctid` page ranges. The
   * first chunk is unbounded below and the last above, so rows added after planning are read too.
   * Bounds come from estimates: chunks are near equal, not equal; and they differ from one
   * planning to the next, so a run that resumes must keep its plan. `ctid` ranges partition the
   * rows of one snapshot (an update moves a row to another page): read them in one RunSnapshot.
   * With `range`, splits only the rows meeting `range.where`, on `range.column` (an incremental
   * run's new rows, on its cursor); such a plan never falls back to page ranges.
   */
  planChunks(table: SourceTable, chunkRows: number, range?: ChunkRange): Promise<Chunk[]>;
  /** SQL, literals inlined: the key tuple is greater than `values`. */
  tupleAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string;
  /** SQL, literals inlined: the key tuple is not greater than `values`. */
  tupleNotAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string;
  /** SQL, literals inlined: the key tuple is one of `tuples`. */
  tupleInSql(table: SourceTable, keyColumns: string[], tuples: string[][]): string;
  /** SQL, literals inlined: `column` is later than `value` minus the lag. */
  withinLagSql(table: SourceTable, column: string, value: string, lag: Lag): string;
  /** SQL: `column` is NULL. */
  isNullSql(column: string): string;
  /** SQL: `column` is not NULL. */
  isNotNullSql(column: string): string;
  /** SQL, literals inlined: the date or timestamp column `cursor` is before the start (UTC) of `day` (`YYYY-MM-DD`). */
  beforeDaySql(cursor: ColumnSpec, day: string): string;
  close(): Promise<void>;
}
