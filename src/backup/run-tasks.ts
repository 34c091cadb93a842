import { isTablevaultError } from '../errors.js';
import { encodeTableSegment } from '../manifest/layout.js';
import { expireAfterRun } from '../lifecycle/expire-run.js';
import type { MirrorStores } from '../lifecycle/expire-targets.js';
import type { RunTable } from '../plan/run-tables.js';
import type { Worker } from '../state/repository.js';
import { StaleLeaseError } from '../state/tasks.js';
import { mirrorTable } from './mirror.js';
import type { TableResult } from './run.js';
import { LocalTaskQueue, type TaskQueue } from './task-queue.js';
import { backupTable, emptyResult, type RunContext } from './table-run.js';
import { workPlan, type Lease } from './work-plan.js';
import { runChunkTask, shareChunks, type ChunkSpec } from './chunk-tasks.js';

/** How a run's tables are worked: by this process alone, or with every process that joined its plan. */
export interface TaskWork {
  queue: TaskQueue;
  /** Whether other processes share the plan (`--join`): leases, fenced commits, retries elsewhere. */
  shared: boolean;
  worker: Worker;
  leaseMs: number;
  exitWhenIdle?: boolean;
  /** Workers of this process at once. */
  slots: number;
  /** Builds the mirror stores once, for the tables that expire. */
  mirrors: () => MirrorStores;
}

/** A table's task as planned: its name in the run (what results and status call it). */
export function tableTasks(tables: RunTable[]): Array<{ name: string; spec: string }> {
  return tables.map((t) => ({ name: t.name, spec: JSON.stringify({ table: t.name }) }));
}

/** A run of one process: its tables in order, in memory. */
export function localQueue(planKey: string, tables: RunTable[]): LocalTaskQueue {
  return new LocalTaskQueue(planKey, tableTasks(tables));
}

/** How often a shared run's worker looks again at a table another process holds the lock of. */
const BUSY_RETRY_MS = 1_000;

/**
 * Works the run's tables as the plan's tasks, `slots` at a time. Each task backs up its table
 * (table-run.ts) with its commits fenced by the task's lease where the plan is shared, then
 * mirrors and expires it. In a shared run a table another process holds (a worker that was
 * paused past its lease and has not yet found its commits refused) is waited for, and a table
 * that failed is given back for another attempt, by any worker. What this process's workers
 * backed up, in the order they finished.
 */
export async function workTables(
  tables: RunTable[],
  ctx: RunContext,
  work: TaskWork,
): Promise<{ results: TableResult[]; complete: boolean }> {
  const byName = new Map(tables.map((t) => [t.name, t]));
  const results: TableResult[] = [];
  const runTask = async (lease: Lease): Promise<TableResult> => {
    const { task, signal } = lease;
    const t = byName.get(task.name);
    if (!t)
      throw new Error(
        `table ${task.name} of the run's plan is not matched by this worker's strategy file (is every worker's file the same?)`,
      );
    const state = work.queue.holder(ctx.state, task);
    const tctx: RunContext = {
      ...ctx,
      state,
      ...(work.shared
        ? { shareChunks: (rt, p, v, readsDone) => shareChunks(tctx, work.queue.planKey, lease, p, rt, v, readsDone) }
        : {}),
    };
    let r = await backupTable(t, tctx);
    while (work.shared && r.status === 'busy' && !signal.aborted && !ctx.opts.signal?.aborted) {
      await new Promise((ok) => setTimeout(ok, BUSY_RETRY_MS));
      r = await backupTable(t, tctx);
    }
    if (signal.aborted) throw new StaleLeaseError(task);
    if (work.shared && r.status === 'failed') throw new Error(r.error ?? 'failed');
    if (work.shared && r.status === 'stopped') throw new Error('stopped by a signal before it finished');
    const backedUp = r.status === 'ok';
    if (backedUp && ctx.strategy.mirror.length)
      await mirrorTable(r, encodeTableSegment(t.table), ctx.strategy, ctx.log.child({ table: t.name }));
    // retention: after the mirrors' syncs, on the destination and the mirrors that synced
    if (backedUp && t.plan && t.settings.retention && !ctx.opts.dryRun)
      await expireAfterRun(r, t, {
        state,
        dest: ctx.dest,
        mirrors: work.mirrors(),
        strategy: ctx.strategy,
        log: ctx.log.child({ table: t.name }),
        opts: { hook: ctx.opts.hook },
      });
    return r;
  };
  // a shared run's table may add tasks (its chunks), which this process's other workers read while
  // the table's own worker waits for them: every slot works, however few the tables
  const loopCount = work.shared ? Math.max(1, work.slots) : Math.max(1, Math.min(work.slots, tables.length));
  let busy = 0;
  const loops = await Promise.all(
    Array.from({ length: loopCount }, (_, k) =>
      workPlan(
        work.queue,
        { id: work.slots > 1 ? `${work.worker.id}/${k}` : work.worker.id, host: work.worker.host },
        {
          leaseMs: work.leaseMs,
          signal: ctx.opts.signal,
          log: ctx.log,
          // a run of one process reports a failed table as it is (rerun it); a shared run lets another worker try
          maxAttempts: work.shared ? 3 : 1,
          // a table's failure is its result; what backupTable throws is bad input (exit 2), which ends
          // the run as before, or in a run of one process anything else it throws
          fatal: (e) => !work.shared || (isTablevaultError(e) && e.exitCode === 2),
          exitWhenIdle: work.exitWhenIdle ?? !work.shared,
          // (a run of one process adds no tasks: its loops need not wait for one another)
          othersBusy: work.shared ? () => busy > 0 : undefined,
        },
        async (lease) => {
          busy++;
          try {
            return await runLease(lease);
          } finally {
            busy--;
          }
        },
      ),
    ),
  );
  return { results, complete: loops.some((l) => l.complete) };

  async function runLease(lease: Lease): Promise<unknown> {
    const spec = JSON.parse(lease.task.spec) as { table: string } | ChunkSpec;
    if ('chunk' in spec) {
      const rt = byName.get(spec.table);
      if (!rt) throw new Error(`table ${spec.table} of the run's plan is not matched by this worker's strategy file`);
      return runChunkTask(rt, spec, { ...ctx, state: work.queue.holder(ctx.state, lease.task) });
    }
    const r = await runTask(lease);
    results.push(r);
    return r;
  }
}

/** A table a stop came before. */
export function stoppedResult(t: RunTable): TableResult {
  return emptyResult(t.name, t.settings.strategy, 'stopped', ['not started: stopped by a signal']);
}
