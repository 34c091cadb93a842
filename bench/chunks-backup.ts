/**
 * The chunks bench's backup cases: tablevault `backup --parallel K` of a strategy with the bench
 * table as `strategy: incremental`, `chunk_rows: ⌈rows / K⌉`, each timed run a first backup
 * (backfill): before it, untimed, the destination directory is emptied and the tablevault_*
 * tables of the bench's own state database are dropped, so the run also creates them, as a
 * first backup does.
 *
 * The cursor is `id`: the bench table's only indexed column (its primary key). Its timestamps
 * grow with id too, but have no index, so each chunk's range and each page's `ORDER BY cursor`
 * would scan the table, and MariaDB samples a chunk's bounds from the cursor's index.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { diskBytes, sh } from './database-cases.js';
import { freshMysqlStateDb, freshPgStateDb } from './database-schema.js';
import { mysqlConnect } from './tables.js';
import type { ChunkCase } from './chunks.js';

/** The state database of the chunks bench, on each engine's server; made new by each bench. */
export const CHUNKS_STATE_DB = 'tvbench_chunks_state';

export type Engine = ChunkCase['engine'];

/** Each engine's state store, made new (dropped and created) for this bench. */
export async function chunksStateDbs(
  engines: string[],
  pgUrl: string,
  mysqlUrl: string,
): Promise<Record<Engine, string>> {
  return {
    pg: engines.includes('pg') ? await freshPgStateDb(pgUrl, CHUNKS_STATE_DB) : '',
    mysql: engines.includes('mysql') ? await freshMysqlStateDb(mysqlUrl, CHUNKS_STATE_DB) : '',
  };
}

/** Drops every tablevault_* table of the state database (migrations' own included): the state of no backup yet. */
async function dropStateTables(engine: Engine, url: string): Promise<void> {
  if (engine === 'pg') {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    try {
      const r = await c.query<{ t: string }>(
        `SELECT quote_ident(tablename) AS t FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'tablevault\\_%'`,
      );
      if (r.rows.length) await c.query(`DROP TABLE IF EXISTS ${r.rows.map((x) => x.t).join(', ')} CASCADE`);
    } finally {
      await c.end();
    }
    return;
  }
  const c = await mysqlConnect(url);
  try {
    const [rows] = await c.query(
      `SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'tablevault\\_%'`,
    );
    const names = (rows as Array<{ t: string }>).map((x) => `\`${x.t}\``);
    if (names.length) {
      await c.query('SET SESSION foreign_key_checks = 0');
      await c.query(`DROP TABLE IF EXISTS ${names.join(', ')}`);
    }
  } finally {
    await c.end();
  }
}

interface BackupSummary {
  tables: Array<{ status: string; rows: number; chunks?: number; error?: string }>;
}

/** tablevault `backup --parallel k` of `ref` as an incremental table on `id`, a backfill each run. */
export function backupCase(
  ctx: { cli: string; work: string; rows: number; state: Record<Engine, string> },
  engine: Engine,
  url: string,
  ref: string,
  k: number,
): ChunkCase {
  const dir = join(ctx.work, `tv-backup-${engine}-${k}`);
  const chunkRows = Math.ceil(ctx.rows / k);
  const file = join(ctx.work, `strategy-${engine}-${k}.yaml`);
  // JSON strings are YAML strings. A backup reads at most max_source_connections - 1 at once (3 by
  // default): 6, as export allows itself, so K = 4 reads 4 chunks at once.
  const yaml = [
    `source: ${JSON.stringify(url)}`,
    `destination: ${JSON.stringify(pathToFileURL(dir).href)}`,
    `state: ${JSON.stringify(ctx.state[engine])}`,
    'max_source_connections: 6',
    'tables:',
    `  - { table: ${JSON.stringify(ref)}, strategy: incremental, cursor: id, chunk_rows: ${chunkRows} }`,
  ];
  writeFileSync(file, `${yaml.join('\n')}\n`);
  return {
    engine,
    tool: 'tablevault_backup',
    k,
    label: `tablevault backup --parallel ${k} (incremental, chunk_rows ${chunkRows})`,
    // the bin itself (not `node dist/cli.js`), so its shebang flags apply as they do for users
    command: `${ctx.cli} --log-level warn backup ${sh(file)} --parallel ${k} --json`,
    env: process.env,
    reset: async () => {
      rmSync(dir, { recursive: true, force: true });
      mkdirSync(dir, { recursive: true });
      await dropStateTables(engine, ctx.state[engine]);
    },
    chunks: (stdout) => {
      const t = (JSON.parse(stdout) as BackupSummary).tables[0];
      if (t?.status !== 'ok' || t.rows !== ctx.rows)
        throw new Error(`${engine} backup K=${k}: ${t ? `${t.status}, ${t.rows} rows ${t.error ?? ''}` : 'no table'}`);
      return t.chunks ?? 1;
    },
    bytes: () => diskBytes(dir),
  };
}
