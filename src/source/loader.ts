import type { ColumnSpec } from './columns.js';
import type { EngineName } from './engine.js';

/**
 * What a restore loads through: each engine folder's `loader.ts` gives one (`engine.openLoader`),
 * with the engine's fast path (COPY FROM STDIN for PostgreSQL, multi-row INSERT for MySQL).
 */

/** One batch to load: `numRows` rows, each column's text (already checked and NULL-ed where it had to be). */
export interface LoadBatch {
  numRows: number;
  /** Per column: (row) => text | null; binary columns give lowercase hex. */
  cells: Array<(row: number) => string | null>;
}

export interface LoadPlan {
  table: { schema?: string; name: string };
  columns: ColumnSpec[];
  /** insert: plain rows; upsert: replace rows with the same key; newest: replace only when the row's cursor is not older. */
  conflict: 'insert' | 'upsert' | 'newest';
  primaryKey: string[];
  cursor?: string;
}

export interface Loader {
  readonly engine: EngineName;
  /** Loads one batch in one transaction. */
  load(plan: LoadPlan, batch: LoadBatch): Promise<void>;
  /** Empties the table (`--mode replace`). */
  truncate(table: LoadPlan['table']): Promise<void>;
  execute(sqlText: string): Promise<void>;
  close(): Promise<void>;
}
