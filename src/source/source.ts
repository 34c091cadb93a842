import type { RecordBatch } from 'apache-arrow';
import type { SourceTable, TableRef } from './columns.js';

export interface ReadOptions {
  /** Rows per Arrow batch; also the LIMIT of each keyset page. */
  batchRows: number;
  /** Filled in as the read goes: values written as NULL because Parquet cannot hold them. */
  stats?: ReadStats;
}

export interface ReadStats {
  counters: Array<{ column: string; zeroDates: number; notRepresentable: number }>;
}

/**
 * A database to export from. Each engine lives in its own folder behind this interface:
 * `describe` introspects a table, `read` streams it as Arrow batches from one consistent
 * snapshot, and releases its connection in `finally` whether the consumer finishes or not.
 */
export interface Source {
  readonly engine: 'postgres' | 'mysql';
  /** Where it connects to, without credentials, for messages. */
  readonly label: string;
  describe(ref: TableRef): Promise<SourceTable>;
  read(table: SourceTable, opts: ReadOptions): AsyncGenerator<RecordBatch>;
  close(): Promise<void>;
}
