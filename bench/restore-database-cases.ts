/**
 * The whole-database restore bench's cases: `tablevault restore <backup dir> --create --jobs N` of
 * an export of the schema, and `pg_restore -j N` of a `pg_dump -Fd` / `myloader -t N` of a
 * `mydumper -t N -c`, each into a scratch database of its own (see restore-database.ts).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { mysqlClient, pgClient, sh } from './database-cases.js';
import type { MixTable } from './database-mix.js';
import { mysqlConnect } from './tables.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

export interface Args {
  jobs: number;
  mix: string;
  schema: string;
  repeat: number;
  engines: string[];
  out: string;
}

export interface Case {
  engine: 'pg' | 'mysql';
  name: 'tv_restore' | 'dump_restore';
  label: string;
  command: string;
  env: NodeJS.ProcessEnv;
  /** Untimed, before and after each run: the case's scratch database dropped (and, before, made empty). */
  reset: (again: boolean) => Promise<void>;
  /** Untimed, after each run: throws unless the scratch database holds every table, keyed, with its rows. */
  check: (stdout: string) => Promise<void>;
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.href;
}

/** The tablevault export of every table of the schema (once, untimed): the backup its restores read. */
function tvExport(cli: string, url: string, a: Args, work: string, engine: string): string {
  const dir = join(work, `tv-${engine}`);
  mkdirSync(dir, { recursive: true });
  const dest = pathToFileURL(dir).href;
  const args = ['--log-level', 'warn', 'export', '--source', url, '--table', `${a.schema}.*`, '--dest', dest];
  execFileSync(cli, [...args, '--parallel', String(a.jobs), '--json'], { stdio: ['ignore', 'ignore', 'inherit'] });
  return dest;
}

/** The tablevault restore's summary must name every table, none failed. */
function tvChecked(stdout: string, tables: number): void {
  const s = JSON.parse(stdout) as { tables: unknown[]; failed: number };
  if (s.tables.length !== tables || s.failed !== 0)
    throw new Error(`tablevault restored ${s.tables.length} tables (${s.failed} failed), not ${tables}`);
}

function expectLoaded(what: string, tables: readonly MixTable[], keyed: number, counts: Map<string, number>): void {
  const wrong = tables.filter((t) => counts.get(t.name) !== t.rows);
  if (wrong.length || keyed !== tables.length)
    throw new Error(
      `${what}: ${keyed} of ${tables.length} tables have a primary key; wrong or missing: ${wrong
        .slice(0, 3)
        .map((t) => `${t.name} (${counts.get(t.name) ?? 'none'} rows, not ${t.rows})`)
        .join(', ')}`,
    );
}

export function pgCases(cli: string, url: string, a: Args, tables: readonly MixTable[], work: string): Case[] {
  const { conn, env } = pgClient(url);
  const host = conn.replace(/ -d \S+$/, '');
  log(`pg: exporting ${a.schema}.* with tablevault and dumping it (pg_dump -Fd -j ${a.jobs})…`);
  const backup = tvExport(cli, url, a, work, 'pg');
  const dump = join(work, 'pg_dump');
  execFileSync('bash', ['-c', `pg_dump ${conn} -Fd -j ${a.jobs} -n ${a.schema} -f ${sh(dump)}`], { env });
  const admin = async (f: (c: pg.Client) => Promise<unknown>) => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      await f(c);
    } finally {
      await c.end();
    }
  };
  const scratch = (db: string) => async (again: boolean) =>
    admin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      if (again) await c.query(`CREATE DATABASE ${db}`);
      // so the previous run's dirty pages are not written on this run's clock
      await c.query('CHECKPOINT').catch(() => {});
    });
  const check = (db: string) => async () => {
    const c = new pg.Client({ connectionString: withDatabase(url, db) });
    await c.connect();
    try {
      const keyed = await c.query(
        `SELECT count(*)::int AS n FROM pg_constraint k JOIN pg_namespace s ON s.oid = k.connamespace
         WHERE s.nspname = $1 AND k.contype = 'p'`,
        [a.schema],
      );
      const counts = new Map<string, number>();
      for (const t of tables) {
        const r = await c.query(`SELECT count(*)::int AS n FROM ${a.schema}.${t.name}`).catch(() => undefined);
        if (r) counts.set(t.name, r.rows[0].n as number);
      }
      expectLoaded(`pg ${db}`, tables, keyed.rows[0].n as number, counts);
    } finally {
      await c.end();
    }
  };
  const tvDb = `${a.schema}_rs_tv`;
  const dumpDb = `${a.schema}_rs_dump`;
  return [
    {
      engine: 'pg',
      name: 'tv_restore',
      label: `tablevault restore --create --jobs ${a.jobs}`,
      // the bin itself (not `node dist/cli.js`), so its shebang flags apply as they do for users
      command: `${cli} --log-level warn restore ${sh(backup)} --target ${sh(withDatabase(url, tvDb))} --target-schema ${a.schema} --create --jobs ${a.jobs} --json`,
      env,
      reset: scratch(tvDb),
      check: async (stdout) => {
        tvChecked(stdout, tables.length);
        await check(tvDb)();
      },
    },
    {
      engine: 'pg',
      name: 'dump_restore',
      label: `pg_restore -j ${a.jobs} of pg_dump -Fd`,
      command: `pg_restore ${host} -d ${dumpDb} --no-owner -j ${a.jobs} ${sh(dump)}`,
      env,
      reset: scratch(dumpDb),
      check: check(dumpDb),
    },
  ];
}

