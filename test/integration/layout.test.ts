import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { parquetKeyValueMetadata, readParquetRows } from '../helpers/duckdb.js';

/** Every object path under a folder, relative to it. */
function walk(dir: string, base = ''): string[] {
  return readdirSync(join(dir, base), { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(dir, join(base, e.name)) : [join(base, e.name)]));
}

describe('partition: day (Hive-style layout)', () => {
  it('one day per object under dt=YYYY-MM-DD/; DuckDB reads the prefix as one table across a schema change; a killed run reruns exactly', async () => {
    await resetState('pg');
    await withPg((c) => c.query(`DROP TABLE IF EXISTS tv_hive; CREATE TABLE tv_hive (id int PRIMARY KEY, v text, at timestamptz NOT NULL);
      INSERT INTO tv_hive SELECT g, 'v' || g, timestamptz '2024-03-01 00:00:00+00' + g * interval '5 minutes' FROM generate_series(1, 700) g;`)); // 2024-03-01 .. 03-03
    const root = mkdtempSync(join(tmpdir(), 'tv-hive-'));
    mkdirSync(join(root, 'dest'));
    const file = join(root, 'strategy.yaml');
    writeFileSync(file, `source: ${PG_URL}\ndestination: ${pathToFileURL(join(root, 'dest')).href}\ntables:\n  - table: tv_hive\n    strategy: incremental\n    cursor: at\n    partition: day\n    file_max_rows: 200\n    lag: 1d\n`);
    // killed after its second object is stored but before it is committed: the rerun writes the same keys
    const killed = await runCli(['backup', file], { TABLEVAULT_TEST_KILL_AT: 'after-upload:2' });
    expect(killed.signal).toBe('SIGKILL');
    const rerun = await runCli(['backup', file]);
    expect(rerun.code, rerun.stdout + rerun.stderr).toBe(0);
    const prefix = join(root, 'dest', 'public.tv_hive');
    const first = walk(prefix).filter((f) => f.endsWith('.parquet'));
    expect(first.every((f) => /^dt=2024-03-0[1-3]\/incr-\d{8}\.parquet$/.test(f))).toBe(true);
    expect(new Set(first.map((f) => f.slice(0, 13)))).toEqual(new Set(['dt=2024-03-01', 'dt=2024-03-02', 'dt=2024-03-03']));

    // a new column, rows on a new day, and a row updated into an earlier day's cursor... via the lag window
    await withPg((c) => c.query(`ALTER TABLE tv_hive ADD COLUMN extra int;
      INSERT INTO tv_hive SELECT g, 'new', timestamptz '2024-03-04 06:00:00+00' + g * interval '1 minute', g FROM generate_series(701, 760) g;`));
    const second = await runCli(['backup', file]);
    expect(second.code, second.stdout + second.stderr).toBe(0);
    await withPg((c) => c.query(`INSERT INTO tv_hive VALUES (761, 'late', timestamptz '2024-03-04 05:00:00+00', 1)`)); // older than the watermark, within the lag
    const third = await runCli(['backup', file]);
    expect(third.code, third.stdout + third.stderr).toBe(0);

    const rows = await readParquetRows(join(prefix, '**', '*.parquet'), { unionByName: true, hivePartitioning: true });
    expect(rows).toHaveLength(761);
    expect(new Set(rows.map((r) => r.id)).size).toBe(761);
    for (const r of rows) expect(String(r.dt)).toBe(new Date(String(r.at)).toISOString().slice(0, 10)); // every row in its own day's folder
    expect(rows.filter((r) => r.extra !== null)).toHaveLength(61);
    const kv = await parquetKeyValueMetadata(join(prefix, walk(prefix).find((f) => f.startsWith('dt=2024-03-04'))!));
    const meta = Object.fromEntries(kv.map((m) => [m.key, m.value]));
    expect(JSON.parse(meta['tablevault.source']!)).toEqual({ engine: 'postgres', schema: 'public', table: 'tv_hive' });
    expect(meta['tablevault.schema_version']).toBe('2');
    expect(meta['tablevault.partition']).toBe('dt=2024-03-04');
    expect([meta['tablevault.cursor_from'], meta['tablevault.cursor_before']]).toEqual(['2024-03-04', '2024-03-05']);

    await withPg((c) => c.query('DROP TABLE IF EXISTS tv_hive_back'));
    expect((await runCli(['restore', `${pathToFileURL(join(root, 'dest')).href}/public.tv_hive`, '--target', PG_URL, '--table', 'tv_hive_back', '--create'])).code).toBe(0);
    expect(await withPg(async (c) => (await c.query('SELECT a::text FROM tv_hive a EXCEPT SELECT b::text FROM tv_hive_back b')).rows)).toEqual([]);
    expect((await runCli(['verify', file])).code).toBe(0);
  });
});
