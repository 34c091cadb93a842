import { sql, type Kysely } from 'kysely';
import type { StateDb, StateSchema } from './db.js';
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

export async function finishRunOk(s: StateDb, id: string, r: RunTotals, on: Kysely<StateSchema> = s.db): Promise<void> {
  await on
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

export async function finishRunFailed(
  s: StateDb,
  id: string,
  error: string,
  on: Kysely<StateSchema> = s.db,
): Promise<void> {
  await on
    .updateTable('tablevault_runs')
    .set({ finished_at: now(), status: 'failed', error })
    .where('id', '=', id)
    .execute();
}

/**
 * Runs `fn` as the table's run `id`, holding the lock `tableKey` (see withLock) on one
 * connection: a single statement takes the lock and records the run as started (none recorded
 * when another session holds the lock: `busy`), and the run's end, ok with `fn`'s totals or
 * failed with its error (`failure` says it), goes on the same connection before the lock is
 * released. A table's backup waited on four statements of the state store (the lock, the run's
 * start, its end, the unlock), two of them on other pooled connections; now on three.
 */
export async function withRun<T extends RunTotals>(
  s: StateDb,
  id: string,
  tableKey: string,
  fn: () => Promise<T>,
  failure: (e: unknown) => string,
): Promise<T | 'busy'> {
  return s.db.connection().execute(async (conn) => {
    let started: boolean;
    try {
      const res = await conn
        .insertInto('tablevault_runs')
        .columns(['id', 'table_key', 'started_at', 'status'])
        .expression(
          s.engine.state.selectIfLocked([sql.val(id), sql.val(tableKey), sql.val(now()), sql.val('running')], tableKey),
        )
        .executeTakeFirst();
      started = Number(res.numInsertedOrUpdatedRows ?? 0) === 1;
    } catch (e) {
      // the lock may be taken even though the row is not
      await s.engine.state.unlock(conn, tableKey).catch(() => {});
      throw e;
    }
    if (!started) return 'busy' as const;
    try {
      let r: T;
      try {
        r = await fn();
      } catch (e) {
        await finishRunFailed(s, id, failure(e), conn).catch(() => {});
        throw e;
      }
      await finishRunOk(s, id, r, conn);
      return r;
    } finally {
      await s.engine.state.unlock(conn, tableKey);
    }
  });
}

/** How many runs of the table finished ok (delete_check_every counts them). */
export async function okRuns(s: StateDb, tableKey: string): Promise<number> {
  const r = await s.db
    .selectFrom('tablevault_runs')
    .select((eb) => eb.fn.countAll<string | number>().as('n'))
    .where('table_key', '=', tableKey)
    .where('status', '=', 'ok')
    .executeTakeFirst();
  return Number(r?.n ?? 0);
}
