/**
 * Issue 19's closing figures: the retention simulation's history (bench/history.ts, 40 nightly
 * runs; test/integration/retention-history.test.ts plays the same) backed up per engine twice, with
 * `compact_every: 10` and without, both with `retention: { keep_runs: 12 }`, to a file://
 * destination (no mirror). After the 40 runs: the objects and bytes under the table's prefix, and
 * the wall and CPU time of `tablevault restore --create` of the latest state (the CLI spawned, the
 * medians of --repeat; CPU: the restore process's, not the database's; what it read from its --json). The backups run in this process through
 * dist/, as the test does.
 *
 *   npm run build && node dist-bench/retention-history.js [--engines pg,mysql] [--scale 1] [--repeat 3]
 *     [--keep-runs 12]   (0: no retention: key, for a build without it)
 *
 * --scale multiplies each run's updates, inserts and deletes (and 200 first rows by 100 × scale).
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { createLogger, runBackup } from '../dist/index.js';
import { history } from './history.js';
import { alignedTable, formatLoad, measure, median } from './measure.js';

const PG_URL = process.env.TABLEVAULT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.TABLEVAULT_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const TABLE = 'tv_rethist_bench';
const STATE_DB = 'tv_rethist_bench_state';
const CLI = new URL('../dist/cli.js', import.meta.url).pathname;

type Sql = (q: string) => Promise<unknown>;

interface Engine {
  name: string;
  url: string;
  schema: string;
  createTable: string;
  connect: () => Promise<{ sql: Sql; end: () => Promise<void> }>;
  freshState: string[];
}

const ENGINES: Record<string, Engine> = {
  pg: {
    name: 'PostgreSQL',
    url: PG_URL,
    schema: 'public',
    createTable: `CREATE TABLE ${TABLE} (id int PRIMARY KEY, v varchar(40), n int, updated_at timestamp(6) NOT NULL)`,
    connect: async () => {
      const c = new pg.Client({ connectionString: PG_URL });
      await c.connect();
      return { sql: (q) => c.query(q), end: () => c.end() };
    },
    freshState: [`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`, `CREATE DATABASE ${STATE_DB}`],
  },
  mysql: {
    name: 'MariaDB',
    url: MYSQL_URL,
    schema: 'test',
    createTable: `CREATE TABLE ${TABLE} (id INT PRIMARY KEY, v VARCHAR(40), n INT, updated_at DATETIME(6) NOT NULL)`,
    connect: async () => {
      const c = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: true });
      return { sql: (q) => c.query(q), end: () => c.end() };
    },
    freshState: [`DROP DATABASE IF EXISTS ${STATE_DB}`, `CREATE DATABASE ${STATE_DB}`],
  },
};

interface Args {
  engines: string[];
  scale: number;
  repeat: number;
  keepRuns: number;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { engines: ['pg', 'mysql'], scale: 1, repeat: 3, keepRuns: 12 };
  for (let i = 0; i < argv.length; i += 2) {
    const v = argv[i + 1] ?? '';
    if (argv[i] === '--engines') a.engines = v.split(',');
    else if (argv[i] === '--scale') a.scale = Number(v);
    else if (argv[i] === '--repeat') a.repeat = Number(v);
    else if (argv[i] === '--keep-runs') a.keepRuns = Number(v);
    else throw new Error(`unknown argument ${argv[i]}; use --engines pg,mysql --scale N --repeat N --keep-runs N`);
  }
  for (const e of a.engines) if (!ENGINES[e]) throw new Error(`--engines: ${e} is not pg or mysql`);
  return a;
}

/** Every file under `dir` (recursively), the manifest included: how many, and their bytes. */
function prefixSize(dir: string): { objects: number; bytes: number } {
  let objects = 0;
  let bytes = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!e.isFile() || e.name.startsWith('.')) continue;
    objects++;
    bytes += statSync(join(e.parentPath, e.name)).size;
  }
  return { objects, bytes };
}

interface Result {
  engine: string;
  compaction: string;
  backupsMs: number;
  objects: number;
  bytes: number;
  restore: { wallMs: number; cpuMs: number; runsMs: number[]; files: number; rows: number; sourceRows: number };
}

