import { loadStrategy } from '../config/strategy.js';
import { openState, type PlanStatus } from '../state/repository.js';
import { stateUrl } from '../state/url.js';

/**
 * The strategy's shared runs (`backup --join`, `serve --join`) still in progress, and the latest
 * finished one: tasks done, claimed (by which worker, on which host, with how long its lease has
 * left), waiting, failed, and claims whose lease ran out (their worker stopped renewing: another
 * worker takes them over). Only the state store is read. Runs are matched by the strategy file
 * as the workers named it (e.g. /etc/tablevault/strategy.yaml in deploy/kubernetes).
 *
 * @example
 * ```ts
 * import { sharedRunStatus } from 'tablevault';
 *
 * for (const run of await sharedRunStatus({ strategy: '/etc/tablevault/strategy.yaml' })) {
 *   console.log(run.planKey, run.counts, run.held.map((t) => `${t.name} ${t.owner} ${t.leaseLeftMs}ms`));
 * }
 * ```
 */
export async function sharedRunStatus(opts: { strategy: string; state?: string }): Promise<PlanStatus[]> {
  const strategy = loadStrategy(opts.strategy);
  const state = await openState(stateUrl(opts.state, strategy), { maxConnections: 1 });
  try {
    await state.migrate();
    return await state.activePlans(strategy.file, { latestDone: true });
  } finally {
    await state.close().catch(() => {});
  }
}
