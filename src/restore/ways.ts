import { DEFAULTS } from '../defaults.js';
import type { TableRef } from '../source/columns.js';
import type { LoadPlan, Loader } from '../source/loader.js';
import type { RestoreLeft } from './failure.js';

/**
 * How a table is loaded, so that a failure leaves nothing half-loaded where it can:
 * - `transaction` (engines with transactional DDL: PostgreSQL): a new table created, loaded and
 *   keyed, or an existing one emptied (`--mode replace`: TRUNCATE) and loaded, in one transaction;
 * - `chunks` (PostgreSQL, a new table above DEFAULTS.restore.oneTransactionRows, or one split
 *   across connections): built under its aside name one object per transaction, the progress in
 *   the table's comment, then keyed and renamed into place in one last transaction (see loadInChunks);
 * - `aside` (engines whose DDL commits: MySQL): built under its aside name and renamed into place
 *   in one statement (swapped with the old table for `--mode replace`); split, each object in
 *   transactions of its own, on several connections;
 * - `batches`: into the table, each transaction committed as it goes (insert and upsert into an
 *   existing table; a replace the engine can neither do in one transaction nor swap).
 */
export type LoadWay = 'transaction' | 'chunks' | 'aside' | 'batches';

/** The bound: TABLEVAULT_RESTORE_ONE_TRANSACTION_ROWS (the tests' small tables), else the default. */
export function oneTransactionRows(): number {
  const v = Number(process.env.TABLEVAULT_RESTORE_ONE_TRANSACTION_ROWS);
  return Number.isInteger(v) && v > 0 ? v : DEFAULTS.restore.oneTransactionRows;
}

export async function chooseWay(
  loader: Loader,
  t: {
    ref: TableRef;
    created: boolean;
    replacing: boolean;
    plan: LoadPlan;
    rows: number;
    /** Its objects may load over several connections (see splitRows). */
    split: boolean;
  },
): Promise<{ way: LoadWay; warning?: string }> {
  if (!t.created && !t.replacing) return { way: 'batches' };
  if (loader.loadTable) {
    // a table replaced in place keeps its own definition (indexes, grants, triggers): one transaction
    const big = t.created && t.plan.conflict === 'insert' && loader.notes && (t.rows > oneTransactionRows() || t.split);
    return { way: big ? 'chunks' : 'transaction' };
  }
  if (!loader.swap) return { way: 'batches' };
  const blocker = t.replacing ? await loader.swap.blocker(t.ref) : undefined;
  if (!blocker) return { way: 'aside' };
  return {
    way: 'batches',
    warning: `replaced in place (emptied, then loaded batch by batch), not swapped: ${blocker}; a failure would have left it partly loaded`,
  };
}

/** What a failure leaves, by way (chunks and aside say it themselves). */
export function leftBy(way: LoadWay, created: boolean): RestoreLeft {
  if (way === 'batches') return { kind: 'batches' };
  return created ? { kind: 'nothing' } : { kind: 'unchanged' };
}
