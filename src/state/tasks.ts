import { sql, type Kysely, type Transaction } from 'kysely';
import type { StateDb, StateSchema } from './db.js';
import { now } from './timestamps.js';

/**
 * Shared runs: a plan of tasks in the state store, worked by any number of processes on any
 * machines. A task is claimed with a lease (the state database's clock: lease_until) and a
 * fencing token (raised by every claim); the holder renews the lease while it works, and every
 * commit of its work checks, in the commit's own transaction, that the token is still its own and
 * the lease alive (fenceTask). A holder that dies loses the task when the lease runs out and the
 * next claimer redoes it; one that was only paused past its lease finds its token stale and
 * commits nothing. Claims skip rows another claimer has locked (FOR UPDATE SKIP LOCKED:
 * PostgreSQL, MySQL 8, MariaDB 10.6+), so claimers do not queue behind one another.
 *
 * Why not pg-boss or graphile-worker: both are PostgreSQL only (the state store may be MySQL or
 * MariaDB), and neither lets a job's holder fence its own writes to other tables with the
 * claim's token in one transaction, which is what keeps a paused worker's commit out.
 */

/** A task as its holder knows it: the token its commits carry. */
export interface ClaimedTask {
  planKey: string;
  task: number;
  name: string;
  spec: string;
  token: number;
  attempts: number;
  /** The state database's clock at the claim, and when the lease ends (ms). */
  claimedAt: number;
  leaseUntil: number;
}

export interface Worker {
  id: string;
  host: string;
}

/** A commit of a task whose lease was lost: another worker holds the task (or may), so this one's work is not committed. */
export class StaleLeaseError extends Error {
  constructor(t: Pick<ClaimedTask, 'planKey' | 'task' | 'name' | 'token'>) {
    super(
      `task ${t.task} (${t.name}) of run ${t.planKey}: lease lost (token ${t.token} is stale or its lease ran out); its work is left to the worker that holds it now`,
    );
    this.name = 'StaleLeaseError';
  }
}

/**
 * Claims the plan's first task that is waiting or whose lease ran out, for `leaseMs`; undefined
 * when there is none right now (every task done, or held under a live lease: planProgress says).
 */
export function claimTask(s: StateDb, planKey: string, w: Worker, leaseMs: number): Promise<ClaimedTask | undefined> {
  return claimTransaction(s, (tx) => claimIn(s, tx, planKey, w, leaseMs));
}

/** SQLSTATE of a transaction the server rolled back to break a deadlock or a serialization conflict. */
const CONFLICTS = new Set(['40001', '40P01']);

/**
 * A claim's transaction, in read committed (no gap locks: InnoDB's repeatable read would lock
 * the ranges a claim scans), retried when the server rolls it back to break a deadlock: InnoDB
 * can, between a claim locking a task through the status index and a finish updating that index.
 * Nothing of a rolled-back attempt stays, so a retry is the same claim.
 */
async function claimTransaction<T>(s: StateDb, fn: (tx: Transaction<StateSchema>) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await s.db.transaction().setIsolationLevel('read committed').execute(fn);
    } catch (e) {
      const state = (e as { sqlState?: string; code?: string }).sqlState ?? (e as { code?: string }).code;
      if (attempt >= 8 || !state || !CONFLICTS.has(state)) throw e;
      await new Promise((r) => setTimeout(r, attempt * Math.random() * 10));
    }
  }
}

/**
 * Finishes a held task (fenced, as finishTask) and claims the next in one transaction: one
 * commit per task instead of two, which is what a state store with durable commits is bound by.
 * `finished` false: the lease was lost, the task is another's (the claim happens all the same).
 */
export function finishAndClaim(
  s: StateDb,
  t: ClaimedTask,
  result: unknown,
  w: Worker,
  leaseMs: number,
): Promise<{ finished: boolean; next?: ClaimedTask }> {
  return claimTransaction(s, async (tx) => {
    const finished = await finishIn(s, tx, t, result);
    const next = await claimIn(s, tx, t.planKey, w, leaseMs);
    return { finished, ...(next ? { next } : {}) };
  });
}

