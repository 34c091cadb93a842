/**
 * `npm run bench -- --database`: a whole-database backup. A generated schema of many small tables
 * and a few large ones, in the bench table's shape (`tvbench` in PostgreSQL's database, a `tvbench`
 * database in MariaDB), backed up by tablevault `backup --parallel N` of a strategy of one entry
 * (`table: 'tvbench.*'`, `strategy: full`) and by `pg_dump -Fd -j N`, `mydumper -t N -c` and `mysqldump | gzip -1`, same
 * run, same N, round-robin, median of --repeat runs. Beside it, the fixed cost of a small table:
 * tablevault's CPU backing up the schema's empty and tiny tables, less its CPU backing up one,
 * per table beyond the first.
 *
 *   npm run bench -- --database [--jobs 2] [--mix 4x500000,80x0,120x1-100,40x10000] [--schema tvbench]
 *                   [--repeat 3] [--engines pg,mysql] [--s3] [--out bench/results]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mysqlCases, pgCases, type CaseContext, type DbCase, type TableSet } from './database-cases.js';
import { DEFAULT_MIX, describeMix, mixTables, parseMix, type MixTable } from './database-mix.js';
import { ensureMysqlSchema, ensurePgSchema, freshMysqlStateDb, freshPgStateDb } from './database-schema.js';
import { SERVER_PROCESSES, alignedTable, formatLoad, measure, median, summarizeRuns, type CaseRun } from './measure.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

interface Args {
  jobs: number;
  mix: string;
  schema: string;
  repeat: number;
  engines: string[];
  s3: boolean;
  out: string;
}

export interface DatabaseBenchEnv {
  argv: string[];
  root: string;
  pgUrl: string;
  mysqlUrl: string;
  startS3: (dir: string) => Promise<{ endpoint: string; stop: () => void }>;
}

function parseArgs(argv: string[], root: string): Args {
  const a: Args = {
    jobs: 2,
    mix: DEFAULT_MIX,
    schema: 'tvbench',
    repeat: 3,
    engines: ['pg', 'mysql'],
    s3: false,
    out: join(root, 'bench', 'results'),
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--database') continue;
    if (flag === '--s3') {
      a.s3 = true;
      continue;
    }
    const v = argv[++i];
    if (v === undefined && ['--jobs', '--mix', '--schema', '--repeat', '--engines', '--out'].includes(flag))
      throw new Error(`${flag} needs a value`);
    if (flag === '--jobs') a.jobs = Number(v);
    else if (flag === '--mix') a.mix = v!;
    else if (flag === '--schema') a.schema = v!;
    else if (flag === '--repeat') a.repeat = Number(v);
    else if (flag === '--engines') a.engines = v!.split(',');
    else if (flag === '--out') a.out = resolve(v!);
    else
      throw new Error(
        `unknown argument ${flag}; --database takes --jobs N --mix ${DEFAULT_MIX} --schema NAME --repeat N --engines pg,mysql --s3 --out DIR`,
      );
  }
  for (const [flag, n] of [
    ['--jobs', a.jobs],
    ['--repeat', a.repeat],
  ] as const)
    if (!Number.isInteger(n) || n < 1) throw new Error(`${flag} takes a whole number of at least 1`);
  return a;
}

/** Debian's mydumper, installed when missing unless another apt is running (then its cases fail, saying so). */
export function ensureMydumper(): void {
  const has = () => spawnSync('sh', ['-c', 'command -v mydumper']).status === 0;
  if (has()) return;
  if (spawnSync('pgrep', ['-x', 'apt|apt-get|dpkg']).status === 0)
    throw new Error('mydumper is missing and apt is busy; retry when it is done, or apt-get install -y mydumper');
  log('installing mydumper (apt-get)…');
  const sudo = process.getuid?.() === 0 ? '' : 'sudo ';
  spawnSync('sh', ['-c', `${sudo}apt-get install -y -qq --no-install-recommends mydumper`], { stdio: 'inherit' });
  if (!has()) throw new Error('mydumper is missing and apt-get could not install it: apt-get install -y mydumper');
}

