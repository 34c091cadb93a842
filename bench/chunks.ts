/**
 * `npm run bench -- --chunks`: one big table (the bench table, `bench_orders_<rows>`) read in 1, 2
 * and 4 chunks at once: tablevault `export --parallel K --chunk-rows ⌈rows / K⌉` (K = 1: one
 * stream) to a local directory, tablevault `backup --parallel K` of the table as `strategy:
 * incremental` (cursor `id`, `chunk_rows: ⌈rows / K⌉`), each run a first backup (backfill) into an
 * emptied directory and a state store whose tablevault_* tables were dropped, beside `pg_dump -Fd -j K -t` (which reads one table in one COPY
 * whatever K is) and `mydumper -t K -c -r R`, with R the server's own row estimate / K (mydumper
 * 0.10 cuts floor(estimate / R) chunks, so R = rows / K gives one chunk fewer when the estimate is
 * low). Same run, round-robin, median of --repeat runs; each run's chunks are counted from what it
 * wrote (tablevault's part-CCCCC-NNNNN objects, mydumper's data files) or, for the backup, from its
 * summary (`tables[0].chunks`, absent when read in one stream).
 *
 *   npm run bench -- --chunks [--rows 4000000] [--counts 1,2,4] [--repeat 3] [--engines pg,mysql] [--out bench/results]
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { diskBytes, mysqlClient, pgClient, sh } from './database-cases.js';
import { ensureMydumper } from './database.js';
import { backupCase, chunksStateDbs, type Engine } from './chunks-backup.js';
import { SERVER_PROCESSES, alignedTable, formatLoad, measure, median, summarizeRuns, type CaseRun } from './measure.js';
import { benchTableName, ensureMysqlTable, ensurePgTable, mysqlConnect } from './tables.js';

const log = (s: string) => process.stderr.write(`${s}\n`);

interface Args {
  rows: number;
  counts: number[];
  repeat: number;
  engines: string[];
  out: string;
}

export interface ChunksBenchEnv {
  argv: string[];
  root: string;
  pgUrl: string;
  mysqlUrl: string;
}

function parseArgs(argv: string[], root: string): Args {
  const a: Args = { rows: 4_000_000, counts: [1, 2, 4], repeat: 3, engines: ['pg', 'mysql'], out: '' };
  a.out = join(root, 'bench', 'results');
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--chunks') continue;
    const v = argv[++i];
    if (v === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--rows') a.rows = Number(v);
    else if (flag === '--counts') a.counts = v.split(',').map(Number);
    else if (flag === '--repeat') a.repeat = Number(v);
    else if (flag === '--engines') a.engines = v.split(',');
    else if (flag === '--out') a.out = resolve(v);
    else
      throw new Error(
        `unknown argument ${flag}; --chunks takes --rows N --counts 1,2,4 --repeat N --engines pg,mysql --out DIR`,
      );
  }
  if (![a.rows, a.repeat, ...a.counts].every((n) => Number.isInteger(n) && n >= 1))
    throw new Error('--rows, --counts and --repeat take whole numbers of at least 1');
  return a;
}

type Tool = 'tablevault' | 'tablevault_backup' | 'pg_dump' | 'mydumper';

export interface ChunkCase {
  engine: 'pg' | 'mysql';
  tool: Tool;
  /** Reads (tablevault), jobs (pg_dump) or threads (mydumper) asked for, and the chunks asked for. */
  k: number;
  label: string;
  command: string;
  env: NodeJS.ProcessEnv;
  /** Untimed, before each run. */
  reset: () => void | Promise<void>;
  /** The chunks the run read, counted from what it wrote. */
  chunks: (stdout: string) => number;
  bytes: () => number;
}

interface Run extends CaseRun {
  bytes: number;
  chunks: number;
}

/** The chunks of a tablevault export's objects: part-CCCCC-NNNNN.parquet per chunk, part-NNNNN.parquet for one stream. */
function tvChunks(stdout: string): number {
  const keys = (JSON.parse(stdout) as { files: Array<{ key: string }> }).files.map((f) => f.key);
  return new Set(keys.map((k) => /part-(\d{5})-\d{5}\.parquet$/.exec(k)?.[1] ?? 'one')).size;
}

/** MySQL's row estimate for the table, as mydumper 0.10 reads it (EXPLAIN SELECT on the key). */
async function mysqlEstimate(url: string, table: string): Promise<number> {
  const c = await mysqlConnect(url);
  try {
    const [rows] = await c.query(`EXPLAIN SELECT id FROM ${table}`);
    return Number((rows as Array<{ rows: number }>)[0]!.rows);
  } finally {
    await c.end();
  }
}

