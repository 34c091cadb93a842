import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { restoreLockKey } from '../../src/source/postgres/notes.js';
import { MYSQL, PG, type ChunkDb } from '../helpers/chunked.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { withPg } from '../helpers/db.js';

/**
 * One table's objects restored over several connections at once (issue 18's `--jobs N` chunks):
 * a full export of 6 objects of 1,000 rows, with the split threshold lowered to 1,000 rows and
 * each object held 100 ms once read (TABLEVAULT_TEST_PAUSE_AT), so that the second
 * connection takes some. One table's folder with --table and --jobs 2, a whole backup with a small
 * table beside it (the job done with the small one helps), MySQL's --mode replace, a corrupt
 * last object (nothing left), and PostgreSQL above the one-transaction bound: the committed
 * objects noted by both connections, and a rerun loading only the one that failed.
 */

const ROWS = 6000;
const PER_OBJECT = 1000;
const SRC = 'tv_rsplit_src';
const SMALL = 'tv_rsplit_small';
const INTO = 'tv_rsplit_many';
const COLUMNS = ['id', 'n', 'label'];
const TABLES = ['tv_rsplit_one', 'tv_rsplit_old', 'tv_rsplit_bad', 'tv_rsplit_big', 'tv_rsplit_busy'];
const SPLIT = {
  TABLEVAULT_RESTORE_SPLIT_ROWS: String(PER_OBJECT),
  TABLEVAULT_TEST_PAUSE_AT: 'restore-object:100',
  TABLEVAULT_LOG_LEVEL: 'info',
};

interface Summary {
  rows: number;
  files: number;
  connections?: number[];
  formats?: Record<string, number>;
  resumedObjects?: number;
}

const tablesLike = (db: ChunkDb, fragment: string) =>
  db
    .rows<{ t: string }>(
      `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = '${db.schema}' AND table_name LIKE '%${fragment.replaceAll('_', '\\_')}%' ORDER BY 1`,
    )
    .then((r) => r.map((x) => x.t));

/** The connection numbers of the `object restored` log lines. */
const connectionsLogged = (r: CliResult) =>
  new Set(
    r.stderr
      .split('\n')
      .filter((l) => l.startsWith('{') && l.includes('"object restored"'))
      .map((l) => (JSON.parse(l) as { connection?: number }).connection),
  );

const objectFiles = (dir: string) =>
  (JSON.parse(readFileSync(join(dir, '_manifest.json'), 'utf8')) as { files: Array<{ name: string; bytes: number }> })
    .files;

