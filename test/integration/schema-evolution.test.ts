import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import { readParquetRows } from '../helpers/duckdb.js';

interface Engine {
  name: string;
  url: string;
  exec: (sqlText: string) => Promise<void>;
  rows: (sqlText: string) => Promise<Array<Record<string, unknown>>>;
  /** DDL for the steps, in the engine's dialect */
  create: string;
  addColumn: string;
  dropAndWiden: string;
  incompatible: string;
  now: string;
  /** the table's rows, every column as text, in id order (compared across source and restored copy) */
  snapshot: (table: string) => string;
  qualified: string;
}

const pg: Engine = {
  name: 'PostgreSQL', url: PG_URL, qualified: 'public',
  exec: (q) => withPg(async (c) => { await c.query(q); }),
  rows: (q) => withPg(async (c) => (await c.query(q)).rows as Array<Record<string, unknown>>),
  create: `CREATE TABLE tv_se (id int PRIMARY KEY, v int4 NOT NULL, name varchar(10), note text, amount numeric(8,2), at timestamptz NOT NULL);
    INSERT INTO tv_se SELECT g, g, 'n' || g, 'note ' || g, g / 3.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 300) g;`,
  addColumn: `ALTER TABLE tv_se ADD COLUMN extra text;
    UPDATE tv_se SET extra = 'x' || id, at = timestamptz '2024-06-01 00:00:00+00' + id * interval '1 second' WHERE id % 10 = 0;
    INSERT INTO tv_se SELECT g, g, 'n' || g, 'note', 1.25, timestamptz '2024-07-01 00:00:00+00' + g * interval '1 second', 'new' FROM generate_series(301, 350) g;`,
  dropAndWiden: `ALTER TABLE tv_se DROP COLUMN note; ALTER TABLE tv_se ALTER COLUMN v TYPE int8; ALTER TABLE tv_se ALTER COLUMN name TYPE text;
    ALTER TABLE tv_se ALTER COLUMN amount TYPE numeric(12,3);
    INSERT INTO tv_se SELECT g, 9000000000 + g, repeat('long name ', 3) || g, 123456.789, timestamptz '2024-08-01 00:00:00+00' + g * interval '1 second', NULL FROM generate_series(351, 400) g;
    UPDATE tv_se SET amount = 0.001, at = timestamptz '2024-09-01 00:00:00+00' + id * interval '1 second' WHERE id % 7 = 0;`,
  incompatible: `ALTER TABLE tv_se_bad ALTER COLUMN code TYPE int USING length(code)`,
  now: 'now()',
  snapshot: (t) => `SELECT id, v::text AS v, name, extra, amount::text AS amount, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM ${t} ORDER BY id`,
};

const my: Engine = {
  name: 'MySQL', url: MYSQL_URL, qualified: 'test',
  exec: (q) => withMysql(async (c) => { await c.query(q); }),
  rows: (q) => withMysql(async (c) => { const [r] = await c.query(q); return r as Array<Record<string, unknown>>; }),
  create: `CREATE TABLE tv_se (id INT PRIMARY KEY, v INT NOT NULL, name VARCHAR(10), note TEXT, amount DECIMAL(8,2), at DATETIME(6) NOT NULL);
    INSERT INTO tv_se SELECT seq, seq, CONCAT('n', seq), CONCAT('note ', seq), seq / 3, TIMESTAMP('2024-01-01') + INTERVAL seq MINUTE FROM seq_1_to_300;`,
  addColumn: `ALTER TABLE tv_se ADD COLUMN extra TEXT;
    UPDATE tv_se SET extra = CONCAT('x', id), at = TIMESTAMP('2024-06-01') + INTERVAL id SECOND WHERE id % 10 = 0;
    INSERT INTO tv_se SELECT seq, seq, CONCAT('n', seq), 'note', 1.25, TIMESTAMP('2024-07-01') + INTERVAL seq SECOND, 'new' FROM seq_301_to_350;`,
  dropAndWiden: `ALTER TABLE tv_se DROP COLUMN note, MODIFY v BIGINT NOT NULL, MODIFY name VARCHAR(100), MODIFY amount DECIMAL(12,3);
    INSERT INTO tv_se SELECT seq, 9000000000 + seq, CONCAT(REPEAT('long name ', 3), seq), 123456.789, TIMESTAMP('2024-08-01') + INTERVAL seq SECOND, NULL FROM seq_351_to_400;
    UPDATE tv_se SET amount = 0.001, at = TIMESTAMP('2024-09-01') + INTERVAL id SECOND WHERE id % 7 = 0;`,
  incompatible: 'UPDATE tv_se_bad SET code = LENGTH(code); ALTER TABLE tv_se_bad MODIFY code INT',
  now: 'NOW(6)',
  snapshot: (t) => `SELECT id, CAST(v AS CHAR) AS v, name, extra, CAST(amount AS CHAR) AS amount, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f') AS at FROM ${t} ORDER BY id`,
};