function cases(
  args: Args,
  cli: string,
  work: string,
  urls: { pg: string; mysql: string; state: Record<Engine, string> },
  estimate: number,
): ChunkCase[] {
  const { pg: pgUrl, mysql: mysqlUrl } = urls;
  const table = benchTableName(args.rows);
  const backup = (engine: Engine, ref: string, k: number) =>
    backupCase({ cli, work, rows: args.rows, state: urls.state }, engine, urls[engine], ref, k);
  const fresh = (dir: string) => () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
  };
  const tv = (engine: ChunkCase['engine'], url: string, ref: string, k: number): ChunkCase => {
    const dir = join(work, `tv-${engine}-${k}`);
    const chunking = k > 1 ? ` --chunk-rows ${Math.ceil(args.rows / k)}` : '';
    return {
      engine,
      tool: 'tablevault',
      k,
      label: `tablevault export --parallel ${k}${chunking}`,
      // the bin itself (not `node dist/cli.js`), so its shebang flags apply as they do for users
      command: `${cli} --log-level warn export --source ${sh(url)} --table ${ref} --dest ${sh(pathToFileURL(dir).href)} --parallel ${k}${chunking} --json`,
      env: process.env,
      reset: fresh(dir),
      chunks: tvChunks,
      bytes: () => diskBytes(dir),
    };
  };
  const out: ChunkCase[] = [];
  if (args.engines.includes('pg')) {
    const { conn, env } = pgClient(pgUrl);
    for (const k of args.counts) {
      const dir = join(work, `pg_dump-${k}`);
      out.push(tv('pg', pgUrl, `public.${table}`, k), backup('pg', `public.${table}`, k), {
        engine: 'pg',
        tool: 'pg_dump',
        k,
        label: `pg_dump -Fd -j ${k} -t`,
        command: `pg_dump ${conn} -Fd -j ${k} -t public.${table} -f ${sh(dir)}`,
        env,
        reset: () => rmSync(dir, { recursive: true, force: true }), // pg_dump -Fd makes the directory itself
        chunks: () => readdirSync(dir).filter((f) => /^\d+\.dat(\.gz)?$/.test(f)).length,
        bytes: () => diskBytes(dir),
      });
    }
  }
  if (args.engines.includes('mysql')) {
    const db = new URL(mysqlUrl).pathname.slice(1);
    const { myd, env } = mysqlClient(mysqlUrl, work);
    for (const k of args.counts) {
      const dir = join(work, `mydumper-${k}`);
      const rows = k > 1 ? ` -r ${Math.floor(estimate / k)}` : '';
      const file = new RegExp(`^${db}\\.${table}(\\.\\d+)?\\.sql(\\.gz)?$`);
      out.push(tv('mysql', mysqlUrl, `${db}.${table}`, k), backup('mysql', `${db}.${table}`, k), {
        engine: 'mysql',
        tool: 'mydumper',
        k,
        label: `mydumper -t ${k} -c${rows}`,
        // -B db -T table: mydumper 0.10 never finishes with -T db.table
        command: `mydumper ${myd} -t ${k} -c --trx-consistency-only${rows} -B ${db} -T ${table} -o ${sh(dir)}`,
        env,
        reset: fresh(dir),
        chunks: () => readdirSync(dir).filter((f) => file.test(f)).length,
        bytes: () => diskBytes(dir),
      });
    }
  }
  return out;
}

