import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { CLI, runCli, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { createBucket, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

/** The CLI under a pseudo-terminal (util-linux `script`): what a user at a terminal sees on it. */
function runOnTty(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const command = [process.execPath, CLI, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_')));
    const child = spawn('script', ['-qec', command, '/dev/null'], {
      env: { ...base, TABLEVAULT_LOG_LEVEL: 'warn', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

beforeAll(async () => {
  await withPg((c) =>
    c.query(`DROP TABLE IF EXISTS tv_progress; CREATE TABLE tv_progress (id int PRIMARY KEY, v text, at timestamptz NOT NULL DEFAULT now());
    INSERT INTO tv_progress SELECT g, repeat('x', 50) FROM generate_series(1, 200000) g; ANALYZE tv_progress;
    DROP TABLE IF EXISTS tv_nullcur; CREATE TABLE tv_nullcur (id int PRIMARY KEY, at timestamptz); INSERT INTO tv_nullcur VALUES (1, now()), (2, NULL);`),
  );
});

describe('by hand: progress, summaries, exit codes, secrets', () => {
  describe('a live progress line on a terminal (rows / estimate, rows/s, bytes), none on a pipe or with --quiet', () => {
    let tty: { code: number | null; out: string };
    let quiet: { code: number | null; out: string };
    let piped: CliResult;
    beforeAll(async () => {
      const dest = pathToFileURL(mkdtempSync(join(tmpdir(), 'tv-progress-'))).href;
      const args = ['export', '--source', PG_URL, '--table', 'tv_progress', '--dest', dest, '--batch-rows', '5000'];
      tty = await runOnTty(args, { TABLEVAULT_TEST_PAUSE_AT: '' });
      quiet = await runOnTty(['--quiet', ...args]);
      piped = await runCli(args);
    });

    it('on a terminal: the export succeeds', () => {
      expect(tty.code).toBe(0);
    });

    it('on a terminal: a progress line with rows of the estimate, percent and rows/s', () => {
      expect(tty.out).toMatch(/export: public\.tv_progress [\d,]+ \/ ~200,000 rows \(\d+%\) [\d,]+ rows\/s/);
    });

    it('on a terminal: the summary follows the progress line', () => {
      expect(tty.out).toMatch(/table\s+rows\s+files/); // the summary follows, on the terminal too
    });

    it('--quiet on a terminal: no progress line', () => {
      expect(quiet.code).toBe(0);
      expect(quiet.out).not.toMatch(/rows\/s/);
    });

    it('on a pipe: no progress line, the summary on stdout', () => {
      expect(piped.code).toBe(0);
      expect(piped.stderr).not.toMatch(/rows\/s/);
      expect(piped.stdout).toMatch(/public\.tv_progress\s+200000\s+1/);
    });
  });

  describe('backup summary and exit codes', () => {
    let ok: CliResult;
    let partial: CliResult;
    let allFailed: CliResult;
    beforeAll(async () => {
      await resetState('pg');
      const root = mkdtempSync(join(tmpdir(), 'tv-exit-'));
      mkdirSync(join(root, 'dest'));
      const file = join(root, 'strategy.yaml');
      const write = (tables: string) =>
        writeFileSync(
          file,
          `source: ${PG_URL}\ndestination: ${pathToFileURL(join(root, 'dest')).href}\ntables:\n${tables}`,
        );
      const good = '  - table: tv_progress\n    strategy: full\n';
      const bad = '  - table: tv_nullcur\n    strategy: incremental\n    cursor: at\n    null_cursor: fail\n';
      write(good);
      ok = await runCli(['backup', file]);
      write(good + bad);
      partial = await runCli(['backup', file]);
      write(bad);
      allFailed = await runCli(['backup', file]);
    });

    it('0 when every table is done, with the table in the summary', () => {
      expect(ok.code).toBe(0);
      expect(ok.stdout).toMatch(/tv_progress\s+full\s+ok\s+200000/);
    });

    it('3 when some tables failed', () => {
      expect(partial.code).toBe(3);
    });

    it('the partial summary shows the table done and the table failed, with why', () => {
      expect(partial.stdout).toMatch(/tv_progress\s+full\s+ok/);
      expect(partial.stdout).toMatch(/tv_nullcur\s+incremental\s+failed/);
      expect(partial.stdout).toMatch(/tv_nullcur: .*NULL at/);
    });

    it('1 when every table failed', () => {
      expect(allFailed.code).toBe(1);
    });
  });

  describe.each(['trace', 'debug', 'info'])(
    'never prints the database password or the AWS secret key, at log level %s',
    (level) => {
      const target = s3Targets().at(-1)!; // RGW in CI: a real secret key to look for
      const password = 'Pw-3xtr3m3ly-S3cret';
      const secret = 'Secret-Key-That-Must-Not-Leak';
      let ok: CliResult;
      let failed: CliResult;
      let badDb: CliResult;
      beforeAll(async () => {
        const bucket = await createBucket(makeS3Client(target));
        const url = new URL(PG_URL);
        url.password = password; // trust auth accepts it; what matters is where it shows up
        ok = await runCli(
          ['--log-level', level, 'export', '--source', url.href, '--table', 'tv_nullcur', '--dest', `s3://${bucket}/r`],
          { ...s3EnvFor(target), TABLEVAULT_LOG_LEVEL: level },
        );
        failed = await runCli(
          ['--log-level', level, 'export', '--source', url.href, '--table', 'tv_nullcur', '--dest', `s3://${bucket}/r`],
          {
            ...s3EnvFor(target),
            AWS_ACCESS_KEY_ID: 'NOSUCHKEYID',
            AWS_SECRET_ACCESS_KEY: secret,
            TABLEVAULT_LOG_LEVEL: level,
            TABLEVAULT_DEBUG: '1',
          },
        );
        badDb = await runCli(
          [
            '--log-level',
            level,
            'export',
            '--source',
            url.href.replace('/test', '/no_such_db'),
            '--table',
            'tv_nullcur',
            '--dest',
            `s3://${bucket}/r`,
          ],
          { ...s3EnvFor(target), TABLEVAULT_DEBUG: '1' },
        );
      });

      it('a successful export succeeds', () => {
        expect(ok.code, ok.stderr).toBe(0);
      });

      it('on success: neither the password nor the secret key', () => {
        expect(ok.stdout + ok.stderr).not.toContain(password);
        expect(ok.stdout + ok.stderr).not.toContain(target.secretAccessKey);
      });

      it('rejected S3 credentials are exit 2', () => {
        expect(failed.code).toBe(2);
      });

      it('on rejected S3 credentials: neither the secret key nor the password', () => {
        expect(failed.stdout + failed.stderr).not.toContain(secret);
        expect(failed.stdout + failed.stderr).not.toContain(password);
      });

      it('a database that does not exist is exit 2', () => {
        expect(badDb.code).toBe(2);
      });

      it('on a database that does not exist: not the password', () => {
        expect(badDb.stdout + badDb.stderr).not.toContain(password);
      });
    },
  );
});
