import type { PlanStatus } from '../state/repository.js';

const seconds = (ms: number) => `${Math.round(Math.abs(ms) / 1000)}s`;

/**
 * `status`: the strategy's shared runs, after its tables. A run in progress: its tasks by state,
 * then each claimed one (the worker, its host, the lease's time left, or how long ago it ran out)
 * and each failed one; the latest finished run in one line.
 */
export function sharedRunsText(runs: PlanStatus[]): string {
  const out: string[] = [];
  for (const r of runs) {
    const c = r.counts;
    const counts = [
      `${c.done} done`,
      `${c.claimed} claimed`,
      ...(c.expired ? [`${c.expired} expired`] : []),
      `${c.waiting} waiting`,
      ...(c.failed ? [`${c.failed} failed`] : []),
    ].join(', ');
    if (r.status === 'done') {
      out.push(`last shared run ${r.planKey}: done ${r.finishedAt ?? ''}, ${c.total} tasks: ${counts}`);
      continue;
    }
    out.push(
      `shared run ${r.planKey} in progress (backup run ${r.backupRun}, planned by ${r.plannedBy} at ${r.createdAt}): ${c.total} tasks: ${counts}`,
    );
    for (const t of r.held)
      out.push(
        t.expired
          ? `  ${t.name}: lease expired ${seconds(t.leaseLeftMs)} ago (held by ${t.owner ?? '?'} on ${t.host ?? '?'}, attempt ${t.attempts}); the next claim takes it over`
          : `  ${t.name}: claimed by ${t.owner ?? '?'} on ${t.host ?? '?'}, lease ${seconds(t.leaseLeftMs)} left (attempt ${t.attempts})`,
      );
    for (const t of r.failed)
      out.push(`  ${t.name}: failed after ${t.attempts} attempt(s)${t.error ? `: ${t.error}` : ''}`);
  }
  return out.map((l) => `${l}\n`).join('');
}
