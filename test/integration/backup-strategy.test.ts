import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backup, resetState, strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import { readParquetRows } from '../helpers/duckdb.js';
import { createBucket, getObjectBytes, listKeys, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

beforeAll(async () => {
  await resetState('pg');
  await withPg((c) =>
    c.query(`DROP TABLE IF EXISTS tv_sb; CREATE TABLE tv_sb (id int PRIMARY KEY, v text, changed_at timestamptz, seen_at timestamptz NOT NULL DEFAULT now());
    INSERT INTO tv_sb SELECT g, 'v' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 300) g;`),
  );
});

/** Bad strategy files: a message naming the file, the table and the key; exit 2; nothing read or written. */
describe('backup: strategy file errors', () => {
  const cases: Array<[string, (dest: string) => string, RegExp, Record<string, string>?]> = [
    [
      'unknown key',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n    cursor: seen_at\n    cursr: x\n`,
      /: table tv_sb: unknown key "cursr"/,
    ],
    [
      'unknown top-level key',
      (d) => `source: ${PG_URL}\ndestination: ${d}\nschedule_typo: 1\ntables:\n  - table: tv_sb\n    strategy: full\n`,
      /strategy\.yaml: unknown key "schedule_typo"/,
    ],
    [
      'cursor column that does not exist',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n    cursor: updated_at\n`,
      /: table tv_sb: cursor: column "updated_at" does not exist in public\.tv_sb/,
    ],
    [
      'nullable cursor without a policy',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n    cursor: changed_at\n`,
      /: table tv_sb: cursor: column "changed_at" is nullable; add null_cursor: skip/,
    ],
    [
      'incremental without a cursor',
      (d) => `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n`,
      /: table tv_sb: cursor is required for strategy incremental/,
    ],
    [
      'a column list naming a missing column',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n    cursor: seen_at\n    columns: [id, nope]\n`,
      /: table tv_sb: columns: column "nope" does not exist/,
    ],
    [
      'a table that does not exist',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: full\n  - table: no_such\n    strategy: full\n`,
      /table no_such does not exist/,
    ],
    [
      'an unset environment variable',
      (d) => `source: \${TV_TEST_UNSET_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: full\n`,
      /: source refers to \$\{TV_TEST_UNSET_URL\}, which is not set/,
    ],
    [
      'a lag that does not fit the cursor',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n    cursor: id\n    lag: 15m\n`,
      /: table tv_sb: lag: cursor "id" is a integer; give lag as a number of cursor units/,
    ],
    ['not YAML', () => 'tables: [unclosed\n', /strategy\.yaml is not valid YAML/],
    [
      'a mirror without an S3 destination',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: full\nmirror:\n  - dest: s3://archive/x\n`,
      /: mirror: needs an s3:\/\/ destination/,
    ],
    [
      'retention on a full table',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: full\n    retention: { keep_runs: 3 }\n`,
      /: table tv_sb: retention is for incremental tables/,
    ],
    [
      'retention that keeps by neither count nor age',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ndefaults: { retention: {} }\ntables:\n  - table: tv_sb\n    strategy: full\n`,
      /: defaults\.retention: needs keep_runs, keep_days or both/,
    ],
    [
      'a wrong type',
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: full\n    file_max_rows: lots\n`,
      /: table tv_sb: file_max_rows: Expected number, received string/,
    ],
  ];

  it.each(cases)('%s', async (_name, yaml, message, env) => {
    const { file, dir } = strategyFile(yaml);
    const r = await backup(file, [], env ?? {});
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(file);
    expect(r.code).toBe(2);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('--only a table the file does not list', async () => {
    const { file } = strategyFile(
      (d) => `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: full\n`,
    );
    const r = await backup(file, ['--only', 'orders']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--only orders: not a table of .*; it has tv_sb/);
  });

  it('secrets come from the environment, and --dry-run reads and writes nothing', async () => {
    const { file, dir } = strategyFile(
      (d) =>
        `source: \${TV_TEST_SOURCE}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n    cursor: seen_at\n`,
    );
    const r = jsonSummary<{ tables: Array<{ status: string }> }>(
      await backup(file, ['--dry-run', '--json'], { TV_TEST_SOURCE: PG_URL }),
    );
    expect(r.tables.map((t) => t.status)).toEqual(['planned']);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('null_cursor: skip leaves rows with a NULL cursor out; null_cursor: fail fails the table (exit 1)', async () => {
    await withPg((c) => c.query('UPDATE tv_sb SET changed_at = NULL WHERE id <= 10'));
    const skip = strategyFile(
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n    cursor: changed_at\n    null_cursor: skip\n`,
    );
    const s = jsonSummary<{ tables: Array<{ rows: number }> }>(await backup(skip.file, ['--json']));
    expect(s.tables[0]!.rows).toBe(290);
    await resetState('pg');
    const fail = strategyFile(
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_sb\n    strategy: incremental\n    cursor: changed_at\n    null_cursor: fail\n`,
    );
    const f = await backup(fail.file, ['--json']);
    expect(f.code).toBe(1);
    expect(JSON.parse(f.stdout).tables[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/rows have a NULL changed_at and null_cursor is fail/),
    });
  });
});

describe.each(s3Targets().map((t) => [t.name, t] as const))(
  'backup: to S3, MySQL state store via --state (%s)',
  (_name, target) => {
    let result: CliResult;
    let keys: string[];
    let manifest: unknown;
    let stateRows: Array<{ watermark: string; files: number }>;
    let lastIds: number[];
    let strategyText: string;
    let migrate: CliResult;
    beforeAll(async () => {
      await resetState('mysql');
      await withPg((c) =>
        c.query(`DROP TABLE IF EXISTS tv_s3inc; CREATE TABLE tv_s3inc (id int PRIMARY KEY, at timestamptz NOT NULL);
      INSERT INTO tv_s3inc SELECT g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1.5 second' FROM generate_series(1, 250) g;`),
      );
      const client = makeS3Client(target);
      const bucket = await createBucket(client);
      const { file } = strategyFile(
        () =>
          `source: ${PG_URL}\ndestination: s3://${bucket}/nightly\nstate: ${MYSQL_URL}\ntables:\n  - table: tv_s3inc\n    strategy: incremental\n    cursor: at\n    file_max_rows: 100\n`,
      );
      result = await backup(file, ['--json'], s3EnvFor(target));
      keys = await listKeys(client, bucket);
      manifest = keys.includes('nightly/public.tv_s3inc/_manifest.json')
        ? JSON.parse(
            Buffer.from(await getObjectBytes(client, bucket, 'nightly/public.tv_s3inc/_manifest.json')).toString(),
          )
        : undefined;
      stateRows = await withMysql(
        async (c) =>
          (await c.query('SELECT watermark, files FROM tablevault_tables'))[0] as Array<{
            watermark: string;
            files: number;
          }>,
      );
      const f = join(strategyFile(() => '').dir, 'x.parquet');
      if (keys.includes('nightly/public.tv_s3inc/incr-00000002.parquet')) {
        writeFileSync(f, await getObjectBytes(client, bucket, 'nightly/public.tv_s3inc/incr-00000002.parquet'));
        lastIds = (await readParquetRows(f, { orderBy: 'id' })).map((r) => Number(r.id));
      } else lastIds = [];
      strategyText = readFileSync(file, 'utf8');
      migrate = await runCli(['migrate', '--state', MYSQL_URL]);
    });

    it('backs up every row into three objects and ends at the newest (cursor, key)', () => {
      const s = jsonSummary<{ tables: Array<{ rows: number; files: number; watermarkAfter: string[] }> }>(result);
      expect(s.tables[0]).toMatchObject({ rows: 250, files: 3, watermarkAfter: ['2024-01-01 00:06:15+00', '250'] });
    });

    it("writes the objects and the manifest under the table's prefix", () => {
      expect(keys).toEqual([
        'nightly/public.tv_s3inc/_manifest.json',
        ...[0, 1, 2].map((i) => `nightly/public.tv_s3inc/incr-0000000${i}.parquet`),
      ]);
    });

    it('the manifest lists the files, their key ranges and the watermark', () => {
      expect(manifest).toMatchObject({
        format: 'tablevault.incremental.v1',
        keyColumns: ['at', 'id'],
        watermark: ['2024-01-01 00:06:15+00', '250'],
        rows: 250,
        files: [
          { name: 'incr-00000000.parquet', rows: 100, after: null, through: ['2024-01-01 00:02:30+00', '100'] },
          {
            name: 'incr-00000001.parquet',
            rows: 100,
            after: ['2024-01-01 00:02:30+00', '100'],
            through: ['2024-01-01 00:05:00+00', '200'],
          },
          {
            name: 'incr-00000002.parquet',
            rows: 50,
            after: ['2024-01-01 00:05:00+00', '200'],
            through: ['2024-01-01 00:06:15+00', '250'],
          },
        ],
      });
    });

    it('the MySQL state store holds the watermark and the file count', () => {
      expect(stateRows).toEqual([{ watermark: JSON.stringify(['2024-01-01 00:06:15+00', '250']), files: 3 }]);
    });

    it("the last object holds exactly the rows after the second one's range", () => {
      expect(lastIds).toEqual(Array.from({ length: 50 }, (_, i) => 201 + i));
    });

    it('the strategy file names no password', () => {
      expect(strategyText).not.toContain('password');
    });

    it('migrate --state finds the MySQL state store up to date', () => {
      expect(migrate.stdout).toMatch(/is up to date/);
    });
  },
);
