/**
 * `npm run build && node dist-bench/chunk-plan.js [--rows 1000000,4000000] [--repeat 5]`: what
 * `Source.planChunks` costs on the bench tables, each way it can place bounds, and how near equal
 * the chunks it plans are (rows counted per chunk). Prints one line per case; never fails.
 *
 * The bench table's key is a bigint, so the other ways are taken on the same table by describing
 * it otherwise: "keyless" (PostgreSQL ctid pages), "walked" (MySQL's walk for a non-integer key).
 * PostgreSQL's histogram serves up to a tenth of its buckets as chunks (8 here), a sample beyond.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import { openSource, type Source, type SourceTable } from '../dist/index.js';
import { median } from './measure.js';
import { benchTableName, ensureMysqlTable, ensurePgTable } from './tables.js';

const PG_URL = process.env.TABLEVAULT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL_URL = process.env.TABLEVAULT_BENCH_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';
const log = (s: string) => process.stderr.write(`${s}\n`);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1]! : fallback;
}

async function plan(
  label: string,
  source: Source,
  table: SourceTable,
  chunks: number,
  count: (where: string | undefined) => Promise<number>,
  repeat: number,
): Promise<void> {
  const ms: number[] = [];
  let planned = await source.planChunks(table, Math.ceil(table.estimatedRows / chunks));
  for (let i = 0; i < repeat; i++) {
    const t0 = performance.now();
    planned = await source.planChunks(table, Math.ceil(table.estimatedRows / chunks));
    ms.push(performance.now() - t0);
  }
  const rows: number[] = [];
  for (const c of planned) rows.push(await count(c.where));
  const target = rows.reduce((a, b) => a + b, 0) / planned.length;
  console.log(
    `${label.padEnd(44)} ${String(planned.length).padStart(3)} chunks  ${median(ms).toFixed(1).padStart(7)} ms  ` +
      `rows per chunk ${Math.min(...rows)}..${Math.max(...rows)} (${((100 * Math.min(...rows)) / target).toFixed(0)}-${((100 * Math.max(...rows)) / target).toFixed(0)}% of even)`,
  );
}

const rowsList = arg('--rows', '1000000,4000000').split(',').map(Number);
const repeat = Number(arg('--repeat', '5'));
const pgSource = await openSource(PG_URL);
const mySource = await openSource(MYSQL_URL);
const pgc = new pg.Client({ connectionString: PG_URL });
await pgc.connect();
const myc = await mysql.createConnection(MYSQL_URL);
try {
  for (const n of rowsList) {
    await ensurePgTable(PG_URL, n, log);
    await ensureMysqlTable(MYSQL_URL, n, log);
    const name = benchTableName(n);
    const pgCount = async (w: string | undefined) =>
      Number((await pgc.query(`SELECT count(*) AS n FROM ${name}${w ? ` WHERE ${w}` : ''}`)).rows[0].n);
    const myCount = async (w: string | undefined) =>
      Number(
        ((await myc.query(`SELECT COUNT(*) AS n FROM ${name}${w ? ` WHERE ${w}` : ''}`))[0] as Array<{ n: number }>)[0]!
          .n,
      );
    const tp = await pgSource.describe({ schema: 'public', name });
    await plan(`PostgreSQL ${name} histogram`, pgSource, tp, 8, pgCount, repeat);
    await plan(`PostgreSQL ${name} sample`, pgSource, tp, 16, pgCount, repeat);
    await plan(`PostgreSQL ${name} sample`, pgSource, tp, 96, pgCount, repeat);
    await plan(`PostgreSQL ${name} keyless (ctid)`, pgSource, { ...tp, primaryKey: [] }, 16, pgCount, repeat);
    const tm = await mySource.describe({ schema: 'test', name });
    await plan(`MySQL ${name} integer (MIN/MAX)`, mySource, tm, 16, myCount, repeat);
    const walked = { ...tm, columns: tm.columns.map((c) => (c.name === 'id' ? { ...c, kind: 'string' as const } : c)) };
    await plan(`MySQL ${name} walked`, mySource, walked, 16, myCount, repeat);
  }
} finally {
  await pgc.end();
  await myc.end();
  await pgSource.close();
  await mySource.close();
}
