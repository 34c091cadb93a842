import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StateTaskQueue } from '../../src/backup/task-queue.js';
import { workPlan } from '../../src/backup/work-plan.js';
import { openState, type ClaimedTask, type StateRepository } from '../../src/state/repository.js';
import { StaleLeaseError } from '../../src/state/tasks.js';
import { MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';

/**
 * The shared run's task queue at scale, against each state store (issue 20): 64 workers, each
 * with a connection of its own as if on its own host, work a plan of 500 tasks (10,000 with
 * TABLEVAULT_TEST_CLAIM_TASKS=10000; bench/claims.ts measures the rate); 4 more claim
 * one task each and then stop as if killed (no heartbeat, no commit). Every task is done exactly
 * once, by the holder of its newest lease; no task is claimed while another claim's lease is
 * alive; and the stopped workers, resumed after their leases were taken over, cannot commit.
 */

const STATE_DB = 'tv_claims_state';
const TASKS = Number(process.env.TABLEVAULT_TEST_CLAIM_TASKS ?? 500);
const WORKERS = 64;
const STOPPED = 4;
const LEASE_MS = 1500;

const engines = [
  {
    name: 'PostgreSQL',
    url: Object.assign(new URL(PG_URL), { pathname: `/${STATE_DB}` }).href,
    fresh: () =>
      withPg(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${STATE_DB}`);
      }),
    drop: () => withPg((c) => c.query(`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`)),
  },
  {
    name: 'MariaDB',
    url: Object.assign(new URL(MYSQL_URL), { pathname: `/${STATE_DB}` }).href,
    fresh: () =>
      withMysql(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${STATE_DB}`);
        await c.query(`CREATE DATABASE ${STATE_DB}`);
      }),
    drop: () => withMysql((c) => c.query(`DROP DATABASE IF EXISTS ${STATE_DB}`)),
  },
];

interface Claim {
  task: number;
  token: number;
  claimedAt: number;
  leaseUntil: number;
  worker: string;
}

describe.each(engines)('shared run task queue ($name)', (e) => {
  const plan = (planKey: string, backupRun: string, n: number) => ({
    planKey,
    backupRun,
    strategy: 's.yaml',
    plannedBy: backupRun,
    tasks: Array.from({ length: n }, (_, i) => ({ name: `t${i}`, spec: JSON.stringify({ i }) })),
  });
  let main: StateRepository;
  const claims: Claim[] = [];
  const stopped: ClaimedTask[] = [];
  let planners: Array<{ planned: boolean; backupRun: string }>;
  let done = 0;

  beforeAll(async () => {
    await e.fresh();
    main = await openState(e.url);
    await main.migrate();
    // eight processes arrive at once to plan the same run
    const arriving = await Promise.all(Array.from({ length: 8 }, () => openState(e.url, { maxConnections: 1 })));
    planners = await Promise.all(arriving.map((s, i) => s.planRun(plan('run-1', `b-${i}`, TASKS))));
    await Promise.all(arriving.map((s) => s.close()));
    const workers = await Promise.all(
      Array.from({ length: WORKERS + STOPPED }, () => openState(e.url, { maxConnections: 1 })),
    );
    try {
      // the stopped ones take their task first, so others must wait out their leases
      for (let k = 0; k < STOPPED; k++) {
        const t = (await workers[WORKERS + k]!.claimTask('run-1', { id: `stopped-${k}`, host: 'h' }, LEASE_MS))!;
        claims.push({
          task: t.task,
          token: t.token,
          claimedAt: t.claimedAt,
          leaseUntil: t.leaseUntil,
          worker: `stopped-${k}`,
        });
        stopped.push(t);
      }
      const results = await Promise.all(
        workers.slice(0, WORKERS).map((s, k) =>
          workPlan(
            new StateTaskQueue(s, 'run-1'),
            { id: `w${k}`, host: `host-${k % 8}` },
            { leaseMs: LEASE_MS, pollMs: 50 },
            async ({ task }) => {
              claims.push({
                task: task.task,
                token: task.token,
                claimedAt: task.claimedAt,
                leaseUntil: task.leaseUntil,
                worker: `w${k}`,
              });
              return { worker: `w${k}`, token: task.token };
            },
          ),
        ),
      );
      done = results.reduce((n, r) => n + r.done, 0);
    } finally {
      await Promise.all(workers.map((s) => s.close()));
    }
  }, 240_000);

  afterAll(async () => {
    await main.close();
    await e.drop();
  });

  it('plans a run once however many processes arrive at once, and all of them work that plan', () => {
    expect(planners.filter((p) => p.planned)).toHaveLength(1);
    expect(new Set(planners.map((p) => p.backupRun)).size).toBe(1);
  });

  it('finishes every task exactly once', async () => {
    expect(done).toBe(TASKS);
    expect(await main.planProgress('run-1')).toMatchObject({ done: TASKS, total: TASKS, failed: 0 });
  });

  it('has each task finished by the holder of its newest lease', async () => {
    const rows = await main.planTasks('run-1');
    for (const r of rows) expect(JSON.parse(r.result!).token, `task ${r.task}`).toBe(Number(r.token));
  });

  it('never claims a task while another claim of it holds a live lease', () => {
    const byTask = new Map<number, Claim[]>();
    for (const c of claims) byTask.set(c.task, [...(byTask.get(c.task) ?? []), c]);
    for (const [task, cs] of byTask) {
      cs.sort((a, b) => a.token - b.token);
      expect(
        cs.map((c) => c.token),
        `task ${task}`,
      ).toEqual(cs.map((_, i) => i + 1));
      for (let i = 1; i < cs.length; i++)
        expect(cs[i]!.claimedAt, `task ${task}`).toBeGreaterThan(cs[i - 1]!.leaseUntil);
    }
    // the stopped workers' tasks were taken over once their leases ran out
    for (const t of stopped) expect(byTask.get(t.task)).toHaveLength(2);
  });

  it('refuses the commit of a worker resumed after its lease was taken over', async () => {
    for (const t of stopped) await expect(main.finishTask(t, { late: true })).rejects.toBeInstanceOf(StaleLeaseError);
  });

  it('refuses a renewal of a lease that was taken over', async () => {
    for (const t of stopped) expect(await main.renewLease(t, LEASE_MS)).toBe(false);
  });

  it('records the plan done', async () => {
    expect(await main.finishPlanIfDone('run-1')).toBe(true);
  });
});

