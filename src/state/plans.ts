import { sql, type Kysely } from 'kysely';
import type { StateDb, StateSchema, TasksRow } from './db.js';
import { now } from './timestamps.js';

/**
 * Shared runs' plans (tasks.ts claims and fences their tasks): a run's plan and its tasks,
 * recorded once per plan key by whichever process arrives first; tasks a task adds (a table's
 * chunks), each once by name; and what the plan's tasks are at, for workers and status.
 */

export interface PlannedTask {
  /** What status shows: the table, or the table and chunk. */
  name: string;
  /** What the task does, as its worker reads it (JSON). */
  spec: string;
}

export interface RunPlan {
  planKey: string;
  backupRun: string;
  strategy: string;
  plannedBy: string;
  tasks: PlannedTask[];
}

/** A plan's tasks by state: done, failed (every attempt), claimed under a live lease, claimed with a lease run out, waiting. */
export interface PlanProgress {
  done: number;
  failed: number;
  claimed: number;
  expired: number;
  waiting: number;
  total: number;
}

const INSERT_BATCH = 500;

/**
 * Records a plan and all its tasks in one transaction, once per plan key: the first process to
 * arrive plans; any other finds the plan there (waiting for the first's transaction, if it is
 * still open) and works it. Which backup run id the plan has, and whether this call planned it.
 */
export async function planRun(s: StateDb, p: RunPlan): Promise<{ planned: boolean; backupRun: string }> {
  const planned = await s.db.transaction().execute(async (tx) => {
    const ins = await s.engine.state
      .ignoreDuplicates(
        tx.insertInto('tablevault_plans').values({
          plan_key: p.planKey,
          backup_run: p.backupRun,
          strategy: p.strategy,
          tasks: p.tasks.length,
          planned_by: p.plannedBy,
          status: p.tasks.length ? 'ready' : 'done',
          created_at: now(),
          finished_at: p.tasks.length ? null : now(),
        }),
      )
      .executeTakeFirst();
    if (Number(ins.numInsertedOrUpdatedRows ?? 0) !== 1) return false;
    await insertWaiting(tx, p.planKey, 0, p.tasks);
    return true;
  });
  if (planned) return { planned, backupRun: p.backupRun };
  const row = await s.db
    .selectFrom('tablevault_plans')
    .select('backup_run')
    .where('plan_key', '=', p.planKey)
    .executeTakeFirstOrThrow();
  return { planned, backupRun: row.backup_run };
}

/** Inserts `tasks` as waiting, numbered from `first`, in batches of INSERT_BATCH rows. */
async function insertWaiting(
  tx: Kysely<StateSchema>,
  planKey: string,
  first: number,
  tasks: PlannedTask[],
): Promise<void> {
  const at = now();
  for (let i = 0; i < tasks.length; i += INSERT_BATCH)
    await tx
      .insertInto('tablevault_tasks')
      .values(
        tasks.slice(i, i + INSERT_BATCH).map((t, k) => ({
          plan_key: planKey,
          task: first + i + k,
          name: t.name,
          spec: t.spec,
          status: 'waiting',
          token: 0,
          lease_until: 0,
          attempts: 0,
          updated_at: at,
        })),
      )
      .execute();
}

/** Counts a plan's tasks by state (leases against the state database's clock). */
export async function planProgress(s: StateDb, planKey: string): Promise<PlanProgress> {
  const expired = sql<number>`CASE WHEN status = 'claimed' AND lease_until < ${s.engine.state.nowMs} THEN 1 ELSE 0 END`;
  const rows = await s.db
    .selectFrom('tablevault_tasks')
    .select((eb) => ['status', expired.as('expired'), eb.fn.countAll<number>().as('n')])
    .where('plan_key', '=', planKey)
    .groupBy(['status', expired])
    .execute();
  const p: PlanProgress = { done: 0, failed: 0, claimed: 0, expired: 0, waiting: 0, total: 0 };
  for (const r of rows) {
    const n = Number(r.n);
    p.total += n;
    if (r.status === 'done') p.done += n;
    else if (r.status === 'failed') p.failed += n;
    else if (r.status === 'waiting') p.waiting += n;
    else if (Number(r.expired)) p.expired += n;
    else p.claimed += n;
  }
  return p;
}

/** A plan's tasks, for status: who holds what. */
export function planTasks(db: Kysely<StateSchema>, planKey: string): Promise<TasksRow[]> {
  return db.selectFrom('tablevault_tasks').selectAll().where('plan_key', '=', planKey).orderBy('task').execute();
}

/** Marks the plan done once every task is (idempotent: the first to see it so records it). */
export async function finishPlanIfDone(s: StateDb, planKey: string): Promise<boolean> {
  const p = await planProgress(s, planKey);
  if (p.done + p.failed !== p.total) return false;
  await s.db
    .updateTable('tablevault_plans')
    .set({ status: 'done', finished_at: now() })
    .where('plan_key', '=', planKey)
    .where('status', '=', 'ready')
    .execute();
  return true;
}

/**
 * Adds tasks to a plan, each once by name (a second call with the same names adds nothing):
 * a task that plans more work (a table's chunks) offers it to every worker of the run. The
 * plan's row is locked for the numbering, so two callers never take the same task numbers.
 */
export async function addTasks(s: StateDb, planKey: string, tasks: PlannedTask[]): Promise<void> {
  await s.db.transaction().execute(async (tx) => {
    const plan = await tx
      .selectFrom('tablevault_plans')
      .select('tasks')
      .where('plan_key', '=', planKey)
      .forUpdate()
      .executeTakeFirst();
    if (!plan) throw new Error(`internal: no plan ${planKey} to add tasks to`);
    const names = new Set(
      (
        await tx
          .selectFrom('tablevault_tasks')
          .select('name')
          .where('plan_key', '=', planKey)
          .where(
            'name',
            'in',
            tasks.map((t) => t.name),
          )
          .execute()
      ).map((r) => r.name),
    );
    const fresh = tasks.filter((t) => !names.has(t.name));
    if (!fresh.length) return;
    const last = await tx
      .selectFrom('tablevault_tasks')
      .select((eb) => eb.fn.max('task').as('last'))
      .where('plan_key', '=', planKey)
      .executeTakeFirst();
    const first = Number(last?.last ?? -1) + 1;
    await insertWaiting(tx, planKey, first, fresh);
    await tx
      .updateTable('tablevault_plans')
      .set({ tasks: first + fresh.length, status: 'ready', finished_at: null })
      .where('plan_key', '=', planKey)
      .execute();
  });
}

/** The status of a plan's tasks by name (waiting, claimed, done, failed) and their results, for the names asked. */
export async function taskStatuses(
  s: StateDb,
  planKey: string,
  names: string[],
): Promise<Map<string, { status: string; result: string | null }>> {
  const rows = await s.db
    .selectFrom('tablevault_tasks')
    .select(['name', 'status', 'result'])
    .where('plan_key', '=', planKey)
    .where('name', 'in', names)
    .execute();
  return new Map(rows.map((r) => [r.name, { status: r.status, result: r.result }]));
}