export async function chunksBench(env: ChunksBenchEnv): Promise<void> {
  const args = parseArgs(env.argv, env.root);
  if (args.engines.includes('pg')) await ensurePgTable(env.pgUrl, args.rows, log);
  let estimate = 0;
  if (args.engines.includes('mysql')) {
    ensureMydumper();
    await ensureMysqlTable(env.mysqlUrl, args.rows, log);
    estimate = await mysqlEstimate(env.mysqlUrl, benchTableName(args.rows));
  }
  const loadBefore = os.loadavg();
  const work = mkdtempSync(join(os.tmpdir(), 'tv-bench-chunks-'));
  const state = await chunksStateDbs(args.engines, env.pgUrl, env.mysqlUrl);
  const urls = { pg: env.pgUrl, mysql: env.mysqlUrl, state };
  const all = cases(args, join(env.root, 'dist', 'cli.js'), work, urls, estimate);
  const runs = new Map<ChunkCase, Run[]>(all.map((c) => [c, []]));
  try {
    // untimed, each engine's table read once, so the first timed case does not also fill the cache
    for (const c of all.filter((x) => x.tool === 'tablevault' && x.k === args.counts[0])) {
      log(`[warm-up] ${c.engine} ${c.label}`);
      await c.reset();
      await measure(c.command, c.env);
    }
    // round-robin, so a noisy moment on the shared machine hits every case rather than one
    for (let r = 0; r < args.repeat; r++)
      for (const c of all) {
        log(`[${r + 1}/${args.repeat}] ${c.engine} ${c.label}`);
        await c.reset();
        const m = await measure(c.command, c.env, SERVER_PROCESSES[c.engine]);
        const chunks = c.chunks(m.stdout);
        if (c.tool !== 'pg_dump' && chunks !== c.k) log(`  ${c.engine} ${c.label} read ${chunks} chunks, not ${c.k}`);
        const { wallMs, cpuMs, peakRssBytes } = m;
        runs.get(c)!.push({ wallMs, cpuMs, serverCpuMs: m.serverCpuMs ?? NaN, peakRssBytes, bytes: c.bytes(), chunks });
      }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  report(args, all, runs, { before: loadBefore, after: os.loadavg() }, estimate);
}

function report(
  args: Args,
  all: ChunkCase[],
  runs: Map<ChunkCase, Run[]>,
  load: { before: number[]; after: number[] },
  mysqlEstimate: number,
): void {
  const results = all.map((c) => {
    const rs = runs.get(c)!;
    return {
      engine: c.engine,
      tool: c.tool,
      k: c.k,
      name: `${c.tool}_${c.k}`,
      label: c.label,
      chunks: median(rs.map((x) => x.chunks)),
      ...summarizeRuns(rs, args.rows),
      bytes: median(rs.map((x) => x.bytes)),
    };
  });
  type Result = (typeof results)[number];
  const both = (x: Result) => x.cpuMs + x.serverCpuMs;
  const ours = (tool: Tool) => tool === 'tablevault' || tool === 'tablevault_backup';
  const ratio = (tv: Result, b: Result) => ({
    engine: tv.engine,
    k: tv.k,
    baseline: b.name,
    wall: tv.wallMs / b.wallMs,
    // client and server CPU together: what the cores have to get through
    cpuAndServer: both(tv) / both(b),
    bytes: tv.bytes / b.bytes,
  });
  const tvs = results.filter((x) => x.tool === 'tablevault');
  const ratios = tvs.flatMap((tv) =>
    results.filter((b) => b.engine === tv.engine && b.k === tv.k && !ours(b.tool)).map((b) => ratio(tv, b)),
  );
  // the backfill beside the dump tool and the export at the same K, and beside its own one stream
  const backupRatios = results
    .filter((x) => x.tool === 'tablevault_backup')
    .flatMap((tv) =>
      results
        .filter(
          (b) =>
            b.engine === tv.engine &&
            ((b.k === tv.k && b.tool !== 'tablevault_backup') ||
              (b.tool === 'tablevault_backup' && b.k === args.counts[0] && tv.k !== b.k)),
        )
        .map((b) => ratio(tv, b)),
    );
  // each tool's speed-up over its own run at the first count
  const scaling = results.map((x) => {
    const base = results.find((b) => b.engine === x.engine && b.tool === x.tool && b.k === args.counts[0])!;
    return { engine: x.engine, tool: x.tool, k: x.k, speedup: base.wallMs / x.wallMs };
  });

  const mb = (b: number) => (b / 1e6).toFixed(1);
  const s = (ms: number) => (ms / 1000).toFixed(2);
  const lines = [
    `${benchTableName(args.rows)} (${args.rows} rows), median of ${args.repeat} runs, ${os.cpus().length} cores, node ${process.version}; load average ${formatLoad(load.before)} before, ${formatLoad(load.after)} after`,
    '',
    ...alignedTable(
      ['engine', 'case', 'chunks', 'wall s', 'cpu s', 'server cpu s', 'rows/s', 'MB out', 'peak RSS MB', '× own first'],
      results.map((x, i) => [
        x.engine,
        x.label,
        String(x.chunks),
        s(x.wallMs),
        s(x.cpuMs),
        s(x.serverCpuMs),
        String(x.rowsPerSec),
        mb(x.bytes),
        mb(x.peakRssBytes),
        `${scaling[i]!.speedup.toFixed(2)}×`,
      ]),
    ),
    '',
    'ratios (tablevault export --parallel K / the dump tool at the same K):',
    ...ratios.map(
      (r) =>
        `  ${r.engine} K=${r.k} / ${r.baseline}: wall ${r.wall.toFixed(2)}×, cpu+server ${r.cpuAndServer.toFixed(2)}×, bytes ${r.bytes.toFixed(2)}×`,
    ),
    '',
    'ratios (tablevault backup --parallel K, a backfill / its one stream, the export and the dump tool at K):',
    ...backupRatios.map(
      (r) =>
        `  ${r.engine} K=${r.k} / ${r.baseline}: wall ${r.wall.toFixed(2)}×, cpu+server ${r.cpuAndServer.toFixed(2)}×, bytes ${r.bytes.toFixed(2)}×`,
    ),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  mkdirSync(args.out, { recursive: true });
  const file = join(args.out, `chunks-${args.rows}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const meta = { date: new Date().toISOString(), rows: args.rows, counts: args.counts, repeat: args.repeat };
  const machine = { cores: os.cpus().length, node: process.version, load, mysqlEstimate };
  writeFileSync(file, `${JSON.stringify({ ...meta, ...machine, results, ratios, backupRatios, scaling }, null, 2)}\n`);
  log(`results: ${file}`);
}
