/**
 * `npm run bench -- --restore`: `tablevault restore --create` of a tablevault export of the bench
 * table, into PostgreSQL and into MariaDB, beside the dump tools' restores of the same table in the
 * same run: `pg_restore` of a `pg_dump -Fc -t` and `mysql <` a `mysqldump`. Each restore loads into
 * a scratch table that is dropped before and after every run; the export and the dumps are made
 * once, before the timed runs, and are not timed. Round-robin, median of --repeat runs. And the
 * one table over two connections: `--jobs 2` (its objects loaded at once), beside `pg_restore -j 2`
 * of the same dump (which cannot split one table: the honest baseline) and `mysql <` again.
 *
 *   npm run bench -- --restore [--rows 1000000[,N…]] [--repeat 3] [--engines pg,mysql]
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { alignedTable, measure, summarizeRuns } from './measure.js';
import { mysqlSide, pgSide, sh, type EngineSide } from './restore-sides.js';
import { benchTableName, ensureMysqlTable, ensurePgTable } from './tables.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

export interface RestoreBenchArgs {
  rows: number;
  repeat: number;
  engines: string[];
  out: string;
  root: string;
  pgUrl: string;
  mysqlUrl: string;
}

/** The database server's processes, whose CPU a restore mostly is (see Measurement.serverCpuMs). */
const SERVER_PROCESSES: Record<string, readonly string[]> = { pg: ['postgres'], mysql: ['mariadbd', 'mysqld'] };

interface Case {
  engine: string;
  name: 'dump_restore' | 'tv_restore' | 'dump_restore_j2' | 'tv_restore_j2';
  label: string;
  command: string;
  /** Run before and after each timed run (not timed): drops the scratch table. */
  reset: () => void;
  /** Checks the run loaded the table's rows (tablevault's summary; the dump tool's table counted). */
  check: (stdout: string) => void;
}

/**
 * Exports the table with tablevault to a local directory (once, untimed): the backup the restores
 * read, in 10 objects (a table of the default 1M rows an object would be one, which --jobs cannot split).
 */
function tvExport(cli: string, side: EngineSide, table: string, work: string, rows: number): string {
  const dir = join(work, `tv-${side.engine}`);
  mkdirSync(dir, { recursive: true });
  const dest = pathToFileURL(dir).href;
  const out = execFileSync(
    cli,
    [
      ...['--log-level', 'warn', 'export', '--source', side.url, '--table', table, '--dest', dest],
      ...['--file-max-rows', String(Math.ceil(rows / 10)), '--json'],
    ],
    { env: side.env, encoding: 'utf8' },
  );
  return `${dest}/${(JSON.parse(out) as { table: string }).table}`;
}

/** The check of a dump tool's run: the copy it restored holds the bench table's rows, as tablevault's does. */
const countIs = (side: EngineSide, table: string, rows: number) => () => {
  const n = side.count(table);
  if (n !== rows) throw new Error(`the dump tool's restore loaded ${n} rows into ${table}, not ${rows}`);
};

function tvCase(cli: string, side: EngineSide, backup: string, into: string, rows: number, jobs = 1): Case {
  return {
    engine: side.engine,
    name: jobs === 1 ? 'tv_restore' : 'tv_restore_j2',
    label: `tablevault restore --create${jobs === 1 ? '' : ` --jobs ${jobs}`}`,
    // the bin itself (not `node dist/cli.js`), so its shebang flags apply as they do for users
    command: `${cli} --log-level warn restore ${sh(backup)} --target ${sh(side.url)} --table ${into} --create --jobs ${jobs} --json`,
    reset: () => side.sql(`DROP TABLE IF EXISTS ${into}`),
    check: (stdout) => {
      const s = JSON.parse(stdout) as { rows: number };
      if (s.rows !== rows) throw new Error(`tablevault restore loaded ${s.rows} rows, not ${rows}`);
    },
  };
}

/**
 * The dump tools restore a table under the name it was dumped with, so the dump is made of a
 * scratch copy of the bench table (same columns, key and rows) that each run recreates.
 */
