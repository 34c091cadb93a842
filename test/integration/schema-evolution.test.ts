import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
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
  name: 'PostgreSQL',
  url: PG_URL,
  qualified: 'public',
  exec: (q) =>
    withPg(async (c) => {
      await c.query(q);
    }),
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
  snapshot: (t) =>
    `SELECT id, v::text AS v, name, extra, amount::text AS amount, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS at FROM ${t} ORDER BY id`,
};

const my: Engine = {
  name: 'MySQL',
  url: MYSQL_URL,
  qualified: MYSQL_DB,
  exec: (q) =>
    withMysql(async (c) => {
      await c.query(q);
    }),
  rows: (q) =>
    withMysql(async (c) => {
      const [r] = await c.query(q);
      return r as Array<Record<string, unknown>>;
    }),
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
  snapshot: (t) =>
    `SELECT id, CAST(v AS CHAR) AS v, name, extra, CAST(amount AS CHAR) AS amount, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s.%f') AS at FROM ${t} ORDER BY id`,
};

interface Manifest {
  schemaVersion: number;
  schemas: Array<{ version: number; changes: string[]; columns: Array<{ name: string }> }>;
  files: Array<{ schemaVersion: number; rows: number }>;
}

interface HistoryRun {
  backups: CliResult[];
  manifest: Manifest;
  restored: CliResult;
  restoredRows: Array<Record<string, unknown>>;
  sourceRows: Array<Record<string, unknown>>;
  verified: CliResult;
  status: CliResult;
  all: Array<Record<string, unknown>>;
}

/** Three backups: as created, after a column is added, after one is dropped and three widened; then restore, verify, status. */
async function runHistory(e: Engine): Promise<HistoryRun> {
  await resetState(e === pg ? 'pg' : 'mysql');
  await e.exec('DROP TABLE IF EXISTS tv_se');
  await e.exec(e.create);
  const root = mkdtempSync(join(tmpdir(), 'tv-schema-'));
  mkdirSync(join(root, 'dest'));
  const dest = pathToFileURL(join(root, 'dest')).href;
  const file = join(root, 'strategy.yaml');
  writeFileSync(
    file,
    `source: ${e.url}\ndestination: ${dest}\ntables:\n  - table: tv_se\n    strategy: incremental\n    cursor: at\n    file_max_rows: 120\n`,
  );
  const backups: CliResult[] = [];
  const backup = async () => {
    backups.push(await runCli(['backup', file]));
  };
  await backup();
  await e.exec(e.addColumn);
  await backup();
  await e.exec(e.dropAndWiden);
  await backup();

  const manifest = JSON.parse(
    await readFile(join(root, 'dest', `${e.qualified}.tv_se`, '_manifest.json'), 'utf8'),
  ) as Manifest;
  // the whole history back, at the widest types, NULL where an object lacked a column
  await e.exec('DROP TABLE IF EXISTS tv_se_back');
  const restored = await runCli([
    'restore',
    `${dest}/${e.qualified}.tv_se`,
    '--target',
    e.url,
    '--table',
    'tv_se_back',
    '--create',
  ]);
  const restoredRows = await e.rows(e.snapshot('tv_se_back'));
  const sourceRows = await e.rows(e.snapshot('tv_se'));
  const verified = await runCli(['verify', file, '--json']);
  const status = await runCli(['status', file]);
  // DuckDB reads every object of the prefix together as one table, across the versions
  const all = await readParquetRows(join(root, 'dest', `${e.qualified}.tv_se`, '*.parquet'), { unionByName: true });
  return { backups, manifest, restored, restoredRows, sourceRows, verified, status, all };
}

interface ResetRun {
  first: CliResult;
  partial: CliResult;
  summary: { tables: Array<{ table: string; status: string; rows: number; error?: string }> };
  reset: CliResult;
  restored: CliResult;
  restoredRows: Array<Record<string, unknown>>;
  sourceRows: Array<Record<string, unknown>>;
  verified: CliResult;
}

