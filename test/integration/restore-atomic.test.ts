import { mkdtempSync, readFileSync, rmSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';

/**
 * What a `restore` that fails midway leaves (issue 18): a table of 3 objects whose last is
 * truncated (a corrupted object: the restore fails after the first two loaded), restored with
 * --create (nothing may be left), with --mode replace over a table that holds other rows (they
 * must survive), as part of a whole backup (the other tables restored, the bad one reported),
 * and killed by SIGKILL mid-load (nothing that looks complete; the next restore succeeds).
 */

const ROWS = 3000;
const PER_OBJECT = 1000;
const SRC = 'tv_ra_src';
const GOOD = 'tv_ra_good';

interface Db {
  name: string;
  url: string;
  schema: string;
  sql(text: string): Promise<Array<Record<string, unknown>>>;
  /** Tables of the schema whose name starts with `prefix` or holds it after tablevault's marker. */
  tablesLike(fragment: string): Promise<string[]>;
}

const pgDb: Db = {
  name: 'PostgreSQL',
  url: PG_URL,
  schema: 'public',
  sql: (text) => withPg(async (c) => (await c.query(text)).rows as Array<Record<string, unknown>>),
  tablesLike: (fragment) =>
    withPg(async (c) =>
      (
        await c.query<{ t: string }>(
          "SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' AND tablename LIKE $1 ORDER BY 1",
          [`%${fragment}%`],
        )
      ).rows.map((r) => r.t),
    ),
};

const mysqlDb: Db = {
  name: 'MySQL',
  url: MYSQL_URL,
  schema: 'test',
  sql: (text) =>
    withMysql(async (c) => {
      const [rows] = await c.query(text);
      return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
    }),
  tablesLike: (fragment) =>
    withMysql(async (c) => {
      const [rows] = await c.query(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'test' AND table_name LIKE ? ORDER BY 1",
        [`%${fragment}%`],
      );
      return (rows as Array<{ t: string }>).map((r) => r.t);
    }),
};

const count = async (db: Db, table: string) => Number((await db.sql(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

/** Exports `table` into a fresh file:// folder, PER_OBJECT rows an object; returns the table's backup URL and folder. */
async function exportTo(db: Db, table: string, root?: string): Promise<{ url: string; dir: string; root: string }> {
  const dir = root ?? mkdtempSync(join(tmpdir(), 'tv-ra-'));
  const r = await runCli([
    'export',
    ...['--source', db.url, '--table', table, '--dest', pathToFileURL(dir).href],
    ...['--file-max-rows', String(PER_OBJECT), '--json'],
  ]);
  const s = jsonSummary<{ table: string }>(r);
  return { url: `${pathToFileURL(dir).href}/${s.table}`, dir: join(dir, s.table), root: dir };
}

/** Truncates the manifest's last object to half its bytes: its Parquet footer is gone, so reading it fails. */
function corruptLast(dir: string): void {
  const m = JSON.parse(readFileSync(join(dir, '_manifest.json'), 'utf8')) as {
    files: Array<{ name: string; bytes: number }>;
  };
  const last = m.files.at(-1)!;
  truncateSync(join(dir, last.name), Math.floor(last.bytes / 2));
}

const restore = (db: Db, from: string, table: string, extra: string[] = [], env: Record<string, string> = {}) =>
  runCli(['restore', from, '--target', db.url, '--table', table, '--batch-rows', '500', '--json', ...extra], env);

describe.each([pgDb, mysqlDb].map((db) => [db.name, db] as const))('a failed restore (%s)', (_, db) => {
  const dirs: string[] = [];
  let bad: { url: string; dir: string; root: string };
  const drop = (...t: string[]) => db.sql(`DROP TABLE IF EXISTS ${t.join(', ')}`);
  beforeAll(async () => {
    await drop(SRC, GOOD, 'tv_ra_new', 'tv_ra_old', 'tv_ra_killed');
    await db.sql(`CREATE TABLE ${SRC} (id int NOT NULL PRIMARY KEY, label varchar(40) NOT NULL)`);
    await db.sql(`CREATE TABLE ${GOOD} (id int NOT NULL PRIMARY KEY, label varchar(40) NOT NULL)`);
    const values = (n: number, tag: string) =>
      Array.from({ length: n }, (_, i) => `(${i + 1}, '${tag} ${i + 1}')`).join(', ');
    await db.sql(`INSERT INTO ${SRC} (id, label) VALUES ${values(ROWS, 'row')}`);
    await db.sql(`INSERT INTO ${GOOD} (id, label) VALUES ${values(10, 'good')}`);
    bad = await exportTo(db, SRC);
    dirs.push(bad.root);
    corruptLast(bad.dir);
  }, 120_000);
  afterAll(async () => {
    await drop(SRC, GOOD, 'tv_ra_new', 'tv_ra_old', 'tv_ra_killed');
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  describe('--create of a new table', () => {
    let r: CliResult;
    beforeAll(async () => {
      r = await restore(db, bad.url, 'tv_ra_new', ['--create']);
    });

    it('fails with exit 1', () => {
      expect(r.code, r.stderr).toBe(1);
    });

    it('leaves no table under the target name', async () => {
      expect(await db.tablesLike('tv_ra_new')).toEqual([]);
    });
  });
});