async function claimIn(
  s: StateDb,
  tx: Transaction<StateSchema>,
  planKey: string,
  w: Worker,
  leaseMs: number,
): Promise<ClaimedTask | undefined> {
  const clock = s.engine.state.nowMs;
  const pick = (claimable: 'waiting' | 'expired') =>
    tx
      .selectFrom('tablevault_tasks')
      .select(['task', 'name', 'spec', 'token', 'attempts'])
      .select(clock.as('clock'))
      .where('plan_key', '=', planKey)
      .where('status', '=', claimable === 'waiting' ? 'waiting' : 'claimed')
      .$if(claimable === 'expired', (q) => q.where('lease_until', '<', clock))
      .orderBy('task')
      .limit(1)
      .forUpdate()
      .skipLocked()
      .executeTakeFirst();
  // the waiting first: one index range, in task order; then a lease that ran out
  const row = (await pick('waiting')) ?? (await pick('expired'));
  if (!row) return undefined;
  const claimedAt = Number(row.clock);
  const token = Number(row.token) + 1;
  await tx
    .updateTable('tablevault_tasks')
    .set({
      status: 'claimed',
      owner: w.id,
      host: w.host,
      token,
      lease_until: claimedAt + leaseMs,
      attempts: row.attempts + 1,
      updated_at: now(),
    })
    .where('plan_key', '=', planKey)
    .where('task', '=', row.task)
    .execute();
  return {
    planKey,
    task: row.task,
    name: row.name,
    spec: row.spec,
    token,
    attempts: row.attempts + 1,
    claimedAt,
    leaseUntil: claimedAt + leaseMs,
  };
}

/** Extends the lease by `leaseMs` from now, while the token is the holder's and the lease alive; false when it was lost. */
export async function renewLease(s: StateDb, t: ClaimedTask, leaseMs: number): Promise<boolean> {
  const clock = s.engine.state.nowMs;
  const upd = await s.db
    .updateTable('tablevault_tasks')
    .set({ lease_until: sql<number>`${clock} + ${leaseMs}`, updated_at: now() })
    .where('plan_key', '=', t.planKey)
    .where('task', '=', t.task)
    .where('token', '=', t.token)
    .where('status', '=', 'claimed')
    .where('lease_until', '>=', clock)
    .executeTakeFirst();
  return Number(upd.numUpdatedRows) === 1;
}

/**
 * Inside a commit's transaction: locks the task's row and throws StaleLeaseError unless the
 * token is still the holder's and its lease alive. A claim of the task waits for this
 * transaction (the row is locked), so no other worker takes it over in the middle of a commit.
 */
export async function fenceTask(s: StateDb, tx: Kysely<StateSchema>, t: ClaimedTask): Promise<void> {
  const row = await tx
    .selectFrom('tablevault_tasks')
    .select(['token', 'status'])
    .select(sql<number>`CASE WHEN lease_until >= ${s.engine.state.nowMs} THEN 1 ELSE 0 END`.as('alive'))
    .where('plan_key', '=', t.planKey)
    .where('task', '=', t.task)
    .forUpdate()
    .executeTakeFirst();
  if (!row || Number(row.token) !== t.token || row.status !== 'claimed' || Number(row.alive) !== 1)
    throw new StaleLeaseError(t);
}

/**
 * Marks a held task done with its result, fenced in the one statement: only while the token is
 * the holder's and the lease alive. Throws StaleLeaseError when the lease was lost (the task
 * stays another's).
 */
export async function finishTask(s: StateDb, t: ClaimedTask, result: unknown): Promise<void> {
  if (!(await finishIn(s, s.db, t, result))) throw new StaleLeaseError(t);
}

async function finishIn(s: StateDb, db: Kysely<StateSchema>, t: ClaimedTask, result: unknown): Promise<boolean> {
  const upd = await db
    .updateTable('tablevault_tasks')
    .set({ status: 'done', result: JSON.stringify(result ?? null), updated_at: now() })
    .where('plan_key', '=', t.planKey)
    .where('task', '=', t.task)
    .where('token', '=', t.token)
    .where('status', '=', 'claimed')
    .where('lease_until', '>=', s.engine.state.nowMs)
    .executeTakeFirst();
  return Number(upd.numUpdatedRows) === 1;
}

/**
 * Gives a held task up after its work failed, fenced: back to waiting for another attempt, or
 * failed for good once it has had `maxAttempts` (its error kept as the result).
 */
export async function releaseTask(s: StateDb, t: ClaimedTask, error: string, maxAttempts: number): Promise<void> {
  await s.db.transaction().execute(async (tx) => {
    await fenceTask(s, tx, t);
    await tx
      .updateTable('tablevault_tasks')
      .set({
        status: t.attempts >= maxAttempts ? 'failed' : 'waiting',
        owner: null,
        host: null,
        lease_until: 0,
        result: JSON.stringify({ error }),
        updated_at: now(),
      })
      .where('plan_key', '=', t.planKey)
      .where('task', '=', t.task)
      .execute();
  });
}
