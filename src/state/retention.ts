import { commitTransaction, type FilesRow, type GenerationsRow, type RetentionRow, type StateDb } from './db.js';
import { now } from './timestamps.js';

/** The primary destination's target name in tablevault_retention; a mirror's is its dest URL. */
export const PRIMARY_TARGET = '';

/** What an expire moves a target to: the oldest run it keeps and what its manifest lists from. */
export interface RetentionBoundary {
  keptRun: string;
  keptBackupRun?: string;
  keptAt: string;
  /** The last seq of the oldest kept run. */
  keptLastSeq: number;
  /** Files with seq below this are no longer listed (the generation keptGen stands for them). */
  keptSeq: number;
  /** Done generations below this are no longer listed. */
  keptGen: number;
}

export function retentionRow(s: StateDb, tableKey: string, target: string): Promise<RetentionRow | undefined> {
  return s.db
    .selectFrom('tablevault_retention')
    .selectAll()
    .where('table_key', '=', tableKey)
    .where('target', '=', target)
    .executeTakeFirst();
}

/**
 * Moves a target's boundary forward, in one transaction; what was swept stays as it was (the
 * objects below the new boundary are deleted after this, then markSwept). A boundary behind the
 * recorded one is refused: expired runs never come back.
 */
export async function advanceRetention(s: StateDb, tableKey: string, target: string, b: RetentionBoundary) {
  await commitTransaction(s, async (tx) => {
    const row = await tx
      .selectFrom('tablevault_retention')
      .selectAll()
      .where('table_key', '=', tableKey)
      .where('target', '=', target)
      .forUpdate()
      .executeTakeFirst();
    const values = {
      kept_run: b.keptRun,
      kept_backup_run: b.keptBackupRun ?? null,
      kept_at: b.keptAt,
      kept_last_seq: b.keptLastSeq,
      kept_seq: b.keptSeq,
      kept_gen: b.keptGen,
      updated_at: now(),
    };
    if (!row) {
      await tx
        .insertInto('tablevault_retention')
        .values({ table_key: tableKey, target, swept_seq: 0, swept_gen: 0, ...values })
        .execute();
      return;
    }
    if (b.keptLastSeq < row.kept_last_seq || b.keptSeq < row.kept_seq || b.keptGen < row.kept_gen)
      throw new Error(`the retention of ${tableKey} moved on under this expire; rerun`);
    await tx
      .updateTable('tablevault_retention')
      .set(values)
      .where('table_key', '=', tableKey)
      .where('target', '=', target)
      .execute();
  });
}

/** Records that every object below the target's boundary is deleted. */
export async function markSwept(s: StateDb, tableKey: string, target: string, to: { seq: number; gen: number }) {
  await s.db
    .updateTable('tablevault_retention')
    .set({ swept_seq: to.seq, swept_gen: to.gen, updated_at: now() })
    .where('table_key', '=', tableKey)
    .where('target', '=', target)
    .execute();
}

/** The objects between what was swept and the boundary: files and done generations no longer listed. */
export async function unlistedObjects(
  s: StateDb,
  tableKey: string,
  r: Pick<RetentionRow, 'swept_seq' | 'kept_seq' | 'swept_gen' | 'kept_gen'>,
): Promise<{ files: FilesRow[]; generations: GenerationsRow[] }> {
  const files = await s.db
    .selectFrom('tablevault_files')
    .selectAll()
    .where('table_key', '=', tableKey)
    .where('seq', '>=', r.swept_seq)
    .where('seq', '<', r.kept_seq)
    .orderBy('seq')
    .execute();
  const generations = await s.db
    .selectFrom('tablevault_generations')
    .selectAll()
    .where('table_key', '=', tableKey)
    .where('status', '=', 'done')
    .where('generation', '>=', r.swept_gen)
    .where('generation', '<', r.kept_gen)
    .orderBy('generation')
    .execute();
  return { files, generations };
}
