import type { StateDb } from './db.js';
import { planProgress, type PlanProgress } from './plans.js';

/**
 * What status and /metrics show of a strategy's shared runs (tasks.ts): each plan still ready
 * and the latest done, its tasks counted by state, and who holds what. Leases are read against
 * the state database's clock, as claims are, so a worker's clock skew cannot make a live lease
 * look expired here. A plan of 10,000 tasks is counted in SQL; only the held tasks and the failed
 * ones come back one by one.
 */

/** A claimed task: who holds it, on which host, and the lease's time left (negative: it ran out, the task is up for claiming). */
export interface HeldTask {
  task: number;
  name: string;
  owner: string | null;
  host: string | null;
  attempts: number;
  leaseLeftMs: number;
  expired: boolean;
}

export interface FailedTask {
  task: number;
  name: string;
  attempts: number;
  error: string | null;
}

export interface PlanStatus {
  planKey: string;
  backupRun: string;
  strategy: string;
  plannedBy: string;
  status: 'ready' | 'done';
  createdAt: string;
  finishedAt: string | null;
  counts: PlanProgress;
  /** Ready plans: the claimed tasks, live and expired leases alike, in task order (none for a done plan). */
  held: HeldTask[];
  /** Ready plans: the tasks that failed every attempt. */
  failed: FailedTask[];
}

/**
 * The plans of `strategy` (the strategy file as the workers named it) still ready, oldest first,
 * then, with `latestDone`, the one finished last, its counts only.
 */
export async function activePlans(
  s: StateDb,
  strategy: string,
  opts: { latestDone?: boolean } = {},
): Promise<PlanStatus[]> {
  const plans = s.db.selectFrom('tablevault_plans').selectAll().where('strategy', '=', strategy);
  const ready = await plans.where('status', '=', 'ready').orderBy('created_at').orderBy('plan_key').execute();
  const done = opts.latestDone
    ? await plans.where('status', '=', 'done').orderBy('finished_at', 'desc').limit(1).execute()
    : [];
  const out: PlanStatus[] = [];
  for (const p of [...ready, ...done]) {
    const isReady = p.status === 'ready';
    out.push({
      planKey: p.plan_key,
      backupRun: p.backup_run,
      strategy: p.strategy,
      plannedBy: p.planned_by,
      status: isReady ? 'ready' : 'done',
      createdAt: p.created_at,
      finishedAt: p.finished_at,
      counts: await planProgress(s, p.plan_key),
      held: isReady ? await heldTasks(s, p.plan_key) : [],
      failed: isReady ? await failedTasks(s, p.plan_key) : [],
    });
  }
  return out;
}

async function heldTasks(s: StateDb, planKey: string): Promise<HeldTask[]> {
  const rows = await s.db
    .selectFrom('tablevault_tasks')
    .select(['task', 'name', 'owner', 'host', 'attempts', 'lease_until'])
    .select(s.engine.state.nowMs.as('clock'))
    .where('plan_key', '=', planKey)
    .where('status', '=', 'claimed')
    .orderBy('task')
    .execute();
  return rows.map((r) => {
    const left = Number(r.lease_until) - Number(r.clock);
    return {
      task: r.task,
      name: r.name,
      owner: r.owner,
      host: r.host,
      attempts: r.attempts,
      leaseLeftMs: left,
      expired: left < 0,
    };
  });
}

async function failedTasks(s: StateDb, planKey: string): Promise<FailedTask[]> {
  const rows = await s.db
    .selectFrom('tablevault_tasks')
    .select(['task', 'name', 'attempts', 'result'])
    .where('plan_key', '=', planKey)
    .where('status', '=', 'failed')
    .orderBy('task')
    .execute();
  return rows.map((r) => ({ task: r.task, name: r.name, attempts: r.attempts, error: errorOf(r.result) }));
}

/** releaseTask keeps `{ error }` as a failed task's result. */
function errorOf(result: string | null): string | null {
  if (!result) return null;
  try {
    const v = JSON.parse(result) as { error?: unknown };
    return typeof v.error === 'string' ? v.error : null;
  } catch {
    return null;
  }
}

/** The tasks of every ready plan of `strategy`, summed by state, and how many plans: what /metrics exports. */
export async function readyTaskCounts(s: StateDb, strategy: string): Promise<PlanProgress & { runs: number }> {
  const ready = await s.db
    .selectFrom('tablevault_plans')
    .select('plan_key')
    .where('strategy', '=', strategy)
    .where('status', '=', 'ready')
    .execute();
  const sum = { runs: ready.length, done: 0, failed: 0, claimed: 0, expired: 0, waiting: 0, total: 0 };
  for (const { plan_key } of ready) {
    const c = await planProgress(s, plan_key);
    for (const k of ['done', 'failed', 'claimed', 'expired', 'waiting', 'total'] as const) sum[k] += c[k];
  }
  return sum;
}
