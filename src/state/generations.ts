import { commitTransaction, type GenerationsRow, type StateDb } from './db.js';
import { now } from './timestamps.js';

/** One object of a generation, by its full key, as files_json records it. */
export interface GenerationObject {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
  schemaVersion: number;
}

export interface GenerationStart {
  tableKey: string;
  generation: number;
  /** It covers the table's files with seq below this. */
  throughSeq: number;
  runId: string;
  backupRun?: string;
  schemaVersion: number;
}

/** The table's generations, oldest first; with `status`, only those. */
export function listGenerations(s: StateDb, tableKey: string, status?: 'writing' | 'done'): Promise<GenerationsRow[]> {
  let q = s.db.selectFrom('tablevault_generations').selectAll().where('table_key', '=', tableKey);
  if (status) q = q.where('status', '=', status);
  return q.orderBy('generation').execute();
}

/** Records a generation as being written, before its first object is put. */
export async function startGeneration(s: StateDb, g: GenerationStart): Promise<void> {
  await s.db
    .insertInto('tablevault_generations')
    .values({
      table_key: g.tableKey,
      generation: g.generation,
      through_seq: g.throughSeq,
      run_id: g.runId,
      backup_run: g.backupRun ?? null,
      schema_version: g.schemaVersion,
      rows: 0,
      bytes: 0,
      files_json: null,
      status: 'writing',
      created_at: now(),
    })
    .execute();
}

/**
 * Marks a generation done with its objects, all durable by now, in one transaction: from here
 * restores may read it. Only a generation still being written: two compactions of one table
 * cannot both finish it (they hold the table's lock anyway).
 */
export async function finishGeneration(
  s: StateDb,
  tableKey: string,
  generation: number,
  objects: GenerationObject[],
): Promise<void> {
  await commitTransaction(s, async (tx) => {
    const upd = await tx
      .updateTable('tablevault_generations')
      .set({
        status: 'done',
        rows: objects.reduce((n, o) => n + o.rows, 0),
        bytes: objects.reduce((n, o) => n + o.bytes, 0),
        files_json: JSON.stringify(objects),
        created_at: now(),
      })
      .where('table_key', '=', tableKey)
      .where('generation', '=', generation)
      .where('status', '=', 'writing')
      .executeTakeFirst();
    if (Number(upd.numUpdatedRows) !== 1)
      throw new Error(`generation ${generation} of ${tableKey} changed under this compaction; rerun`);
  });
}

/** Forgets a generation that was never finished (its objects are removed first). */
export async function dropGeneration(s: StateDb, tableKey: string, generation: number): Promise<void> {
  await s.db
    .deleteFrom('tablevault_generations')
    .where('table_key', '=', tableKey)
    .where('generation', '=', generation)
    .where('status', '=', 'writing')
    .execute();
}