interface Run extends CaseRun {
  bytes: number;
}

export async function databaseBench(env: DatabaseBenchEnv): Promise<void> {
  const args = parseArgs(env.argv, env.root);
  const groups = parseMix(args.mix);
  const whole = mixTables(groups);
  const small = whole.filter((t) => t.small);
  if (small.length < 2) throw new Error(`--mix ${args.mix}: the fixed-cost case needs at least 2 tables of ≤ 100 rows`);
  // one table of rows, not an empty one, so the difference is what each further table costs
  const one = [small.find((t) => t.rows > 0) ?? small[0]!];
  const sets: Record<TableSet, readonly MixTable[]> = { whole, small, one };
  log(`mix: ${describeMix(groups)}; ${small.length} of them small`);
  if (args.engines.includes('pg')) await ensurePgSchema(env.pgUrl, args.schema, whole, log);
  if (args.engines.includes('mysql')) {
    ensureMydumper();
    await ensureMysqlSchema(env.mysqlUrl, args.schema, whole, log);
  }

  const loadBefore = os.loadavg();
  const work = mkdtempSync(join(os.tmpdir(), 'tv-bench-db-'));
  const s3 = args.s3 ? await env.startS3(join(work, 's3')) : undefined;
  try {
    const stateDb = `${args.schema}_state`;
    const state = {
      pg: args.engines.includes('pg') ? await freshPgStateDb(env.pgUrl, stateDb) : '',
      mysql: args.engines.includes('mysql') ? await freshMysqlStateDb(env.mysqlUrl, stateDb) : '',
    };
    const cli = join(env.root, 'dist', 'cli.js');
    const ctx: CaseContext = { cli, work, schema: args.schema, jobs: args.jobs, sets, state };
    if (s3) {
      const creds = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
      const client = new S3Client({
        endpoint: s3.endpoint,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: creds,
      });
      await client.send(new CreateBucketCommand({ Bucket: 'bench' }));
      client.destroy();
      const s3env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
      ctx.s3 = { bucket: 'bench', env: { ...s3env, AWS_ENDPOINT_URL: s3.endpoint } };
    }
    const cases = [
      ...(args.engines.includes('pg') ? pgCases(ctx, env.pgUrl) : []),
      ...(args.engines.includes('mysql') ? mysqlCases(ctx, env.mysqlUrl) : []),
    ];
    // untimed, each tablevault case once: it migrates the fresh state store and records its tables
    // as seen, so every timed run is a rerun, as a nightly backup's are
    for (const c of cases.filter((x) => x.name.startsWith('tv_'))) {
      log(`[warm-up] ${c.engine} ${c.label}`);
      c.reset();
      c.bytes(await measure(c.command, c.env));
    }
    const runs = new Map<DbCase, Run[]>(cases.map((c) => [c, []]));
    // round-robin, so a noisy moment on the shared machine hits every case rather than one
    for (let r = 0; r < args.repeat; r++)
      for (const c of cases) {
        log(`[${r + 1}/${args.repeat}] ${c.engine} ${c.label}`);
        c.reset();
        const m = await measure(c.command, c.env, SERVER_PROCESSES[c.engine]);
        const { wallMs, cpuMs, peakRssBytes } = m;
        runs.get(c)!.push({ wallMs, cpuMs, serverCpuMs: m.serverCpuMs ?? NaN, peakRssBytes, bytes: c.bytes(m) });
      }
    report(args, groups, sets, cases, runs, { before: loadBefore, after: os.loadavg() });
  } finally {
    s3?.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

function report(
  args: Args,
  groups: ReturnType<typeof parseMix>,
  sets: Record<TableSet, readonly MixTable[]>,
  cases: DbCase[],
  runs: Map<DbCase, Run[]>,
  load: { before: number[]; after: number[] },
): void {
  const rowsOf = (set: TableSet) => sets[set].reduce((n, t) => n + t.rows, 0);
  const results = cases.map((c) => {
    const rs = runs.get(c)!;
    return {
      engine: c.engine,
      set: c.set,
      name: c.name,
      label: c.label,
      tables: sets[c.set].length,
      ...summarizeRuns(rs, rowsOf(c.set)),
      bytes: median(rs.map((x) => x.bytes)),
    };
  });
  const get = (engine: string, name: string) => results.find((x) => x.engine === engine && x.name === name);
  const both = (x: (typeof results)[number]) => x.cpuMs + x.serverCpuMs;
  const ratios = results
    .filter((x) => x.set === 'whole' && x.name.startsWith('tv_'))
    .flatMap((tv) =>
      results
        .filter((b) => b.engine === tv.engine && b.set === 'whole' && !b.name.startsWith('tv_'))
        .map((b) => ({
          engine: tv.engine,
          case: tv.name,
          baseline: b.name,
          wall: tv.wallMs / b.wallMs,
          // client and server CPU together: what the two cores have to get through
          cpuAndServer: both(tv) / both(b),
          bytes: tv.bytes / b.bytes,
        })),
    );
  const fixedCost = ['pg', 'mysql'].flatMap((engine) => {
    const k = get(engine, 'tv_small');
    const o = get(engine, 'tv_one');
    if (!k || !o) return [];
    const per = (f: (x: (typeof results)[number]) => number) => (f(k) - f(o)) / (k.tables - 1);
    const dump = results.find((x) => x.engine === engine && x.set === 'small' && !x.name.startsWith('tv_'))!;
    return [
      {
        engine,
        tables: k.tables,
        cpuMsPerTable: per((x) => x.cpuMs),
        serverCpuMsPerTable: per((x) => x.serverCpuMs),
        wallMsPerTable: per((x) => x.wallMs),
        wallVsDump: k.wallMs / dump.wallMs,
        dump: dump.name,
      },
    ];
  });

  const mb = (b: number) => (b / 1e6).toFixed(1);
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const head = `schema ${args.schema}: ${describeMix(groups)}; --jobs ${args.jobs}, median of ${args.repeat} runs, ${os.cpus().length} cores, node ${process.version}; load average ${formatLoad(load.before)} before, ${formatLoad(load.after)} after`;
  const header = ['engine', 'case', 'tables', 'wall s', 'cpu s', 'server cpu s', 'MB out', 'peak RSS MB'];
  const body = results.map((x) => [
    x.engine,
    x.label,
    String(x.tables),
    s(x.wallMs),
    s(x.cpuMs),
    s(x.serverCpuMs),
    mb(x.bytes),
    mb(x.peakRssBytes),
  ]);
  const lines = [head, '', ...alignedTable(header, body), ''];
  lines.push(
    `ratios (tablevault / baseline, whole schema; targets: wall ≤ 1.0× pg_dump -Fd and mydumper, fewer bytes than either):`,
  );
  for (const r of ratios)
    lines.push(
      `  ${r.engine} ${r.case} / ${r.baseline}: wall ${r.wall.toFixed(2)}×, cpu+server ${r.cpuAndServer.toFixed(2)}×, bytes ${r.bytes.toFixed(2)}×`,
    );
  lines.push(
    '',
    'small-table fixed cost: (tablevault CPU for the small tables − for one) / (tables − 1); target < 20 ms CPU per table:',
  );
  for (const f of fixedCost)
    lines.push(
      `  ${f.engine}: ${f.cpuMsPerTable.toFixed(1)} ms CPU per table over ${f.tables} tables (server ${f.serverCpuMsPerTable.toFixed(1)} ms, wall ${f.wallMsPerTable.toFixed(1)} ms); wall ${f.wallVsDump.toFixed(2)}× ${f.dump}`,
    );
  process.stdout.write(`${lines.join('\n')}\n`);

  mkdirSync(args.out, { recursive: true });
  const file = join(args.out, `database-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const meta = {
    date: new Date().toISOString(),
    schema: args.schema,
    mix: args.mix,
    jobs: args.jobs,
    repeat: args.repeat,
  };
  writeFileSync(
    file,
    `${JSON.stringify({ ...meta, cores: os.cpus().length, node: process.version, load, results, ratios, fixedCost }, null, 2)}\n`,
  );
  log(`results: ${file}`);
}