describe.each([PG, MYSQL].map((db) => [db.name, db] as const))('one table over two connections (%s)', (_, db) => {
  const root = mkdtempSync(join(tmpdir(), 'tv-rsplit-'));
  let folder: string;
  let url: string;
  const restore = (table: string, extra: string[], env: Record<string, string> = {}) =>
    runCli(['restore', url, '--target', db.url, '--table', table, '--jobs', '2', '--json', ...extra], {
      ...SPLIT,
      ...env,
    });
  const dropAll = () => db.exec(`DROP TABLE IF EXISTS ${[SRC, SMALL, ...TABLES].join(', ')}`);
  const dropInto = () =>
    db.exec(db === PG ? `DROP SCHEMA IF EXISTS ${INTO} CASCADE` : `DROP DATABASE IF EXISTS ${INTO}`);
  beforeAll(async () => {
    await dropAll();
    await dropInto();
    await db.exec(`CREATE TABLE ${SRC} (id int NOT NULL PRIMARY KEY, n int NOT NULL, label varchar(40))`);
    await db.exec(
      `INSERT INTO ${SRC} SELECT i, i * 7 % 1000, ${db === PG ? "'row ' || i" : "CONCAT('row ', i)"} FROM ${db.series(ROWS)}`,
    );
    await db.exec(`CREATE TABLE ${SMALL} (id int NOT NULL PRIMARY KEY, n int NOT NULL)`);
    await db.exec(`INSERT INTO ${SMALL} VALUES (1, 1), (2, 2)`);
    const exported = [];
    for (const t of [SRC, SMALL])
      exported.push(
        jsonSummary<{ table: string }>(
          await runCli([
            'export',
            ...['--source', db.url, '--table', t, '--dest', pathToFileURL(root).href],
            ...['--file-max-rows', String(PER_OBJECT), '--json'],
          ]),
        ).table,
      );
    folder = join(root, exported[0]!);
    url = pathToFileURL(folder).href;
  }, 60_000);
  afterAll(async () => {
    await dropAll();
    await dropInto();
    rmSync(root, { recursive: true, force: true });
  });

  describe('a table folder with --table and --jobs 2', () => {
    let r: CliResult;
    let s: Summary;
    beforeAll(async () => {
      r = await restore('tv_rsplit_one', ['--create']);
      s = jsonSummary<Summary>(r);
    });

    it('restores every row equal to the source, the summary counting them', async () => {
      expect(s.rows).toBe(ROWS);
      expect(await db.fingerprint('tv_rsplit_one', COLUMNS)).toEqual(await db.fingerprint(SRC, COLUMNS));
    });

    it('loads objects on both connections', () => {
      expect(s.connections).toHaveLength(2);
      expect(s.connections!.every((n) => n > 0)).toBe(true);
      expect(s.connections!.reduce((a, b) => a + b, 0)).toBe(6);
      expect(connectionsLogged(r)).toEqual(new Set([0, 1]));
    });

    it.runIf(db === PG)('counts both connections’ batches by wire format', () => {
      expect(s.formats).toEqual({ binary: 6, text: 0 });
    });

    it('builds the primary key, and leaves no aside table', async () => {
      if (db === PG)
        expect(await db.rows("SELECT indexname FROM pg_indexes WHERE tablename = 'tv_rsplit_one'")).toEqual([
          { indexname: 'tv_rsplit_one_pkey' },
        ]);
      else
        expect(
          await db.rows(
            `SELECT column_name AS c FROM information_schema.key_column_usage WHERE table_schema = '${db.schema}' AND table_name = 'tv_rsplit_one' AND constraint_name = 'PRIMARY'`,
          ),
        ).toEqual([{ c: 'id' }]);
      expect(await tablesLike(db, 'tablevault_restoring')).toEqual([]);
    });
  });

  describe('a whole backup with --jobs 2', () => {
    let s: { rows: number; tables: Array<{ table: string; status: string; rows: number; connections?: number[] }> };
    beforeAll(async () => {
      const r = await runCli(
        [
          'restore',
          pathToFileURL(root).href,
          '--target',
          db.url,
          '--target-schema',
          INTO,
          '--create',
          '--jobs',
          '2',
          '--json',
        ],
        SPLIT,
      );
      expect(r.code, r.stderr).toBe(0);
      s = JSON.parse(r.stdout) as typeof s;
    });

    it('restores both tables, the large one equal to the source', async () => {
      expect(s.rows).toBe(ROWS + 2);
      expect(await db.fingerprint(`${INTO}.${SRC}`, COLUMNS)).toEqual(await db.fingerprint(SRC, COLUMNS));
    });

    it('the job done with the small table loads objects of the large one', () => {
      const big = s.tables.find((t) => t.table.endsWith(SRC))!;
      expect(big.connections).toHaveLength(2);
      expect(big.connections!.every((n) => n > 0)).toBe(true);
    });
  });

  describe.runIf(db === MYSQL)('--mode replace of a table holding other rows', () => {
    let s: Summary;
    beforeAll(async () => {
      await db.exec('CREATE TABLE tv_rsplit_old (id int NOT NULL PRIMARY KEY, n int NOT NULL, label varchar(40))');
      await db.exec("INSERT INTO tv_rsplit_old VALUES (-1, 0, 'before')");
      s = jsonSummary<Summary>(await restore('tv_rsplit_old', ['--mode', 'replace']));
    });

    it('swaps in the rows loaded over both connections', async () => {
      expect(s.connections!.every((n) => n > 0)).toBe(true);
      expect(await db.fingerprint('tv_rsplit_old', COLUMNS)).toEqual(await db.fingerprint(SRC, COLUMNS));
    });
  });

  describe('a corrupt last object', () => {
    let r: CliResult;
    let whole: Buffer;
    beforeAll(async () => {
      const last = join(folder, objectFiles(folder).at(-1)!.name);
      whole = readFileSync(last);
      truncateSync(last, Math.floor(whole.length / 2));
      try {
        r = await restore('tv_rsplit_bad', ['--create']);
      } finally {
        writeFileSync(last, whole);
      }
    });

    it('fails saying nothing of the table was left', () => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(
        /restore into tv_rsplit_bad failed: .*; nothing of it was left/,
      );
    });

    it('leaves no table under the target name, nor an aside table', async () => {
      expect(await tablesLike(db, 'tv_rsplit_bad')).toEqual([]);
    });
  });

  describe.runIf(db === PG)('above the one-transaction bound, a corrupt last object', () => {
    const bound = { TABLEVAULT_RESTORE_ONE_TRANSACTION_ROWS: String(PER_OBJECT) };
    let failed: CliResult;
    let leftover: Array<Record<string, unknown>>;
    let resumed: Summary;
    beforeAll(async () => {
      const last = join(folder, objectFiles(folder).at(-1)!.name);
      const whole = readFileSync(last);
      truncateSync(last, Math.floor(whole.length / 2));
      try {
        failed = await restore('tv_rsplit_big', ['--create'], bound);
      } finally {
        writeFileSync(last, whole);
      }
      leftover = await db.rows(
        "SELECT obj_description('tablevault_restoring_tv_rsplit_big'::regclass, 'pg_class') AS note, (SELECT count(*) FROM tablevault_restoring_tv_rsplit_big)::int AS n",
      );
      resumed = jsonSummary<Summary>(await restore('tv_rsplit_big', ['--create'], bound));
    }, 60_000);

    it('fails saying which objects committed and how to resume', () => {
      expect(failed.code, failed.stderr).toBe(1);
      expect(failed.stderr).toMatch(
        /objects 1-5 of 6 were committed into "tablevault_restoring_tv_rsplit_big" .*resume with object 6/,
      );
    });

    it('notes every object either connection committed', () => {
      const note = String(leftover[0]!.note);
      expect(note).toMatch(/ of 6:( [1-5]){5}$/);
      expect(new Set(note.split(':')[1]!.trim().split(' '))).toEqual(new Set(['1', '2', '3', '4', '5']));
      expect(leftover[0]!.n).toBe(5 * PER_OBJECT);
    });

    it('a rerun loads only the object that failed, the table then equal to the source', async () => {
      expect(resumed).toMatchObject({ rows: PER_OBJECT, resumedObjects: 5 });
      expect(await db.fingerprint('tv_rsplit_big', COLUMNS)).toEqual(await db.fingerprint(SRC, COLUMNS));
      expect(await tablesLike(db, 'tablevault_restoring')).toEqual([]);
    });
  });

  describe.runIf(db === PG)('while another restore into the table holds its lock', () => {
    let r: CliResult;
    beforeAll(async () => {
      r = await withPg(async (c) => {
        await c.query('SELECT pg_advisory_lock($1::bigint)', [restoreLockKey({ name: 'tv_rsplit_busy' })]);
        return restore('tv_rsplit_busy', ['--create']);
      });
    });

    it('fails saying another restore into the table is running, creating nothing', async () => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/another restore into "tv_rsplit_busy" is running .*; nothing of it was left/);
      expect(await tablesLike(db, 'tv_rsplit_busy')).toEqual([]);
    });
  });
});
