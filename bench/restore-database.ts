/**
 * `npm run bench -- --restore-database`: a whole database back, issue 18's `--jobs 2` target. The
 * database bench's generated schema (`tvbench`, --mix) restored by `tablevault restore <backup dir>
 * --create --jobs N` of an export of every table, beside `pg_restore -j N` of a `pg_dump -Fd` and
 * `myloader -t N` of a `mydumper -t N -c`, same run, same N (--jobs, default 2), round-robin,
 * median of --repeat runs. The export and the dumps are made once, untimed.
 *
 * Every run loads into a scratch database of its own, dropped and made empty before the run and
 * dropped after (untimed): pg_restore has no schema rename, so a scratch database (where the
 * tables keep their schema) is the one target both tools can load into with the same work. Each
 * creates the schema, the tables and their primary keys; after each run (untimed) the scratch
 * database is checked to hold every table, with its key and its rows.
 *
 *   npm run bench -- --restore-database [--jobs 2] [--mix 4x500000,80x0,120x1-100,40x10000]
 *                   [--schema tvbench] [--repeat 3] [--engines pg,mysql] [--out bench/results]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_MIX, describeMix, mixTables, parseMix } from './database-mix.js';
import { ensureMysqlSchema, ensurePgSchema } from './database-schema.js';
import { ensureMydumper } from './database.js';
import { SERVER_PROCESSES, alignedTable, formatLoad, measure, summarizeRuns, type CaseRun } from './measure.js';
import { mysqlCases, pgCases, type Args, type Case } from './restore-database-cases.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

export interface RestoreDatabaseBenchEnv {
  argv: string[];
  root: string;
  pgUrl: string;
  mysqlUrl: string;
}

function parseArgs(argv: string[], root: string): Args {
  const a: Args = { jobs: 2, mix: DEFAULT_MIX, schema: 'tvbench', repeat: 3, engines: ['pg', 'mysql'], out: '' };
  a.out = join(root, 'bench', 'results');
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--restore-database') continue;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--jobs') a.jobs = Number(v);
    else if (flag === '--mix') a.mix = v;
    else if (flag === '--schema') a.schema = v;
    else if (flag === '--repeat') a.repeat = Number(v);
    else if (flag === '--engines') a.engines = v.split(',');
    else if (flag === '--out') a.out = resolve(v);
    else
      throw new Error(
        `unknown argument ${flag}; --restore-database takes --jobs N --mix ${DEFAULT_MIX} --schema NAME --repeat N --engines pg,mysql --out DIR`,
      );
  }
  for (const [flag, n] of [
    ['--jobs', a.jobs],
    ['--repeat', a.repeat],
  ] as const)
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a whole number of at least 1`);
  return a;
}

export async function restoreDatabaseBench(env: RestoreDatabaseBenchEnv): Promise<void> {
  const a = parseArgs(env.argv, env.root);
  const groups = parseMix(a.mix);
  const tables = mixTables(groups);
  const rows = tables.reduce((n, t) => n + t.rows, 0);
  log(`mix: ${describeMix(groups)}`);
  if (a.engines.includes('pg')) await ensurePgSchema(env.pgUrl, a.schema, tables, log);
  if (a.engines.includes('mysql')) {
    ensureMydumper();
    await ensureMysqlSchema(env.mysqlUrl, a.schema, tables, log);
  }
  const cli = join(env.root, 'dist', 'cli.js');
  const work = mkdtempSync(join(os.tmpdir(), 'tv-bench-rsdb-'));
  let cases: Case[] = [];
  const runs = new Map<Case, CaseRun[]>();
  let load: { before: number[]; after: number[] } | undefined;
  try {
    cases = [
      ...(a.engines.includes('pg') ? pgCases(cli, env.pgUrl, a, tables, work) : []),
      ...(a.engines.includes('mysql') ? mysqlCases(cli, env.mysqlUrl, a, tables, work) : []),
    ];
    load = { before: os.loadavg(), after: os.loadavg() };
    // round-robin, so a noisy moment on the shared machine hits every case rather than one
    for (let r = 0; r < a.repeat; r++)
      for (const c of cases) {
        log(`[${r + 1}/${a.repeat}] ${c.engine} ${c.label}`);
        await c.reset(true);
        const m = await measure(c.command, c.env, SERVER_PROCESSES[c.engine]);
        await c.check(m.stdout);
        await c.reset(false);
        const { wallMs, cpuMs, peakRssBytes } = m;
        runs.set(c, [...(runs.get(c) ?? []), { wallMs, cpuMs, serverCpuMs: m.serverCpuMs ?? NaN, peakRssBytes }]);
      }
    load.after = os.loadavg();
  } finally {
    for (const c of cases) await c.reset(false).catch(() => {});
    rmSync(work, { recursive: true, force: true });
  }
  report(a, describeMix(groups), tables.length, rows, cases, runs, load!);
}

function report(
  a: Args,
  mix: string,
  tables: number,
  rows: number,
  cases: Case[],
  runs: Map<Case, CaseRun[]>,
  load: { before: number[]; after: number[] },
): void {
  const results = cases.map((c) => ({
    engine: c.engine,
    name: c.name,
    label: c.label,
    tables,
    ...summarizeRuns(runs.get(c)!, rows),
  }));
  const ratios = ['pg', 'mysql']
    .filter((e) => a.engines.includes(e))
    .map((engine) => {
      const tv = results.find((x) => x.engine === engine && x.name === 'tv_restore')!;
      const dump = results.find((x) => x.engine === engine && x.name === 'dump_restore')!;
      // null where the dump tool's figure is 0 (time(1) counts CPU in 10 ms steps)
      const ratio = (x: number, y: number) => (y > 0 ? x / y : null);
      return {
        engine,
        wall: ratio(tv.wallMs, dump.wallMs),
        cpu: ratio(tv.cpuMs, dump.cpuMs),
        serverCpu: ratio(tv.serverCpuMs, dump.serverCpuMs),
        // client and server CPU together: what the two cores have to get through
        cpuAndServer: ratio(tv.cpuMs + tv.serverCpuMs, dump.cpuMs + dump.serverCpuMs),
        peakRss: ratio(tv.peakRssBytes, dump.peakRssBytes),
      };
    });
  const mb = (b: number) => (b / 1e6).toFixed(1);
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const x = (r: number | null, digits = 2) => (r === null ? '-' : `${r.toFixed(digits)}×`);
  const head = `restore of schema ${a.schema}: ${mix}; --jobs ${a.jobs}, median of ${a.repeat} runs, ${os.cpus().length} cores, node ${process.version}; load average ${formatLoad(load.before)} before, ${formatLoad(load.after)} after`;
  const header = ['engine', 'case', 'wall s', 'cpu s', 'server cpu s', 'rows/s', 'peak RSS MB'];
  const body = results.map((x) => [
    x.engine,
    x.label,
    s(x.wallMs),
    s(x.cpuMs),
    s(x.serverCpuMs),
    String(x.rowsPerSec),
    mb(x.peakRssBytes),
  ]);
  const lines = [head, '', ...alignedTable(header, body), ''];
  lines.push('ratios (tablevault restore / the dump tool’s; targets: wall ≤ 1.0× pg_restore -j and myloader -t):');
  for (const r of ratios)
    lines.push(
      `  ${r.engine}: wall ${x(r.wall)}; cpu ${x(r.cpu)}; server cpu ${x(r.serverCpu)}; cpu+server ${x(r.cpuAndServer)}; peak RSS ${x(r.peakRss, 1)}`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);

  mkdirSync(a.out, { recursive: true });
  const file = join(a.out, `restore-database-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const meta = { date: new Date().toISOString(), schema: a.schema, mix: a.mix, jobs: a.jobs, repeat: a.repeat };
  writeFileSync(
    file,
    `${JSON.stringify({ ...meta, tables, rows, cores: os.cpus().length, node: process.version, load, results, ratios }, null, 2)}\n`,
  );
  log(`results: ${file}`);
}