describe.each(engines)('a task held past its lease ($name)', (e) => {
  let state: StateRepository;
  const planOf = (planKey: string) => ({
    planKey,
    backupRun: planKey,
    strategy: 's.yaml',
    plannedBy: 'test',
    tasks: [{ name: 'only', spec: '{}' }],
  });

  beforeAll(async () => {
    await e.fresh();
    state = await openState(e.url);
    await state.migrate();
  });

  afterAll(async () => {
    await state.close();
    await e.drop();
  });

  it('stays its holder’s while the heartbeat renews the lease', async () => {
    await state.planRun(planOf('renewed'));
    const other = await openState(e.url, { maxConnections: 1 });
    try {
      // The lease is long enough that a pause of this test process (a major GC of the heap the
      // files before left behind) cannot outlast it between two beats (300 ms did, once, in CI),
      // and the task runs more than twice as long as the lease.
      const holder = workPlan(
        new StateTaskQueue(state, 'renewed'),
        { id: 'a', host: 'h' },
        { leaseMs: 1000 },
        async () => {
          await new Promise((r) => setTimeout(r, 2500));
          // meanwhile another worker finds nothing to take over
          return 'a';
        },
      );
      // past the end of the first lease, had it not been renewed
      await new Promise((r) => setTimeout(r, 1300));
      const idle = await workPlan(
        new StateTaskQueue(other, 'renewed'),
        { id: 'b', host: 'h' },
        { leaseMs: 1000, exitWhenIdle: true },
        async () => 'b',
      );
      expect(idle.done).toBe(0);
      expect((await holder).done).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('is not finished by a worker frozen past its lease (no heartbeat), and is done once after', async () => {
    await state.planRun(planOf('frozen'));
    const r = await workPlan(
      new StateTaskQueue(state, 'frozen'),
      { id: 'a', host: 'h' },
      { leaseMs: 200 },
      async ({ task }) => {
        if (task.token === 1) {
          const until = Date.now() + 700; // the whole process stops: no heartbeat is sent
          while (Date.now() < until);
        }
        return task.token;
      },
    );
    expect(r).toMatchObject({ lost: 1, done: 1, complete: true });
    const [row] = await state.planTasks('frozen');
    expect(JSON.parse(row!.result!)).toBe(Number(row!.token));
    expect(Number(row!.token)).toBe(2);
  });
});
