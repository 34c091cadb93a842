import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_URL, PG_URL, loadMysqlFixture, loadPgFixture, withMysql, withPg } from '../helpers/db.js';
import { createBucket, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

interface Diff {
  count: number;
  keys: string[];
}
interface VerifyResult {
  tables: Array<{
    table: string;
    equal: boolean;
    sourceRows: number;
    backupRows: number;
    rangesDiffering: number;
    missingFromBackup: Diff;
    notInSource: Diff;
    changed: Diff;
    error?: string;
  }>;
  equal: boolean;
}

const parse = (stdout: string) => JSON.parse(stdout) as VerifyResult;

describe('verify', () => {
  describe("every type: a fresh export of the type fixtures (computed in SQL on both engines, MySQL's floats streamed)", () => {
    const fresh: Array<{ table: string; exported: CliResult; verified: CliResult }> = [];
    let pgChanged: CliResult;
    let myChanged: CliResult;
    beforeAll(async () => {
      await loadPgFixture('pg-types.sql');
      await loadMysqlFixture('mysql-types.sql');
      const dir = mkdtempSync(join(tmpdir(), 'tv-verify-types-'));
      const dest = pathToFileURL(dir).href;
      for (const [url, table] of [
        [PG_URL, 'public.tv_types'],
        [MYSQL_URL, 'tv_types'],
      ] as const) {
        const exported = await runCli(['export', '--source', url, '--table', table, '--dest', dest]);
        fresh.push({
          table,
          exported,
          verified: await runCli(['verify', '--source', url, '--table', table, '--dest', dest, '--json']),
        });
      }
      // one value changed in a column of each kind family
      await withPg((c) =>
        c.query(
          "UPDATE tv_types SET c_float8 = c_float8 * 2 WHERE id = 4; UPDATE tv_types SET c_text_arr = '{x}' WHERE id = 2",
        ),
      );
      pgChanged = await runCli(['verify', '--source', PG_URL, '--table', 'public.tv_types', '--dest', dest, '--json']);
      // MySQL: a float (the streamed part) and a time (the SQL part)
      await withMysql((c) =>
        c.query(
          "UPDATE tv_types SET c_double = c_double * 2 WHERE id = 4; UPDATE tv_types SET c_time = '01:02:03.000004' WHERE id = 2",
        ),
      );
      myChanged = await runCli(['verify', '--source', MYSQL_URL, '--table', 'tv_types', '--dest', dest, '--json']);
    });

    it.each([
      ['PostgreSQL', 0],
      ['MySQL', 1],
    ] as const)('%s: the fresh export verifies equal', (_engine, i) => {
      const { table, exported, verified } = fresh[i]!;
      expect(exported.code).toBe(0);
      expect(verified.code, `${table}: ${verified.stdout} ${verified.stderr}`).toBe(0);
      expect(parse(verified.stdout).tables[0]!.equal).toBe(true);
    });

    it('PostgreSQL: a changed float and a changed array are caught and named', () => {
      expect(pgChanged.code).toBe(1);
      expect(parse(pgChanged.stdout).tables[0]!.changed).toEqual({ count: 2, keys: ['2', '4'] });
    });

    it('MySQL: a changed float (the streamed part) and a changed time (the SQL part) are caught and named', () => {
      expect(myChanged.code).toBe(1);
      expect(parse(myChanged.stdout).tables[0]!.changed).toEqual({ count: 2, keys: ['2', '4'] });
    });
  });

  describe('PostgreSQL export in S3', () => {
    let exported: CliResult;
    let same: CliResult;
    let diff: CliResult;
    let text: CliResult;
    beforeAll(async () => {
      const target = s3Targets()[0]!;
      const client = makeS3Client(target);
      const bucket = await createBucket(client);
      await withPg((c) =>
        c.query(`DROP TABLE IF EXISTS tv_verify; CREATE TABLE tv_verify (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz, data bytea);
        INSERT INTO tv_verify SELECT g, 'n' || g, g * 1.25, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', decode(md5(g::text), 'hex') FROM generate_series(1, 30000) g;`),
      );
      exported = await runCli(
        [
          'export',
          '--source',
          PG_URL,
          '--table',
          'tv_verify',
          '--dest',
          `s3://${bucket}/v`,
          '--file-max-rows',
          '10000',
        ],
        s3EnvFor(target),
      );
      const args = ['verify', '--source', PG_URL, '--table', 'tv_verify', '--dest', `s3://${bucket}/v`, '--json'];
      same = await runCli(args, s3EnvFor(target));
      // one changed value (a single microsecond), one row added since, one deleted since
      await withPg((c) =>
        c.query(`UPDATE tv_verify SET at = at + interval '1 microsecond' WHERE id = 12345;
        INSERT INTO tv_verify VALUES (30001, 'late', 1, now(), NULL); DELETE FROM tv_verify WHERE id = 777;`),
      );
      diff = await runCli(args, s3EnvFor(target));
      text = await runCli(args.slice(0, -1), s3EnvFor(target));
    });
    const table = () => parse(diff.stdout).tables[0]!;

    it('the export succeeds', () => {
      expect(exported.code).toBe(0);
    });

    it('verifies equal right after the export', () => {
      expect(same.code, same.stderr).toBe(0);
      expect(parse(same.stdout).tables[0]).toMatchObject({
        equal: true,
        sourceRows: 30000,
        backupRows: 30000,
        rangesDiffering: 0,
      });
    });

    it('after changes, exits 1 and reports the table different', () => {
      expect(diff.code).toBe(1);
      expect(table().equal).toBe(false);
    });

    it('names the row whose value changed by a single microsecond', () => {
      expect(table().changed).toEqual({ count: 1, keys: ['12345'] });
    });

    it('names the row added since, as missing from the backup', () => {
      expect(table().missingFromBackup).toEqual({ count: 1, keys: ['30001'] });
    });

    it('names the row deleted since, as not in the source', () => {
      expect(table().notInSource).toEqual({ count: 1, keys: ['777'] });
    });

    it('the three differences lie in at most three key ranges', () => {
      expect(table().rangesDiffering).toBeLessThanOrEqual(3);
    });

    it('the text report says DIFFERENT and names the deleted row', () => {
      expect(text.stdout).toMatch(/DIFFERENT/);
      expect(text.stdout).toMatch(/in backup, not in source \(deleted there\?\): 777/);
    });
  });

  describe('MySQL incremental backup via its strategy file', () => {
    let first: CliResult;
    let second: CliResult;
    let ok: CliResult;
    let diff: CliResult;
    beforeAll(async () => {
      await resetState('mysql');
      await withMysql((c) =>
        c.query(`DROP TABLE IF EXISTS tv_verify_inc; CREATE TABLE tv_verify_inc (a int, b varchar(10), v text, at datetime(6) NOT NULL, PRIMARY KEY (a, b));
        INSERT INTO tv_verify_inc SELECT seq, CONCAT('k', seq % 3), CONCAT('v', seq), TIMESTAMP('2024-01-01') + INTERVAL seq SECOND FROM seq_1_to_3000;`),
      );
      const dir = mkdtempSync(join(tmpdir(), 'tv-verify-'));
      const file = join(dir, 'strategy.yaml');
      writeFileSync(
        file,
        `source: ${MYSQL_URL}\ndestination: ${pathToFileURL(dir).href}\ntables:\n  - table: tv_verify_inc\n    strategy: incremental\n    cursor: at\n    file_max_rows: 1000\n`,
      );
      first = await runCli(['backup', file]);
      await withMysql((c) =>
        c.query(
          `UPDATE tv_verify_inc SET v = 'again', at = TIMESTAMP('2025-01-01') + INTERVAL a SECOND WHERE a <= 100`,
        ),
      );
      second = await runCli(['backup', file]);
      ok = await runCli(['verify', file, '--json']);
      await withMysql((c) => c.query(`UPDATE tv_verify_inc SET v = 'not backed up yet' WHERE a = 2500`));
      diff = await runCli(['verify', file, '--json']);
    });

    it('the first backup succeeds', () => {
      expect(first.code).toBe(0);
    });

    it('the backup after updates succeeds', () => {
      expect(second.code).toBe(0);
    });

    it('compares the newest version per key: equal', () => {
      expect(ok.code, ok.stderr).toBe(0);
      expect(parse(ok.stdout).tables[0]).toMatchObject({ equal: true, sourceRows: 3000, backupRows: 3000 });
    });

    it('names a row changed since the backup by its composite key', () => {
      expect(diff.code).toBe(1);
      expect(parse(diff.stdout).tables[0]!.changed).toEqual({ count: 1, keys: ['2500, k1'] });
    });
  });
});
