import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sharedRunStatus } from '../../src/backup/shared-runs.js';
import { sharedRunsText } from '../../src/cli/shared-runs-text.js';
import { silentLogger } from '../../src/log.js';
import { runTaskReader } from '../../src/serve/run-metrics.js';
import { ServeMetrics } from '../../src/serve/serve.js';
import { openState, type PlanStatus, type StateRepository } from '../../src/state/repository.js';
import { MYSQL_URL, PG_URL, withDatabase, withMysql, withPg } from '../helpers/db.js';

/**
 * status and /metrics of a shared run in progress (issue 20), against each state store, with
 * the repository API only (no backup runs): a plan of six tasks, one done, two held under live
 * leases by two workers, one whose lease ran out, one failed, one waiting; an older run of the
 * same strategy finished, and a run of another strategy beside them.
 */

const STATE_DB = 'tv_runstatus_state';
const LONG = 10 * 60_000;

const engines = [
  {
    name: 'PostgreSQL',
    url: withDatabase(PG_URL, STATE_DB),
    fresh: () =>
      withPg(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${STATE_DB}`);
      }),
    drop: () => withPg((c) => c.query(`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`)),
  },
  {
    name: 'MariaDB',
    url: withDatabase(MYSQL_URL, STATE_DB),
    fresh: () =>
      withMysql(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${STATE_DB}`);
        await c.query(`CREATE DATABASE ${STATE_DB}`);
      }),
    drop: () => withMysql((c) => c.query(`DROP DATABASE IF EXISTS ${STATE_DB}`)),
  },
];

const tasks = (n: number) => Array.from({ length: n }, (_, i) => ({ name: `public.t${i}`, spec: '{}' }));
const worker = (id: string) => ({ id, host: `host-${id}` });

describe.each(engines)('shared run status ($name)', (e) => {
  let dir: string;
  let file: string;
  let state: StateRepository;
  let runs: PlanStatus[];

  beforeAll(async () => {
    await e.fresh();
    dir = mkdtempSync(join(tmpdir(), 'tv-runstatus-'));
    file = join(dir, 'strategy.yaml');
    writeFileSync(
      file,
      `source: ${e.url}\ndestination: s3://backups/nightly\ntables:\n  - table: public.t0\n    strategy: full\n`,
    );
    state = await openState(e.url);
    await state.migrate();

    const plan = (planKey: string, strategy: string, n: number) =>
      state.planRun({ planKey, backupRun: `b-${planKey}`, strategy, plannedBy: 'w1', tasks: tasks(n) });
    await plan('old-run', file, 2);
    for (let i = 0; i < 2; i++) await state.finishTask((await state.claimTask('old-run', worker('w1'), LONG))!, {});
    await state.finishPlanIfDone('old-run');
    await plan('other-run', join(dir, 'other.yaml'), 3);

    await plan('run', file, 6);
    const claim = (w: string, leaseMs: number) => state.claimTask('run', worker(w), leaseMs).then((t) => t!);
    await state.finishTask(await claim('w1', LONG), { rows: 1 }); // public.t0 done
    await claim('w1', LONG); // public.t1 held by w1
    await claim('w2', LONG); // public.t2 held by w2
    await claim('w3', 1_000); // public.t3: w3 stops renewing
    await state.releaseTask(await claim('w2', LONG), 'source went away', 1); // public.t4 failed
    // public.t5 waiting; wait for w3's lease to run out on the state database's clock
    while ((await state.planProgress('run')).expired === 0) await new Promise((r) => setTimeout(r, 100));
    runs = await sharedRunStatus({ strategy: file });
  });

  afterAll(async () => {
    await state?.close();
    await e.drop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('counts the tasks of the run in progress by state', () => {
    expect(runs[0]).toMatchObject({ planKey: 'run', status: 'ready', backupRun: 'b-run', plannedBy: 'w1' });
    expect(runs[0]!.counts).toEqual({ done: 1, claimed: 2, expired: 1, waiting: 1, failed: 1, total: 6 });
  });

  it('names the worker and host of each claimed task, with the lease time left', () => {
    const live = runs[0]!.held.filter((t) => !t.expired);
    expect(live.map((t) => [t.name, t.owner, t.host])).toEqual([
      ['public.t1', 'w1', 'host-w1'],
      ['public.t2', 'w2', 'host-w2'],
    ]);
    for (const t of live) expect(t.leaseLeftMs).toBeGreaterThan(0);
    for (const t of live) expect(t.leaseLeftMs).toBeLessThanOrEqual(LONG);
  });

  it('shows a claim whose lease ran out as expired, with its last holder', () => {
    const expired = runs[0]!.held.filter((t) => t.expired);
    expect(expired.map((t) => [t.name, t.owner, t.host])).toEqual([['public.t3', 'w3', 'host-w3']]);
    expect(expired[0]!.leaseLeftMs).toBeLessThan(0);
  });

  it('lists the failed task with its error', () => {
    expect(runs[0]!.failed).toEqual([{ task: 4, name: 'public.t4', attempts: 1, error: 'source went away' }]);
  });

  it("shows the strategy's latest finished run by its counts, and no run of another strategy", () => {
    expect(runs.map((r) => [r.planKey, r.status])).toEqual([
      ['run', 'ready'],
      ['old-run', 'done'],
    ]);
    expect(runs[1]!.counts).toMatchObject({ done: 2, total: 2 });
    expect(runs[1]!.held).toEqual([]);
  });

  it("status's text names each holder, the expired lease and the failed task", () => {
    const text = sharedRunsText(runs);
    expect(text).toContain('shared run run in progress');
    expect(text).toContain('6 tasks: 1 done, 2 claimed, 1 expired, 1 waiting, 1 failed');
    expect(text).toMatch(/public\.t1: claimed by w1 on host-w1, lease \d+s left \(attempt 1\)/);
    expect(text).toMatch(/public\.t3: lease expired \d+s ago \(held by w3 on host-w3, attempt 1\)/);
    expect(text).toContain('public.t4: failed after 1 attempt(s): source went away');
    expect(text).toContain('last shared run old-run: done');
  });

  it('/metrics exports the tasks of the runs in progress by state, read when scraped', async () => {
    const metrics = new ServeMetrics();
    const reader = runTaskReader(e.url, file, silentLogger());
    metrics.watchRuns(reader.read);
    try {
      const text = await metrics.text();
      for (const [state, n] of Object.entries({ done: 1, claimed: 2, expired: 1, waiting: 1, failed: 1 }))
        expect(text).toContain(`tablevault_run_tasks{state="${state}"} ${n}\n`);
      expect(text).toContain('tablevault_shared_runs_in_progress 1\n');
    } finally {
      await reader.close();
    }
  });

  it('/metrics leaves the task gauges out while the state store cannot be read', async () => {
    const metrics = new ServeMetrics();
    const reader = runTaskReader(withDatabase(e.url, 'tv_runstatus_missing'), file, silentLogger());
    metrics.watchRuns(reader.read);
    try {
      const text = await metrics.text();
      expect(text).not.toContain('tablevault_run_tasks{');
      expect(text).toContain('tablevault_up 1');
    } finally {
      await reader.close();
    }
  });
});
