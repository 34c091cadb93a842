import type { StateDb } from './db.js';
import { now } from './timestamps.js';

export interface RunTotals {
  rows: number;
  files: number;
  bytes: number;
  watermarkBefore: string[] | null;
  watermarkAfter: string[] | null;
}

/** Records a table's run as started; `tableKey` is also the lock the run holds. */
export async function startRun(s: StateDb, id: string, tableKey: string): Promise<void> {
  await s.db
    .insertInto('tablevault_runs')
    .values({
      id,
      table_key: tableKey,
      started_at: now(),
      finished_at: null,
      status: 'running',
      rows: 0,
      files: 0,
      bytes: 0,
      watermark_before: null,
      watermark_after: null,
      error: null,
    })
    .execute();
}

export async function finishRunOk(s: StateDb, id: string, r: RunTotals): Promise<void> {
  await s.db
    .updateTable('tablevault_runs')
    .set({
      finished_at: now(),
      status: 'ok',
      rows: r.rows,
      files: r.files,
      bytes: r.bytes,
      watermark_before: r.watermarkBefore ? JSON.stringify(r.watermarkBefore) : null,
      watermark_after: r.watermarkAfter ? JSON.stringify(r.watermarkAfter) : null,
    })
    .where('id', '=', id)
    .execute();
}

export async function finishRunFailed(s: StateDb, id: string, error: string): Promise<void> {
  await s.db
    .updateTable('tablevault_runs')
    .set({ finished_at: now(), status: 'failed', error })
    .where('id', '=', id)
    .execute();
}