/** Two tables backed up; one changes incompatibly; a partial run; then --reset-table, restore and verify of that table. */
async function runIncompatible(e: Engine): Promise<ResetRun> {
  await resetState(e === pg ? 'pg' : 'mysql');
  await e.exec('DROP TABLE IF EXISTS tv_se_bad');
  await e.exec('DROP TABLE IF EXISTS tv_se_ok');
  await e.exec(
    `CREATE TABLE tv_se_bad (id int PRIMARY KEY, code varchar(20) NOT NULL, at ${e === pg ? 'timestamptz' : 'datetime(6)'} NOT NULL)`,
  );
  await e.exec(`CREATE TABLE tv_se_ok (id int PRIMARY KEY, at ${e === pg ? 'timestamptz' : 'datetime(6)'} NOT NULL)`);
  await e.exec(`INSERT INTO tv_se_bad VALUES (1, 'abc', ${e.now}), (2, 'de', ${e.now})`);
  await e.exec(`INSERT INTO tv_se_ok VALUES (1, ${e.now})`);
  const root = mkdtempSync(join(tmpdir(), 'tv-schema-bad-'));
  mkdirSync(join(root, 'dest'));
  const dest = pathToFileURL(join(root, 'dest')).href;
  const file = join(root, 'strategy.yaml');
  writeFileSync(
    file,
    `source: ${e.url}\ndestination: ${dest}\ntables:\n  - table: tv_se_bad\n    strategy: incremental\n    cursor: at\n  - table: tv_se_ok\n    strategy: incremental\n    cursor: at\n`,
  );
  const first = await runCli(['backup', file]);
  await e.exec(e.incompatible);
  await e.exec(`INSERT INTO tv_se_ok VALUES (2, ${e.now})`);
  const partial = await runCli(['backup', file, '--json']);
  const summary = partial.stdout ? (JSON.parse(partial.stdout) as ResetRun['summary']) : { tables: [] };
  const reset = await runCli(['backup', file, '--only', 'tv_se_bad', '--reset-table', 'tv_se_bad', '--json']);
  // a restore takes the objects since the reset: the table as it is now
  await e.exec('DROP TABLE IF EXISTS tv_se_bad_back');
  const restored = await runCli([
    'restore',
    `${dest}/${e.qualified}.tv_se_bad`,
    '--target',
    e.url,
    '--table',
    'tv_se_bad_back',
    '--create',
  ]);
  const restoredRows = await e.rows('SELECT id, code FROM tv_se_bad_back ORDER BY id');
  const sourceRows = await e.rows('SELECT id, code FROM tv_se_bad ORDER BY id');
  const verified = await runCli(['verify', file, '--only', 'tv_se_bad']);
  return { first, partial, summary, reset, restored, restoredRows, sourceRows, verified };
}

describe.each([
  [pg.name, pg],
  [my.name, my],
] as const)('schema changes between incremental runs (%s)', (_name, e) => {
  describe('add a column, then drop one and widen three', () => {
    let h: HistoryRun;
    beforeAll(async () => {
      h = await runHistory(e);
    });

    it.each([
      ['the first backup', 0],
      ['the backup after a column is added', 1],
      ['the backup after a drop and three widenings', 2],
    ] as const)('%s succeeds', (_what, i) => {
      const r = h.backups[i]!;
      expect(r.code, r.stdout + r.stderr).toBe(0);
    });

    it('the manifest is at schema version 3 and keeps versions 1, 2 and 3', () => {
      expect(h.manifest.schemaVersion).toBe(3);
      expect(h.manifest.schemas.map((s) => s.version)).toEqual([1, 2, 3]);
    });

    it('version 2 records the added column', () => {
      expect(h.manifest.schemas[1]!.changes).toEqual(['column extra added']);
    });

    it('version 3 records the dropped column and the three widenings', () => {
      expect(h.manifest.schemas[2]!.changes.join('; ')).toMatch(
        /column note dropped.*column v widened .*column name widened .*column amount widened/,
      );
    });

    it('objects were written under each of the three versions', () => {
      expect(new Set(h.manifest.files.map((f) => f.schemaVersion))).toEqual(new Set([1, 2, 3]));
    });

    it('restores the whole history, at the widest types, equal to the source', () => {
      expect(h.restored.code, h.restored.stderr).toBe(0);
      expect(h.restoredRows).toEqual(h.sourceRows);
    });

    it('verify of the whole history finds it equal', () => {
      expect(h.verified.code, h.verified.stdout + h.verified.stderr).toBe(0);
    });

    it('status shows the table at v3 and what changed at v2', () => {
      expect(h.status.stdout).toMatch(/tv_se\s+incremental.*v3/);
      expect(h.status.stdout).toMatch(/tv_se: schema v2 .*column extra added/);
    });

    it('DuckDB reads every object of the prefix as one table across the versions', () => {
      expect(h.all.length).toBe(h.manifest.files.reduce((n, _f, i) => n + h.manifest.files[i]!.rows, 0));
      expect(Object.keys(h.all[0]!)).toEqual(
        expect.arrayContaining(['id', 'v', 'name', 'note', 'extra', 'amount', 'at']),
      );
    });
  });

  describe('an incompatible change', () => {
    let r: ResetRun;
    beforeAll(async () => {
      r = await runIncompatible(e);
    });

    it('the first backup of both tables succeeds', () => {
      expect(r.first.code).toBe(0);
    });

    it('fails the run partially (exit 3)', () => {
      expect(r.partial.code).toBe(3);
    });

    it('the other table goes on', () => {
      expect(r.summary.tables.find((t) => t.table === 'tv_se_ok')).toMatchObject({ status: 'ok', rows: 1 });
    });

    it('fails the changed table and says what to run', () => {
      const bad = r.summary.tables.find((t) => t.table === 'tv_se_bad')!;
      expect(bad.status).toBe('failed');
      expect(bad.error).toMatch(
        /column code changed from .* to .*; objects already written cannot be read under the new schema\. .*--reset-table tv_se_bad/,
      );
    });

    it('--reset-table starts the table over and backs up every row', () => {
      expect(r.reset.code, r.reset.stderr).toBe(0);
      expect((JSON.parse(r.reset.stdout) as ResetRun['summary']).tables[0]).toMatchObject({ status: 'ok', rows: 2 });
    });

    it('a restore after the reset gives the table as it is now', () => {
      expect(r.restored.code).toBe(0);
      expect(r.restoredRows).toEqual(r.sourceRows);
    });

    it('verify after the reset finds the table equal', () => {
      expect(r.verified.code).toBe(0);
    });
  });
});
