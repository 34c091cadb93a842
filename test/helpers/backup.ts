import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { runCli, type CliResult } from './cli.js';
import { readParquetRows } from './duckdb.js';
import { withMysql, withPg } from './db.js';

/** A throwaway local destination and a strategy file pointing at it. */
export function strategyFile(yaml: (dest: string) => string): { file: string; dir: string } {
  const root = mkdtempSync(join(tmpdir(), 'tv-backup-'));
  const dir = join(root, 'dest');
  mkdirSync(dir);
  const file = join(root, 'strategy.yaml');
  writeFileSync(file, yaml(pathToFileURL(dir).href));
  return { file, dir };
}

export function backup(file: string, args: string[] = [], env: Record<string, string> = {}): Promise<CliResult> {
  return runCli(['backup', file, ...args], env);
}

/** Every row of every incremental object of a table, as DuckDB reads them. */
export async function backedUpRows(dir: string, table: string): Promise<Array<Record<string, unknown>>> {
  const tdir = join(dir, table);
  const files = readdirSync(tdir)
    .filter((f) => /^incr-\d{8}(-\d{5}-\d{5})?\.parquet$/.test(f))
    .map((f) => join(tdir, f));
  return files.length ? readParquetRows(files) : [];
}

/** The latest version per primary key across all objects (highest cursor wins). */
export function latestPerKey(
  rows: Array<Record<string, unknown>>,
  pk: string,
  cursor: string,
): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  for (const r of rows) {
    const k = String(r[pk]);
    const prev = out.get(k);
    if (!prev || String(r[cursor]) > String(prev[cursor])) out.set(k, r);
  }
  return out;
}

/** Drops every tablevault_* table of the test database (the state store's, whatever migrations made them). */
export async function resetState(engine: 'pg' | 'mysql'): Promise<void> {
  const list = `SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE 'tablevault\\_%' AND table_schema = ${engine === 'pg' ? 'current_schema()' : 'DATABASE()'}`;
  const drop = (names: string[]) => `DROP TABLE IF EXISTS ${names.join(', ')}`;
  if (engine === 'pg')
    await withPg(async (c) => {
      const names = (await c.query<{ name: string }>(list)).rows.map((r) => r.name);
      if (names.length) await c.query(drop(names));
    });
  else
    await withMysql(async (c) => {
      const names = ((await c.query(list))[0] as Array<{ name: string }>).map((r) => r.name);
      if (names.length) await c.query(drop(names));
    });
}