describe.each([[pg.name, pg], [my.name, my]] as const)('schema changes between incremental runs (%s)', (_name, e) => {
  it('add a column, then drop one and widen three: backups keep running; restore and verify of the whole history are exact; status shows the versions', async () => {
    await resetState(e === pg ? 'pg' : 'mysql');
    await e.exec('DROP TABLE IF EXISTS tv_se');
    await e.exec(e.create);
    const root = mkdtempSync(join(tmpdir(), 'tv-schema-'));
    mkdirSync(join(root, 'dest'));
    const dest = pathToFileURL(join(root, 'dest')).href;
    const file = join(root, 'strategy.yaml');
    writeFileSync(file, `source: ${e.url}\ndestination: ${dest}\ntables:\n  - table: tv_se\n    strategy: incremental\n    cursor: at\n    file_max_rows: 120\n`);
    const backup = async () => { const r = await runCli(['backup', file]); expect(r.code, r.stdout + r.stderr).toBe(0); };
    await backup();
    await e.exec(e.addColumn);
    await backup();
    await e.exec(e.dropAndWiden);
    await backup();

    const manifest = JSON.parse(await readFile(join(root, 'dest', `${e.qualified}.tv_se`, '_manifest.json'), 'utf8')) as {
      schemaVersion: number; schemas: Array<{ version: number; changes: string[]; columns: Array<{ name: string }> }>; files: Array<{ schemaVersion: number }>;
    };
    expect(manifest.schemaVersion).toBe(3);
    expect(manifest.schemas.map((s) => s.version)).toEqual([1, 2, 3]);
    expect(manifest.schemas[1]!.changes).toEqual(['column extra added']);
    expect(manifest.schemas[2]!.changes.join('; ')).toMatch(/column note dropped.*column v widened .*column name widened .*column amount widened/);
    expect(new Set(manifest.files.map((f) => f.schemaVersion))).toEqual(new Set([1, 2, 3]));

    // the whole history back, at the widest types, NULL where an object lacked a column
    await e.exec('DROP TABLE IF EXISTS tv_se_back');
    const restored = await runCli(['restore', `${dest}/${e.qualified}.tv_se`, '--target', e.url, '--table', 'tv_se_back', '--create']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(await e.rows(e.snapshot('tv_se_back'))).toEqual(await e.rows(e.snapshot('tv_se')));
    const verified = await runCli(['verify', file, '--json']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);

    const status = await runCli(['status', file]);
    expect(status.stdout).toMatch(/tv_se\s+incremental.*v3/);
    expect(status.stdout).toMatch(/tv_se: schema v2 .*column extra added/);

    // DuckDB reads every object of the prefix together as one table, across the versions
    const all = await readParquetRows(join(root, 'dest', `${e.qualified}.tv_se`, '*.parquet'), { unionByName: true });
    expect(all.length).toBe(manifest.files.reduce((n, _f, i) => n + (manifest as unknown as { files: Array<{ rows: number }> }).files[i]!.rows, 0));
    expect(Object.keys(all[0]!)).toEqual(expect.arrayContaining(['id', 'v', 'name', 'note', 'extra', 'amount', 'at']));
  });

  it('an incompatible change fails that table (exit 3) and says what to run; the other table goes on; --reset-table starts it over', async () => {
    await resetState(e === pg ? 'pg' : 'mysql');
    await e.exec('DROP TABLE IF EXISTS tv_se_bad');
    await e.exec('DROP TABLE IF EXISTS tv_se_ok');
    await e.exec(`CREATE TABLE tv_se_bad (id int PRIMARY KEY, code varchar(20) NOT NULL, at ${e === pg ? 'timestamptz' : 'datetime(6)'} NOT NULL)`);
    await e.exec(`CREATE TABLE tv_se_ok (id int PRIMARY KEY, at ${e === pg ? 'timestamptz' : 'datetime(6)'} NOT NULL)`);
    await e.exec(`INSERT INTO tv_se_bad VALUES (1, 'abc', ${e.now}), (2, 'de', ${e.now})`);
    await e.exec(`INSERT INTO tv_se_ok VALUES (1, ${e.now})`);
    const root = mkdtempSync(join(tmpdir(), 'tv-schema-bad-'));
    mkdirSync(join(root, 'dest'));
    const dest = pathToFileURL(join(root, 'dest')).href;
    const file = join(root, 'strategy.yaml');
    writeFileSync(file, `source: ${e.url}\ndestination: ${dest}\ntables:\n  - table: tv_se_bad\n    strategy: incremental\n    cursor: at\n  - table: tv_se_ok\n    strategy: incremental\n    cursor: at\n`);
    expect((await runCli(['backup', file])).code).toBe(0);
    await e.exec(e.incompatible);
    await e.exec(`INSERT INTO tv_se_ok VALUES (2, ${e.now})`);
    const partial = await runCli(['backup', file, '--json']);
    expect(partial.code).toBe(3);
    const s = JSON.parse(partial.stdout) as { tables: Array<{ table: string; status: string; rows: number; error?: string }> };
    expect(s.tables.find((t) => t.table === 'tv_se_ok')).toMatchObject({ status: 'ok', rows: 1 });
    const bad = s.tables.find((t) => t.table === 'tv_se_bad')!;
    expect(bad.status).toBe('failed');
    expect(bad.error).toMatch(/column code changed from .* to .*; objects already written cannot be read under the new schema\. .*--reset-table tv_se_bad/);

    const reset = await runCli(['backup', file, '--only', 'tv_se_bad', '--reset-table', 'tv_se_bad', '--json']);
    expect(reset.code, reset.stderr).toBe(0);
    expect((JSON.parse(reset.stdout) as typeof s).tables[0]).toMatchObject({ status: 'ok', rows: 2 });
    // a restore takes the objects since the reset: the table as it is now
    await e.exec('DROP TABLE IF EXISTS tv_se_bad_back');
    expect((await runCli(['restore', `${dest}/${e.qualified}.tv_se_bad`, '--target', e.url, '--table', 'tv_se_bad_back', '--create'])).code).toBe(0);
    expect(await e.rows('SELECT id, code FROM tv_se_bad_back ORDER BY id')).toEqual(await e.rows('SELECT id, code FROM tv_se_bad ORDER BY id'));
    expect((await runCli(['verify', file, '--only', 'tv_se_bad'])).code).toBe(0);
  });
});