export function mysqlCases(cli: string, url: string, a: Args, tables: readonly MixTable[], work: string): Case[] {
  const { myd, env } = mysqlClient(url, work);
  log(`mysql: exporting ${a.schema}.* with tablevault and dumping it (mydumper -t ${a.jobs} -c)…`);
  const backup = tvExport(cli, url, a, work, 'mysql');
  const dump = join(work, 'mydumper');
  // as the database bench dumps it: compressed (pg_dump -Fd compresses too), InnoDB snapshot only
  execFileSync('bash', ['-c', `mydumper ${myd} -t ${a.jobs} -c --trx-consistency-only -B ${a.schema} -o ${sh(dump)}`], {
    env,
  });
  const admin = async (f: (c: Awaited<ReturnType<typeof mysqlConnect>>) => Promise<unknown>) => {
    const c = await mysqlConnect(url);
    try {
      await f(c);
    } finally {
      await c.end();
    }
  };
  const scratch = (db: string) => async (again: boolean) =>
    admin(async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${db}`);
      if (again) await c.query(`CREATE DATABASE ${db} CHARACTER SET utf8mb4`);
    });
  const check = (db: string) => () =>
    admin(async (c) => {
      const [k] = await c.query(
        `SELECT COUNT(*) AS n FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = ? AND CONSTRAINT_TYPE = 'PRIMARY KEY'`,
        [db],
      );
      const counts = new Map<string, number>();
      for (const t of tables) {
        const r = await c.query(`SELECT COUNT(*) AS n FROM ${db}.${t.name}`).catch(() => undefined);
        if (r) counts.set(t.name, Number((r[0] as Array<{ n: number }>)[0]!.n));
      }
      expectLoaded(`mysql ${db}`, tables, Number((k as Array<{ n: number }>)[0]!.n), counts);
    });
  const tvDb = `${a.schema}_rs_tv`;
  const dumpDb = `${a.schema}_rs_dump`;
  return [
    {
      engine: 'mysql',
      name: 'tv_restore',
      label: `tablevault restore --create --jobs ${a.jobs}`,
      command: `${cli} --log-level warn restore ${sh(backup)} --target ${sh(withDatabase(url, tvDb))} --target-schema ${tvDb} --create --jobs ${a.jobs} --json`,
      env,
      reset: scratch(tvDb),
      check: async (stdout) => {
        tvChecked(stdout, tables.length);
        await check(tvDb)();
      },
    },
    {
      engine: 'mysql',
      name: 'dump_restore',
      label: `myloader -t ${a.jobs} of mydumper -t ${a.jobs} -c`,
      command: `myloader ${myd} -d ${sh(dump)} -B ${dumpDb} -o -t ${a.jobs}`,
      env,
      reset: scratch(dumpDb),
      check: check(dumpDb),
    },
  ];
}