function pgCases(cli: string, rows: number, table: string, work: string, pgUrl: string): Case[] {
  const pg = pgSide(pgUrl);
  const copy = `${table}_rs_dump`;
  const dump = join(work, 'pg.dump');
  log(`pg: dumping a copy of ${table} (pg_dump -Fc) and exporting it with tablevault…`);
  pg.sql(`DROP TABLE IF EXISTS ${copy}; CREATE TABLE ${copy} (LIKE ${table} INCLUDING ALL)`);
  pg.sql(`INSERT INTO ${copy} SELECT * FROM ${table}`);
  execFileSync('bash', ['-c', `pg_dump ${pg.conn} -d ${pg.db} -Fc -t ${copy} -f ${dump}`], { env: pg.env });
  pg.sql(`DROP TABLE ${copy}`);
  const backup = tvExport(cli, pg, table, work, rows);
  const reset = (t: string) => () => {
    pg.sql(`DROP TABLE IF EXISTS ${t}`);
    // so the previous run's dirty pages are not written on this run's clock (needs pg_checkpoint or superuser)
    try {
      pg.sql('CHECKPOINT');
    } catch {
      /* without the right, runs just share that noise */
    }
  };
  return [
    {
      engine: 'pg',
      name: 'dump_restore',
      label: 'pg_restore of pg_dump -Fc -t',
      command: `pg_restore ${pg.conn} -d ${pg.db} --no-owner ${dump}`,
      reset: reset(copy),
      check: countIs(pg, copy, rows),
    },
    { ...tvCase(cli, pg, backup, `${table}_rs_tv`, rows), reset: reset(`${table}_rs_tv`) },
    {
      engine: 'pg',
      name: 'dump_restore_j2',
      label: 'pg_restore -j 2 of pg_dump -Fc -t',
      command: `pg_restore ${pg.conn} -d ${pg.db} --no-owner -j 2 ${dump}`,
      reset: reset(copy),
      check: countIs(pg, copy, rows),
    },
    { ...tvCase(cli, pg, backup, `${table}_rs_tv`, rows, 2), reset: reset(`${table}_rs_tv`) },
  ];
}

function mysqlCases(cli: string, rows: number, table: string, work: string, mysqlUrl: string): Case[] {
  const my = mysqlSide(mysqlUrl);
  const copy = `${table}_rs_dump`;
  const dump = join(work, 'mysql.sql');
  log(`mysql: dumping a copy of ${table} (mysqldump) and exporting it with tablevault…`);
  my.sql(
    `DROP TABLE IF EXISTS ${copy}; CREATE TABLE ${copy} LIKE ${table}; INSERT INTO ${copy} SELECT * FROM ${table}`,
  );
  execFileSync('bash', ['-c', `mysqldump ${my.conn} --single-transaction ${my.db} ${copy} > ${dump}`], {
    env: my.env,
  });
  my.sql(`DROP TABLE ${copy}`);
  const backup = tvExport(cli, my, table, work, rows);
  return [
    {
      engine: 'mysql',
      name: 'dump_restore',
      label: 'mysql < mysqldump',
      command: `mysql ${my.conn} -D ${my.db} < ${dump}`,
      reset: () => my.sql(`DROP TABLE IF EXISTS ${copy}`),
      check: countIs(my, copy, rows),
    },
    tvCase(cli, my, backup, `${table}_rs_tv`, rows),
    tvCase(cli, my, backup, `${table}_rs_tv`, rows, 2),
  ];
}

interface Result {
  engine: string;
  name: string;
  label: string;
  runs: Array<{ wallMs: number; cpuMs: number; serverCpuMs: number; peakRssBytes: number }>;
  wallMs: number;
  cpuMs: number;
  serverCpuMs: number;
  peakRssBytes: number;
  rowsPerSec: number;
}

