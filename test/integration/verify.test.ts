import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { runCli } from '../helpers/cli.js';
import { MYSQL_URL, PG_URL, loadMysqlFixture, loadPgFixture, withMysql, withPg } from '../helpers/db.js';
import { createBucket, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

interface Diff { count: number; keys: string[] }
interface VerifyResult { tables: Array<{ table: string; equal: boolean; sourceRows: number; backupRows: number; rangesDiffering: number; missingFromBackup: Diff; notInSource: Diff; changed: Diff; error?: string }>; equal: boolean }

const parse = (stdout: string) => JSON.parse(stdout) as VerifyResult;

describe('verify', () => {
  it('every type: a fresh export of the type fixtures verifies equal (computed in SQL on both engines, MySQL\'s floats streamed)', async () => {
    await loadPgFixture('pg-types.sql');
    await loadMysqlFixture('mysql-types.sql');
    const dir = mkdtempSync(join(tmpdir(), 'tv-verify-types-'));
    const dest = pathToFileURL(dir).href;
    for (const [url, table] of [[PG_URL, 'public.tv_types'], [MYSQL_URL, 'tv_types']] as const) {
      expect((await runCli(['export', '--source', url, '--table', table, '--dest', dest])).code).toBe(0);
      const r = await runCli(['verify', '--source', url, '--table', table, '--dest', dest, '--json']);
      expect(r.code, `${table}: ${r.stdout} ${r.stderr}`).toBe(0);
      expect(parse(r.stdout).tables[0]!.equal).toBe(true);
    }
    // one value changed in a column of each kind family is caught
    await withPg((c) => c.query("UPDATE tv_types SET c_float8 = c_float8 * 2 WHERE id = 4; UPDATE tv_types SET c_text_arr = '{x}' WHERE id = 2"));
    const r = await runCli(['verify', '--source', PG_URL, '--table', 'public.tv_types', '--dest', dest, '--json']);
    expect(r.code).toBe(1);
    expect(parse(r.stdout).tables[0]!.changed).toEqual({ count: 2, keys: ['2', '4'] });
    // MySQL: a float (the streamed part) and a time (the SQL part)
    await withMysql((c) => c.query("UPDATE tv_types SET c_double = c_double * 2 WHERE id = 4; UPDATE tv_types SET c_time = '01:02:03.000004' WHERE id = 2"));
    const m = await runCli(['verify', '--source', MYSQL_URL, '--table', 'tv_types', '--dest', dest, '--json']);
    expect(m.code).toBe(1);
    expect(parse(m.stdout).tables[0]!.changed).toEqual({ count: 2, keys: ['2', '4'] });
  });

  it('PostgreSQL export in S3: equal right after; then names one changed value, one row missing from the backup and one deleted in the source', async () => {
    const target = s3Targets()[0]!;
    const client = makeS3Client(target);
    const bucket = await createBucket(client);
    await withPg((c) => c.query(`DROP TABLE IF EXISTS tv_verify; CREATE TABLE tv_verify (id bigint PRIMARY KEY, name text, amount numeric(12,2), at timestamptz, data bytea);
      INSERT INTO tv_verify SELECT g, 'n' || g, g * 1.25, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute', decode(md5(g::text), 'hex') FROM generate_series(1, 30000) g;`));
    expect((await runCli(['export', '--source', PG_URL, '--table', 'tv_verify', '--dest', `s3://${bucket}/v`, '--file-max-rows', '10000'], s3EnvFor(target))).code).toBe(0);
    const args = ['verify', '--source', PG_URL, '--table', 'tv_verify', '--dest', `s3://${bucket}/v`, '--json'];
    const same = await runCli(args, s3EnvFor(target));
    expect(same.code, same.stderr).toBe(0);
    expect(parse(same.stdout).tables[0]).toMatchObject({ equal: true, sourceRows: 30000, backupRows: 30000, rangesDiffering: 0 });

    // one changed value (a single microsecond), one row added since, one deleted since
    await withPg((c) => c.query(`UPDATE tv_verify SET at = at + interval '1 microsecond' WHERE id = 12345;
      INSERT INTO tv_verify VALUES (30001, 'late', 1, now(), NULL); DELETE FROM tv_verify WHERE id = 777;`));
    const diff = await runCli(args, s3EnvFor(target));
    expect(diff.code).toBe(1);
    const t = parse(diff.stdout).tables[0]!;
    expect(t.equal).toBe(false);
    expect(t.changed).toEqual({ count: 1, keys: ['12345'] });
    expect(t.missingFromBackup).toEqual({ count: 1, keys: ['30001'] });
    expect(t.notInSource).toEqual({ count: 1, keys: ['777'] });
    expect(t.rangesDiffering).toBeLessThanOrEqual(3);
    const text = await runCli(args.slice(0, -1), s3EnvFor(target));
    expect(text.stdout).toMatch(/DIFFERENT/);
    expect(text.stdout).toMatch(/in backup, not in source \(deleted there\?\): 777/);
  });

  it('MySQL incremental backup via its strategy file: the newest version per key is compared; a changed row is named', async () => {
    await resetState('mysql');
    await withMysql((c) => c.query(`DROP TABLE IF EXISTS tv_verify_inc; CREATE TABLE tv_verify_inc (a int, b varchar(10), v text, at datetime(6) NOT NULL, PRIMARY KEY (a, b));
      INSERT INTO tv_verify_inc SELECT seq, CONCAT('k', seq % 3), CONCAT('v', seq), TIMESTAMP('2024-01-01') + INTERVAL seq SECOND FROM seq_1_to_3000;`));
    const dir = mkdtempSync(join(tmpdir(), 'tv-verify-'));
    const file = join(dir, 'strategy.yaml');
    writeFileSync(file, `source: ${MYSQL_URL}\ndestination: ${pathToFileURL(dir).href}\ntables:\n  - table: tv_verify_inc\n    strategy: incremental\n    cursor: at\n    file_max_rows: 1000\n`);
    expect((await runCli(['backup', file])).code).toBe(0);
    await withMysql((c) => c.query(`UPDATE tv_verify_inc SET v = 'again', at = TIMESTAMP('2025-01-01') + INTERVAL a SECOND WHERE a <= 100`));
    expect((await runCli(['backup', file])).code).toBe(0);
    const ok = await runCli(['verify', file, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(parse(ok.stdout).tables[0]).toMatchObject({ equal: true, sourceRows: 3000, backupRows: 3000 });
    await withMysql((c) => c.query(`UPDATE tv_verify_inc SET v = 'not backed up yet' WHERE a = 2500`));
    const diff = await runCli(['verify', file, '--json']);
    expect(diff.code).toBe(1);
    expect(parse(diff.stdout).tables[0]!.changed).toEqual({ count: 1, keys: ['2500, k1'] });
  });
});
