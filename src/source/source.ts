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
  /** Key tuples (text form) of the rows meeting `where`, in key order. */
  readKeys(table: SourceTable, keyColumns: string[], where: string | undefined): Promise<string[][]>;
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
