import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import type { ClaimedTask, Worker } from '../state/repository.js';
import { StaleLeaseError } from '../state/tasks.js';
import type { TaskQueue } from './task-queue.js';

/**
 * A worker of a shared run (`--join`): claims the plan's tasks one after another until none is
 * left, each under a lease it renews while the task runs (a heartbeat at a third of the lease);
 * a renewal that finds the lease lost aborts the task's signal, and its commits are refused by
 * their fence anyway. When no task can be claimed but some are held by live workers, it waits
 * for them (a holder that dies leaves its task to whoever claims it once the lease runs out),
 * or, with `exitWhenIdle`, returns.
 */

export interface WorkOptions {
  leaseMs: number;
  /** Return when the only tasks left are held by live workers, instead of waiting to take over one that dies. */
  exitWhenIdle?: boolean;
  /**
   * Whether other workers of this process are still on a task: an idle exit waits for them, since
   * a task in progress may add tasks for this process to work (a chunked table's chunks).
   */
  othersBusy?: () => boolean;
  /** How long to wait between looks when every task left is held (default: a tenth of the lease, at most 1 s). */
  pollMs?: number;
  /** Attempts a task gets before it is failed for good (default 3). */
  maxAttempts?: number;
  signal?: AbortSignal;
  log?: Logger;
  /** Errors of a task's work that end the worker (thrown from workPlan) instead of giving the task back. */
  fatal?: (e: unknown) => boolean;
}

/** A held task's lease as its work sees it: aborted once the lease is lost. */
export interface Lease {
  task: ClaimedTask;
  signal: AbortSignal;
}

export interface WorkResult {
  /** Tasks this worker finished. */
  done: number;
  /** Tasks whose lease it lost before finishing (another worker has them). */
  lost: number;
  /** Tasks whose work failed here (given back for another attempt, or failed for good). */
  failed: number;
  /** Whether every task of the plan is done or failed for good when it returned. */
  complete: boolean;
}

export async function workPlan(
  queue: TaskQueue,
  worker: Worker,
  opts: WorkOptions,
  run: (lease: Lease) => Promise<unknown>,
): Promise<WorkResult> {
  const out: WorkResult = { done: 0, lost: 0, failed: 0, complete: false };
  const poll = opts.pollMs ?? Math.min(1000, Math.max(10, opts.leaseMs / 10));
  let task: ClaimedTask | undefined;
  while (!opts.signal?.aborted) {
    task ??= await queue.claim(worker, opts.leaseMs);
    if (!task) {
      const p = await queue.progress();
      if (p.done + p.failed === p.total) {
        await queue.finishIfDone();
        out.complete = true;
        return out;
      }
      if (opts.exitWhenIdle && p.waiting === 0 && p.expired === 0 && !opts.othersBusy?.()) return out;
      await sleep(poll, opts.signal);
      continue;
    }
    const held: ClaimedTask = task;
    task = undefined;
    const lost = new AbortController();
    const beat = setInterval(
      () => {
        queue.renew(held, opts.leaseMs).then(
          (ok) => {
            if (!ok) lost.abort(new StaleLeaseError(held));
          },
          () => {}, // a failed renewal is retried at the next beat; the lease decides
        );
      },
      Math.max(5, Math.floor(opts.leaseMs / 3)),
    );
    let result: unknown;
    try {
      result = await run({ task: held, signal: lost.signal });
    } catch (e) {
      clearInterval(beat);
      if (opts.fatal?.(e)) throw e;
      if (e instanceof StaleLeaseError || lost.signal.aborted) {
        out.lost++;
        opts.log?.warn({ task: held.name, token: held.token }, 'lease lost; the task is left to its new holder');
      } else {
        out.failed++;
        opts.log?.error({ task: held.name, err: errorMessage(e) }, 'task failed');
        await queue.release(held, errorMessage(e), opts.maxAttempts ?? 3).catch((err: unknown) => {
          if (!(err instanceof StaleLeaseError)) throw err;
        });
      }
      continue;
    }
    clearInterval(beat);
    // done, and the next claimed in the same commit (unless this worker is stopping)
    const finished = opts.signal?.aborted
      ? await queue.finish(held, result).then(
          () => true,
          (e: unknown) => {
            if (e instanceof StaleLeaseError) return false;
            throw e;
          },
        )
      : await queue.finishAndClaim(held, result, worker, opts.leaseMs).then((r) => {
          task = r.next;
          return r.finished;
        });
    if (finished) out.done++;
    else {
      out.lost++;
      opts.log?.warn(
        { task: held.name, token: held.token },
        'lease lost before the task was done; its new holder redoes it',
      );
    }
  }
  return out;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });
}
