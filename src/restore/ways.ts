import { createHash } from 'node:crypto';
import { DEFAULTS } from '../defaults.js';
import type { Logger } from '../log.js';
import type { BackupFile } from '../manifest/view.js';
import type { TableRef } from '../source/columns.js';
import type { Engine } from '../source/engine.js';
import type { LoadBatch, LoadPlan, Loader } from '../source/loader.js';
import { asideRef } from './aside.js';
import { addPrimaryKeySql } from './ddl.js';
import type { RestoreLeft } from './failure.js';

/**
 * How a table is loaded, so that a failure leaves nothing half-loaded where it can:
 * - `transaction` (engines with transactional DDL: PostgreSQL): a new table created, loaded and
 *   keyed, or an existing one emptied (`--mode replace`: TRUNCATE) and loaded, in one transaction;
 * - `chunks` (PostgreSQL, a new table above DEFAULTS.restore.oneTransactionRows): built under its
 *   aside name one object per transaction, the progress in the table's comment, then keyed and
 *   renamed into place in one last transaction (see loadInChunks);
 * - `aside` (engines whose DDL commits: MySQL): built under its aside name and renamed into place
 *   in one statement (swapped with the old table for `--mode replace`);
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
  t: { ref: TableRef; created: boolean; replacing: boolean; plan: LoadPlan; rows: number },
): Promise<{ way: LoadWay; warning?: string }> {
  if (!t.created && !t.replacing) return { way: 'batches' };
  if (loader.loadTable) {
    const big = t.created && t.plan.conflict === 'insert' && loader.notes && t.rows > oneTransactionRows();
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

/** A chunked load's note: the objects' identity (names and checksums, in order) and how many committed. */
const NOTE = /^tablevault restore ([0-9a-f]{16}) (\d+)\/(\d+)$/;

export interface ChunkJob {
  ref: TableRef;
  plan: LoadPlan;
  files: BackupFile[];
  /** The CREATE TABLE of the aside table, without its primary key. */
  create: (aside: TableRef) => string;
  batchesOf: (files: BackupFile[]) => AsyncIterable<LoadBatch>;
  engine: Engine;
  log: Logger;
  /** Updated as objects commit, for the failure's message. */
  progress: { committed: number; aside: string };
}

/**
 * A new table too large for one transaction, object by object: the aside table is created with
 * the first object, and each object's COPY commits with the note (the table's comment) saying how
 * many objects of which backup it holds, so the note and the rows can never disagree. A rerun
 * finding the aside table with the same objects' note resumes after the last committed one
 * (another note, or none: a table of ours from something else, dropped and begun again). Once all
 * are in, one transaction adds the primary key, renames the table into place and clears the note.
 * Returns the objects skipped as already committed.
 */
export async function loadInChunks(loader: Loader, job: ChunkJob): Promise<number> {
  const notes = loader.notes!;
  const aside = asideRef(job.ref, 'restoring');
  const id = createHash('sha1')
    .update(job.files.map((f) => `${f.name}:${f.sha256}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const n = job.files.length;
  job.progress.aside = notes.name(aside);
  const found = await notes.read(aside);
  let done = 0;
  if (found) {
    const m = NOTE.exec(found.note ?? '');
    if (m && m[1] === id && Number(m[3]) === n) done = Number(m[2]);
    else await loader.execute(`DROP TABLE ${notes.name(aside)}`);
  }
  if (done) job.log.info({ aside: job.progress.aside, committed: done, of: n }, 'resuming a chunked restore');
  const skipped = done;
  job.progress.committed = done;
  const plan = { ...job.plan, table: aside };
  for (let i = done; i < n; i++) {
    await loader.loadTable!(
      {
        plan,
        ...(i === 0 ? { create: job.create(aside) } : {}),
        after: [notes.writeSql(aside, `tablevault restore ${id} ${i + 1}/${n}`)],
      },
      job.batchesOf([job.files[i]!]),
    );
    job.progress.committed = i + 1;
  }
  const key = job.plan.primaryKey.length ? [addPrimaryKeySql(job.ref, job.plan.primaryKey, job.engine)] : [];
  // renamed first: the key's index is then named for the table, as one created with it would be
  await loader.execute(
    [
      'BEGIN',
      notes.writeSql(aside, undefined),
      job.engine.ddl.renameTableSql(aside, job.ref.name),
      ...key,
      'COMMIT',
    ].join('; '),
  );
  return skipped;
}