export async function restoreBench(a: RestoreBenchArgs): Promise<void> {
  const cli = join(a.root, 'dist', 'cli.js');
  const table = benchTableName(a.rows);
  if (a.engines.includes('pg')) await ensurePgTable(a.pgUrl, a.rows, log);
  if (a.engines.includes('mysql')) await ensureMysqlTable(a.mysqlUrl, a.rows, log);
  const work = mkdtempSync(join(os.tmpdir(), 'tv-bench-restore-'));
  const envs: Record<string, NodeJS.ProcessEnv> = { pg: pgSide(a.pgUrl).env, mysql: mysqlSide(a.mysqlUrl).env };
  const runs = new Map<Case, Result['runs']>();
  let cases: Case[] = [];
  try {
    cases = [
      ...(a.engines.includes('pg') ? pgCases(cli, a.rows, table, work, a.pgUrl) : []),
      ...(a.engines.includes('mysql') ? mysqlCases(cli, a.rows, table, work, a.mysqlUrl) : []),
    ];
    for (const c of cases) runs.set(c, []);
    // round-robin, so a noisy moment on the shared machine hits every case rather than one
    for (let r = 0; r < a.repeat; r++) {
      for (const c of cases) {
        log(`[${r + 1}/${a.repeat}] ${c.engine} ${c.label}`);
        c.reset();
        const m = await measure(c.command, envs[c.engine], SERVER_PROCESSES[c.engine]);
        c.check(m.stdout);
        c.reset();
        runs.get(c)!.push({
          wallMs: m.wallMs,
          cpuMs: m.cpuMs,
          serverCpuMs: m.serverCpuMs ?? NaN,
          peakRssBytes: m.peakRssBytes,
        });
      }
    }
  } finally {
    for (const c of cases) {
      try {
        c.reset();
      } catch {
        /* best effort: the scratch table may be gone already */
      }
    }
    rmSync(work, { recursive: true, force: true });
  }

  const results: Result[] = cases.map((c) => {
    return { engine: c.engine, name: c.name, label: c.label, ...summarizeRuns(runs.get(c)!, a.rows) };
  });
  const ratios = ['pg', 'mysql']
    .filter((e) => a.engines.includes(e))
    .map((engine) => {
      const get = (n: string) => results.find((x) => x.engine === engine && x.name === n)!;
      const tv = get('tv_restore');
      const dump = get('dump_restore');
      // two connections: against one, and against the dump tool's -j 2 (mysql < has none: its one)
      const j2 = get('tv_restore_j2');
      const dumpJ2 = results.find((x) => x.engine === engine && x.name === 'dump_restore_j2') ?? dump;
      return {
        engine,
        jobs2VsJobs1: j2.wallMs / tv.wallMs,
        jobs2VsDumpRestoreJ2: j2.wallMs / dumpJ2.wallMs,
        wallVsDumpRestore: tv.wallMs / dump.wallMs,
        // client and server CPU together: what the two cores have to get through
        cpuVsDumpRestore: (tv.cpuMs + tv.serverCpuMs) / (dump.cpuMs + dump.serverCpuMs),
        peakRssBytes: tv.peakRssBytes,
        peakRssVsDumpRestore: tv.peakRssBytes / dump.peakRssBytes,
      };
    });

  const mb = (b: number) => (b / 1e6).toFixed(1);
  const lines = [
    `restore of ${a.rows} rows (${table}), median of ${a.repeat} runs, ${os.cpus().length} cores, node ${process.version}`,
    '',
  ];
  const header = ['engine', 'case', 'wall s', 'cpu s', 'server cpu s', 'rows/s', 'peak RSS MB'];
  const body = results.map((x) => [
    x.engine,
    x.label,
    (x.wallMs / 1000).toFixed(2),
    (x.cpuMs / 1000).toFixed(2),
    (x.serverCpuMs / 1000).toFixed(2),
    String(x.rowsPerSec),
    mb(x.peakRssBytes),
  ]);
  lines.push(...alignedTable(header, body));
  lines.push(
    '',
    'ratios (tablevault restore / the dump tool’s restore; targets (issue 18): wall ≤ 1.0×, peak RSS ≤ 200 MB):',
  );
  for (const r of ratios)
    lines.push(
      `  ${r.engine}: wall ${r.wallVsDumpRestore.toFixed(2)}×; cpu+server ${r.cpuVsDumpRestore.toFixed(2)}×; peak RSS ${mb(r.peakRssBytes)} MB (${r.peakRssVsDumpRestore.toFixed(1)}×); --jobs 2 wall ${r.jobs2VsJobs1.toFixed(2)}× --jobs 1, ${r.jobs2VsDumpRestoreJ2.toFixed(2)}× the dump tool's with 2`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);

  mkdirSync(a.out, { recursive: true });
  const file = join(a.out, `restore-${a.rows}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), rows: a.rows, repeat: a.repeat, cores: os.cpus().length, node: process.version, results, ratios }, null, 2)}\n`,
  );
  log(`results: ${file}`);
}
