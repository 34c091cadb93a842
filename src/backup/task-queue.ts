import type { ClaimedTask, PlanProgress, StateRepository, Worker } from '../state/repository.js';
import { StaleLeaseError } from '../state/tasks.js';

/**
 * The tasks of a run as a worker (workPlan) sees them. A shared run's are in the state store
 * (StateTaskQueue: leases on the state database's clock, fenced commits); a run of one process
 * keeps the same plan in memory (LocalTaskQueue), so `backup` and `backup --join` work their
 * tables through one loop and one task runner.
 */
export interface TaskQueue {
  /** The plan's key (what status shows). */
  readonly planKey: string;
  claim(w: Worker, leaseMs: number): Promise<ClaimedTask | undefined>;
  /** Extends a held task's lease; false when it was lost. */
  renew(t: ClaimedTask, leaseMs: number): Promise<boolean>;
  /** Marks a held task done (StaleLeaseError when its lease was lost). */
  finish(t: ClaimedTask, result: unknown): Promise<void>;
  /** Finishes a held task and claims the next, in one commit where the queue is durable. */
  finishAndClaim(
    t: ClaimedTask,
    result: unknown,
    w: Worker,
    leaseMs: number,
  ): Promise<{ finished: boolean; next?: ClaimedTask }>;
  /** Gives a held task up after its work failed: waiting again, or failed for good after `maxAttempts`. */
  release(t: ClaimedTask, error: string, maxAttempts: number): Promise<void>;
  progress(): Promise<PlanProgress>;
  /** Records the plan done once every task is; whether it is. */
  finishIfDone(): Promise<boolean>;
  /** The state store as the holder of `t` commits to it: fenced by its lease where others may take it over. */
  holder(state: StateRepository, t: ClaimedTask): StateRepository;
}

/** A shared run's plan in the state store (see state/tasks.ts). */
export class StateTaskQueue implements TaskQueue {
  constructor(
    private readonly state: StateRepository,
    readonly planKey: string,
  ) {}
  claim(w: Worker, leaseMs: number) {
    return this.state.claimTask(this.planKey, w, leaseMs);
  }
  renew(t: ClaimedTask, leaseMs: number) {
    return this.state.renewLease(t, leaseMs);
  }
  finish(t: ClaimedTask, result: unknown) {
    return this.state.finishTask(t, result);
  }
  finishAndClaim(t: ClaimedTask, result: unknown, w: Worker, leaseMs: number) {
    return this.state.finishAndClaim(t, result, w, leaseMs);
  }
  release(t: ClaimedTask, error: string, maxAttempts: number) {
    return this.state.releaseTask(t, error, maxAttempts);
  }
  progress() {
    return this.state.planProgress(this.planKey);
  }
  finishIfDone() {
    return this.state.finishPlanIfDone(this.planKey);
  }
  holder(state: StateRepository, t: ClaimedTask): StateRepository {
    return state.fenced(t);
  }
}

interface LocalTask {
  name: string;
  spec: string;
  status: 'waiting' | 'claimed' | 'done' | 'failed';
  token: number;
  attempts: number;
  result?: unknown;
}

/**
 * The plan of a run no other process joins: nobody else can take a task over, so a lease never
 * runs out and commits need no fence; tasks are claimed in plan order.
 */
export class LocalTaskQueue implements TaskQueue {
  private readonly tasks: LocalTask[];
  constructor(
    readonly planKey: string,
    tasks: Array<{ name: string; spec: string }>,
  ) {
    this.tasks = tasks.map((t) => ({ ...t, status: 'waiting', token: 0, attempts: 0 }));
  }
  claim(_w: Worker, leaseMs: number): Promise<ClaimedTask | undefined> {
    const i = this.tasks.findIndex((t) => t.status === 'waiting');
    if (i < 0) return Promise.resolve(undefined);
    const t = this.tasks[i]!;
    t.status = 'claimed';
    t.token++;
    t.attempts++;
    const at = Date.now();
    return Promise.resolve({
      planKey: this.planKey,
      task: i,
      name: t.name,
      spec: t.spec,
      token: t.token,
      attempts: t.attempts,
      claimedAt: at,
      leaseUntil: at + leaseMs,
    });
  }
  renew(t: ClaimedTask): Promise<boolean> {
    return Promise.resolve(this.held(t) !== undefined);
  }
  finish(t: ClaimedTask, result: unknown): Promise<void> {
    const held = this.held(t);
    if (!held) return Promise.reject(new StaleLeaseError(t));
    held.status = 'done';
    held.result = result;
    return Promise.resolve();
  }
  async finishAndClaim(t: ClaimedTask, result: unknown, w: Worker, leaseMs: number) {
    const finished = await this.finish(t, result).then(
      () => true,
      () => false,
    );
    const next = await this.claim(w, leaseMs);
    return { finished, ...(next ? { next } : {}) };
  }
  release(t: ClaimedTask, error: string, maxAttempts: number): Promise<void> {
    const held = this.held(t);
    if (!held) return Promise.reject(new StaleLeaseError(t));
    held.status = t.attempts >= maxAttempts ? 'failed' : 'waiting';
    held.result = { error };
    return Promise.resolve();
  }
  progress(): Promise<PlanProgress> {
    const p: PlanProgress = { done: 0, failed: 0, claimed: 0, expired: 0, waiting: 0, total: this.tasks.length };
    for (const t of this.tasks) p[t.status]++;
    return Promise.resolve(p);
  }
  async finishIfDone(): Promise<boolean> {
    const p = await this.progress();
    return p.done + p.failed === p.total;
  }
  holder(state: StateRepository): StateRepository {
    return state;
  }
  /** Tasks never claimed (a stop before they started). */
  unclaimed(): string[] {
    return this.tasks.filter((t) => t.status === 'waiting').map((t) => t.name);
  }
  private held(t: ClaimedTask): LocalTask | undefined {
    const held = this.tasks[t.task];
    return held?.status === 'claimed' && held.token === t.token ? held : undefined;
  }
}
