import { beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withPg } from '../helpers/db.js';
import { createBucket, listKeys, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

/** Bad input: one clear line on stderr saying what to fix, exit code 2, and nothing written. */
describe('export: bad input', () => {
  let bucket: string;
  const target = () => s3Targets()[0]!;
  beforeAll(async () => {
    bucket = await createBucket(makeS3Client(target()));
    await withPg((c) =>
      c.query(
        'DROP TABLE IF EXISTS tv_small; CREATE TABLE tv_small (id int PRIMARY KEY); INSERT INTO tv_small VALUES (1), (2)',
      ),
    );
  });

  async function expectInputError(args: string[], message: RegExp, env: Record<string, string | undefined> = {}) {
    const r = await runCli(['export', ...args], { ...s3EnvFor(target()), ...env });
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(await listKeys(makeS3Client(target()), bucket)).toEqual([]);
    return r;
  }

  const dest = () => `s3://${bucket}/bad`;

  it('unknown table', async () => {
    await expectInputError(
      ['--source', PG_URL, '--table', 'no_such_table', '--dest', dest()],
      /table no_such_table does not exist .*check --table/,
    );
    await expectInputError(
      ['--source', MYSQL_URL, '--table', 'no_such_table', '--dest', dest()],
      new RegExp(`table ${MYSQL_DB}\\.no_such_table does not exist`),
    );
  });

  it('unreachable database, without printing the password', async () => {
    const r = await expectInputError(
      ['--source', 'postgres://postgres:sekret-pw@127.0.0.1:1/test', '--table', 'tv_small', '--dest', dest()],
      /cannot connect to PostgreSQL at postgres:\/\/postgres@127\.0\.0\.1:1\/test \(ECONNREFUSED\)/,
    );
    expect(r.stderr).not.toContain('sekret-pw');
    const m = await expectInputError(
      ['--source', 'mysql://root:sekret-pw@127.0.0.1:1/test', '--table', 'tv_small', '--dest', dest()],
      /cannot connect to MySQL .*ECONNREFUSED/,
    );
    expect(m.stderr).not.toContain('sekret-pw');
  });

  it('wrong database credentials', async () => {
    await expectInputError(
      ['--source', 'mysql://no_such_user:x@127.0.0.1:3306/test', '--table', 'tv_small', '--dest', dest()],
      /rejected the login; check the user and password/,
    );
  });

  it('bad URLs', async () => {
    await expectInputError(
      ['--source', 'not a url', '--table', 'tv_small', '--dest', dest()],
      /--source .* is not a URL/,
    );
    await expectInputError(
      ['--source', 'redis://127.0.0.1/0', '--table', 'tv_small', '--dest', dest()],
      /scheme "redis" is not supported/,
    );
    await expectInputError(
      ['--source', PG_URL, '--table', 'tv_small', '--dest', 'https://bucket/x'],
      /--dest .* is not an S3 URL; use s3:\/\/bucket\/prefix/,
    );
  });

  it('unknown option and bad option values', async () => {
    await expectInputError(
      ['--source', PG_URL, '--table', 'tv_small', '--dest', dest(), '--bogus'],
      /unknown option '--bogus'/,
    );
    await expectInputError(
      ['--source', PG_URL, '--table', 'tv_small', '--dest', dest(), '--compression', 'lz77'],
      /--compression.*Allowed choices are zstd, lz4_raw, snappy, gzip, none/,
    );
    await expectInputError(
      ['--source', PG_URL, '--table', 'tv_small', '--dest', dest(), '--part-size', '1MiB'],
      /--part-size must be at least 5 MiB/,
    );
    await expectInputError(
      ['--source', PG_URL, '--table', 'tv_small', '--dest', dest(), '--batch-rows', '0'],
      /--batch-rows.*whole number/,
    );
  });

  it('missing bucket', async () => {
    await expectInputError(
      ['--source', PG_URL, '--table', 'tv_small', '--dest', 's3://tv-no-such-bucket-4242/x'],
      /bucket "tv-no-such-bucket-4242" does not exist.*create it first/,
    );
  });

  it('wrong S3 credentials, without printing the secret', async () => {
    const r = await expectInputError(
      ['--source', PG_URL, '--table', 'tv_small', '--dest', dest()],
      /S3 at .* (rejected the credentials|denied access).*credentials/,
      { AWS_ACCESS_KEY_ID: 'WRONGKEY', AWS_SECRET_ACCESS_KEY: 'wrong-secret-value' },
    );
    expect(r.stderr).not.toContain('wrong-secret-value');
  });
});