async function play(e: Engine, args: Args, compactEvery: number | undefined): Promise<Result> {
  const db = await e.connect();
  const root = mkdtempSync(join(os.tmpdir(), 'tv-rethist-bench-'));
  try {
    for (const q of e.freshState) await db.sql(q);
    await db.sql(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_r`);
    await db.sql(e.createTable);
    const dest = join(root, 'dest');
    mkdirSync(dest);
    const file = join(root, 'strategy.yaml');
    const defaults = [
      ...(compactEvery ? [`compact_every: ${compactEvery}`] : []),
      ...(args.keepRuns ? [`retention: { keep_runs: ${args.keepRuns} }`] : []),
    ];
    const state = Object.assign(new URL(e.url), { pathname: `/${STATE_DB}` }).href;
    writeFileSync(
      file,
      `source: ${e.url}\nstate: ${state}\ndestination: ${pathToFileURL(dest).href}\n` +
        `defaults: { ${defaults.join(', ')} }\ntables:\n  - table: ${e.schema}.${TABLE}\n    strategy: incremental\n    cursor: updated_at\n`,
    );
    const runs = history({
      table: TABLE,
      runs: 40,
      seed: 19,
      initialRows: 200 * args.scale,
      addColumnAt: 34,
      scale: args.scale,
    });
    const logger = createLogger({ level: 'warn' });
    let backupsMs = 0;
    for (const [i, sql] of runs.entries()) {
      await db.sql(sql);
      const t0 = performance.now();
      const t = (await runBackup({ strategy: file }, { logger })).tables[0]!;
      backupsMs += performance.now() - t0;
      if (t.status !== 'ok') throw new Error(`${e.name} run ${i + 1}: ${t.status}: ${t.error}`);
    }
    const size = prefixSize(join(dest, `${e.schema}.${TABLE}`));
    const from = pathToFileURL(join(dest, `${e.schema}.${TABLE}`)).href;
    const restore = `node ${CLI} restore ${from} --target ${e.url} --table ${TABLE}_r --create --json`;
    const runsMs: number[] = [];
    const cpuMs: number[] = [];
    let summary = { files: 0, rows: 0 };
    for (let i = 0; i < args.repeat; i++) {
      await db.sql(`DROP TABLE IF EXISTS ${TABLE}_r`);
      const m = await measure(restore);
      runsMs.push(m.wallMs);
      cpuMs.push(m.cpuMs);
      summary = JSON.parse(m.stdout) as typeof summary;
    }
    const count = async (t: string) => {
      const r = (await db.sql(`SELECT count(*) AS n FROM ${t}`)) as { rows?: Array<{ n: unknown }> } | unknown[];
      const rows = Array.isArray(r) ? (r[0] as Array<{ n: unknown }>) : r.rows!;
      return Number(rows[0]!.n);
    };
    const sourceRows = await count(TABLE);
    const restoredRows = await count(`${TABLE}_r`);
    if (restoredRows !== sourceRows)
      throw new Error(`${e.name}: restored ${restoredRows} rows, the source has ${sourceRows}`);
    await db.sql(`DROP TABLE IF EXISTS ${TABLE}, ${TABLE}_r`);
    await db.sql(e.freshState[0]!);
    return {
      engine: e.name,
      compaction: compactEvery ? `every ${compactEvery}` : 'none',
      backupsMs,
      ...size,
      restore: {
        wallMs: median(runsMs),
        cpuMs: median(cpuMs),
        runsMs,
        files: summary.files,
        rows: summary.rows,
        sourceRows,
      },
    };
  } finally {
    await db.end();
    rmSync(root, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const load = os.loadavg();
  const results: Result[] = [];
  for (const name of args.engines)
    for (const every of [10, undefined]) results.push(await play(ENGINES[name]!, args, every));
  const lines = alignedTable(
    ['engine', 'compaction', 'objects', 'bytes', 'restore wall', 'restore CPU', 'restore read', 'rows', '40 backups'],
    results.map((r) => [
      r.engine,
      r.compaction,
      String(r.objects),
      String(r.bytes),
      `${(r.restore.wallMs / 1000).toFixed(2)} s`,
      `${(r.restore.cpuMs / 1000).toFixed(2)} s`,
      `${r.restore.files} objects`,
      String(r.restore.sourceRows),
      `${(r.backupsMs / 1000).toFixed(1)} s`,
    ]),
  );
  process.stdout.write(
    `retention history: 40 runs, scale ${args.scale}, keep_runs ${args.keepRuns || 'none'}, repeat ${args.repeat}, load before ${formatLoad(load)}, after ${formatLoad(os.loadavg())}\n${lines.join('\n')}\n`,
  );
  process.stdout.write(`${JSON.stringify({ args, results })}\n`);
}

await main();
