import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { parquetKeyValueMetadata, readParquetRows } from '../helpers/duckdb.js';

/** Every object path under a folder, relative to it. */
function walk(dir: string, base = ''): string[] {
  return readdirSync(join(dir, base), { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? walk(dir, join(base, e.name)) : [join(base, e.name)],
  );
}

interface Scenario {
  killed: CliResult;
  rerun: CliResult;
  /** the objects after the killed run and its rerun */
  first: string[];
  second: CliResult;
  third: CliResult;
  rows: Array<Record<string, unknown>>;
  meta: Record<string, string>;
  restored: CliResult;
  /** source rows missing from the restored copy */
  missing: unknown[];
  verified: CliResult;
}

/**
 * One scenario, run once: a backup killed after its second object is stored but before it is
 * committed, its rerun; a new column and rows on a new day; a late row within the lag; then
 * restore and verify. Each property of it is an `it` of its own below.
 */
async function runScenario(): Promise<Scenario> {
  await resetState('pg');
  await withPg((c) =>
    c.query(`DROP TABLE IF EXISTS tv_hive; CREATE TABLE tv_hive (id int PRIMARY KEY, v text, at timestamptz NOT NULL);
    INSERT INTO tv_hive SELECT g, 'v' || g, timestamptz '2024-03-01 00:00:00+00' + g * interval '5 minutes' FROM generate_series(1, 700) g;`),
  ); // 2024-03-01 .. 03-03
  const root = mkdtempSync(join(tmpdir(), 'tv-hive-'));
  mkdirSync(join(root, 'dest'));
  const file = join(root, 'strategy.yaml');
  writeFileSync(
    file,
    `source: ${PG_URL}\ndestination: ${pathToFileURL(join(root, 'dest')).href}\ntables:\n  - table: tv_hive\n    strategy: incremental\n    cursor: at\n    partition: day\n    file_max_rows: 200\n    lag: 1d\n`,
  );
  // killed after its second object is stored but before it is committed: the rerun writes the same keys
  const killed = await runCli(['backup', file], { TABLEVAULT_TEST_KILL_AT: 'after-upload:2' });
  const rerun = await runCli(['backup', file]);
  const prefix = join(root, 'dest', 'public.tv_hive');
  const first = walk(prefix).filter((f) => f.endsWith('.parquet'));

  // a new column, rows on a new day, and a row updated into an earlier day's cursor... via the lag window
  await withPg((c) =>
    c.query(`ALTER TABLE tv_hive ADD COLUMN extra int;
    INSERT INTO tv_hive SELECT g, 'new', timestamptz '2024-03-04 06:00:00+00' + g * interval '1 minute', g FROM generate_series(701, 760) g;`),
  );
  const second = await runCli(['backup', file]);
  await withPg((c) => c.query(`INSERT INTO tv_hive VALUES (761, 'late', timestamptz '2024-03-04 05:00:00+00', 1)`)); // older than the watermark, within the lag
  const third = await runCli(['backup', file]);

  const rows = await readParquetRows(join(prefix, '**', '*.parquet'), { unionByName: true, hivePartitioning: true });
  const day4 = walk(prefix).find((f) => f.startsWith('dt=2024-03-04'));
  const kv = day4 ? await parquetKeyValueMetadata(join(prefix, day4)) : [];
  const meta = Object.fromEntries(kv.map((m) => [m.key, m.value]));

  await withPg((c) => c.query('DROP TABLE IF EXISTS tv_hive_back'));
  const restored = await runCli([
    'restore',
    `${pathToFileURL(join(root, 'dest')).href}/public.tv_hive`,
    '--target',
    PG_URL,
    '--table',
    'tv_hive_back',
    '--create',
  ]);
  const missing = await withPg(
    async (c) => (await c.query('SELECT a::text FROM tv_hive a EXCEPT SELECT b::text FROM tv_hive_back b')).rows,
  );
  const verified = await runCli(['verify', file]);
  return { killed, rerun, first, second, third, rows, meta, restored, missing, verified };
}

describe('partition: day (Hive-style layout)', () => {
  let s: Scenario;
  beforeAll(async () => {
    s = await runScenario();
  });

  it('the run killed between upload and commit dies by SIGKILL', () => {
    expect(s.killed.signal).toBe('SIGKILL');
  });

  it('the rerun after the kill succeeds', () => {
    expect(s.rerun.code, s.rerun.stdout + s.rerun.stderr).toBe(0);
  });

  it('puts each object under dt=YYYY-MM-DD/ as incr-NNNNNNNN.parquet', () => {
    expect(s.first.every((f) => /^dt=2024-03-0[1-3]\/incr-\d{8}\.parquet$/.test(f))).toBe(true);
  });

  it('writes one folder per day of the cursor', () => {
    expect(new Set(s.first.map((f) => f.slice(0, 13)))).toEqual(
      new Set(['dt=2024-03-01', 'dt=2024-03-02', 'dt=2024-03-03']),
    );
  });

  it('backs up after a new column is added', () => {
    expect(s.second.code, s.second.stdout + s.second.stderr).toBe(0);
  });

  it('backs up a late row within the lag window', () => {
    expect(s.third.code, s.third.stdout + s.third.stderr).toBe(0);
  });

  it('DuckDB reads the prefix as one table across the schema change: every row once, none lost or doubled by the kill', () => {
    expect(s.rows).toHaveLength(761);
    expect(new Set(s.rows.map((r) => r.id)).size).toBe(761);
  });

  it("every row lies in its own day's folder", () => {
    for (const r of s.rows) expect(String(r.dt)).toBe(new Date(String(r.at)).toISOString().slice(0, 10));
  });

  it('the added column has values exactly in the rows written after it was added', () => {
    expect(s.rows.filter((r) => r.extra !== null)).toHaveLength(61);
  });

  it("each object's footer names the source, the schema version, its partition and its cursor range", () => {
    expect(JSON.parse(s.meta['tablevault.source']!)).toEqual({
      engine: 'postgres',
      schema: 'public',
      table: 'tv_hive',
    });
    expect(s.meta['tablevault.schema_version']).toBe('2');
    expect(s.meta['tablevault.partition']).toBe('dt=2024-03-04');
    expect([s.meta['tablevault.cursor_from'], s.meta['tablevault.cursor_before']]).toEqual([
      '2024-03-04',
      '2024-03-05',
    ]);
  });

  it('restores the partitioned prefix into a table equal to the source', () => {
    expect(s.restored.code).toBe(0);
    expect(s.missing).toEqual([]);
  });

  it('verify finds the backup equal to the source', () => {
    expect(s.verified.code).toBe(0);
  });
});
