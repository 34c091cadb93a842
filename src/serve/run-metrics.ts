import { Gauge, type Registry } from 'prom-client';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { openState, type PlanProgress, type StateRepository } from '../state/repository.js';

export type RunTaskCounts = PlanProgress & { runs: number };

export const TASK_STATES = ['done', 'claimed', 'expired', 'waiting', 'failed'] as const;

/**
 * The tasks of the strategy's shared runs in progress, by state, read from the state store when
 * scraped: every process working the run (this one, other serve replicas, backup --join pods)
 * shows in them, so each replica exports the same numbers (aggregate with max, not sum).
 */
export class RunTaskGauges {
  private readonly tasks: Gauge;
  private readonly runs: Gauge;

  constructor(registry: Registry) {
    this.tasks = new Gauge({
      name: 'tablevault_run_tasks',
      help: "Tasks of the strategy's shared runs in progress, by state (expired: claimed, its lease ran out), from the state store",
      labelNames: ['state'],
      registers: [registry],
    });
    this.runs = new Gauge({
      name: 'tablevault_shared_runs_in_progress',
      help: "The strategy's shared runs not yet done, from the state store",
      registers: [registry],
    });
  }

  /** The counts of a scrape; undefined (the state store could not be read) exports no sample rather than stale ones. */
  set(c: RunTaskCounts | undefined): void {
    this.tasks.reset();
    this.runs.reset();
    if (!c) return;
    for (const state of TASK_STATES) this.tasks.set({ state }, c[state]);
    this.runs.set(c.runs);
  }
}

/**
 * Reads the counts for each scrape over one connection of its own, opened at the first scrape
 * and kept (scrapes every 15-60 s would otherwise open one each). A failure is logged once until
 * a read succeeds again, and the scrape goes on without these gauges.
 */
export function runTaskReader(
  url: string,
  strategy: string,
  log: Logger,
): { read: () => Promise<RunTaskCounts | undefined>; close: () => Promise<void> } {
  let state: Promise<StateRepository> | undefined;
  let failing = false;
  return {
    read: async () => {
      try {
        state ??= openState(url, { maxConnections: 1 });
        const c = await (await state).readyTaskCounts(strategy);
        failing = false;
        return c;
      } catch (e) {
        // opened again at the next scrape (the state store may have been down, or not yet migrated)
        const dead = state;
        state = undefined;
        void dead?.then((s) => s.close()).catch(() => {});
        if (!failing)
          log.warn({ err: errorMessage(e) }, "/metrics: cannot read the shared runs' tasks from the state store");
        failing = true;
        return undefined;
      }
    },
    close: async () => {
      if (state) await (await state).close().catch(() => {});
    },
  };
}
