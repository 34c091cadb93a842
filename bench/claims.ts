/**
 * `npm run build && node dist-bench/claims.js [--tasks 10000] [--workers 1,8,64] [--engines pg,mysql]`:
 * the shared run's task queue (issue 20) without reads: W workers, each with one connection of its
 * own as if on its own host, claim and finish T no-op tasks of one plan. Prints, per case, the
 * claim rate (tasks/s) and, on PostgreSQL, the state store's transactions per task (its own
 * database's xact_commit: claims, finishes and the looks of workers that found nothing). Never fails.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import { StateTaskQueue } from '../dist/backup/task-queue.js';
import { workPlan } from '../dist/backup/work-plan.js';
import { openState } from '../dist/state/repository.js';

const PG_URL = process.env.TABLEVAULT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.TABLEVAULT_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const DB = 'tv_bench_claims';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

const withDb = (url: string) => Object.assign(new URL(url), { pathname: `/${DB}` }).href;

async function pgCommits(): Promise<number> {
  const c = new pg.Client({ connectionString: PG_URL });
  await c.connect();
  try {
    await c.query('SELECT pg_stat_clear_snapshot()');
    const r = await c.query<{ n: string }>('SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1', [DB]);
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}

async function freshDb(engine: 'pg' | 'mysql'): Promise<void> {
  if (engine === 'pg') {
    const c = new pg.Client({ connectionString: PG_URL });
    await c.connect();
    await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DB}`);
    await c.end();
  } else {
    const c = await mysql.createConnection(MYSQL_URL);
    await c.query(`DROP DATABASE IF EXISTS ${DB}`);
    await c.query(`CREATE DATABASE ${DB}`);
    await c.end();
  }
}

async function run(engine: 'pg' | 'mysql', tasks: number, workers: number): Promise<void> {
  const url = withDb(engine === 'pg' ? PG_URL : MYSQL_URL);
  const main = await openState(url);
  await main.migrate();
  const planKey = `bench-${workers}-${Date.now()}`;
  await main.planRun({
    planKey,
    backupRun: planKey,
    strategy: 'bench',
    plannedBy: 'bench',
    tasks: Array.from({ length: tasks }, (_, i) => ({ name: `t${i}`, spec: '{}' })),
  });
  const ws = await Promise.all(Array.from({ length: workers }, () => openState(url, { maxConnections: 1 })));
  // a pg_stat_database counter is reported with a delay; give it the moment it needs
  await new Promise((r) => setTimeout(r, 600));
  const before = engine === 'pg' ? await pgCommits() : 0;
  const t0 = performance.now();
  const results = await Promise.all(
    ws.map((s, k) =>
      workPlan(
        new StateTaskQueue(s, planKey),
        { id: `w${k}`, host: 'bench' },
        { leaseMs: 30_000, pollMs: 20 },
        async () => 1,
      ),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  await new Promise((r) => setTimeout(r, 600));
  const commits = engine === 'pg' ? (await pgCommits()) - before : NaN;
  const done = results.reduce((n, r) => n + r.done, 0);
  console.log(
    `${engine.padEnd(6)} ${String(workers).padStart(3)} workers  ${String(tasks).padStart(6)} tasks  ${seconds.toFixed(2).padStart(7)} s  ` +
      `${Math.round(tasks / seconds)
        .toString()
        .padStart(
          6,
        )} tasks/s  ${engine === 'pg' ? `${(commits / tasks).toFixed(2)} transactions/task` : ''}  done ${done}`,
  );
  await Promise.all(ws.map((s) => s.close()));
  await main.close();
}

const tasks = Number(arg('--tasks', '10000'));
const workerCounts = arg('--workers', '1,8,64').split(',').map(Number);
const engines = arg('--engines', 'pg,mysql').split(',') as Array<'pg' | 'mysql'>;
for (const engine of engines) {
  await freshDb(engine);
  for (const w of workerCounts) await run(engine, tasks, w);
}
