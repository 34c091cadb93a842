import { mkdtempSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { restoreLockName } from '../../src/source/mysql/swap.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';

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

const like = (fragment: string) => `%${fragment.replaceAll('_', '\\_')}%`;

interface Db {
  name: string;
  url: string;
  schema: string;
  sql(text: string): Promise<Array<Record<string, unknown>>>;
  /** Tables of the schema whose name holds `fragment` (its `_` as itself, not LIKE's wildcard). */
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
          [like(fragment)],
        )
      ).rows.map((r) => r.t),
    ),
};

const mysqlDb: Db = {
  name: 'MySQL',
  url: MYSQL_URL,
  schema: MYSQL_DB,
  sql: (text) =>
    withMysql(async (c) => {
      const [rows] = await c.query(text);
      return Array.isArray(rows) ? (rows as Array<Record<string, unknown>>) : [];
    }),
  tablesLike: (fragment) =>
    withMysql(async (c) => {
      const [rows] = await c.query(
        'SELECT table_name AS t FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name LIKE ? ORDER BY 1',
        [like(fragment)],
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

    it('fails with exit 1, on one line saying nothing of the table was left', () => {
      expect(r.code, r.stderr).toBe(1);
      const line = r.stderr.trim().split('\n').at(-1)!;
      expect(line).toMatch(/restore into tv_ra_new failed: .*Parquet.*; nothing of it was left .*rerun/);
    });

    it('leaves no table under the target name, nor an aside table', async () => {
      expect(await db.tablesLike('tv_ra_new')).toEqual([]);
    });
  });

  describe('--mode replace of a table holding other rows', () => {
    let r: CliResult;
    beforeAll(async () => {
      await drop('tv_ra_old');
      await db.sql(`CREATE TABLE tv_ra_old (id int NOT NULL PRIMARY KEY, label varchar(40) NOT NULL)`);
      await db.sql(`INSERT INTO tv_ra_old (id, label) VALUES (1, 'before'), (7, 'before')`);
      r = await restore(db, bad.url, 'tv_ra_old', ['--mode', 'replace']);
    });

    it('fails with exit 1, saying the table is as it was', () => {
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toMatch(/tv_ra_old is as it was before/);
    });

    it('leaves the previous table with its rows', async () => {
      expect(await db.sql('SELECT id, label FROM tv_ra_old ORDER BY id')).toEqual([
        { id: 1, label: 'before' },
        { id: 7, label: 'before' },
      ]);
    });

    it('leaves no aside table', async () => {
      expect(await db.tablesLike('tv_ra_old')).toEqual(['tv_ra_old']);
    });
  });

  describe('a whole backup with one bad table', () => {
    let s: { failed: number; tables: Array<{ table: string; status: string; rows: number; left?: { kind: string } }> };
    const into = 'tv_ra_many';
    beforeAll(async () => {
      await exportTo(db, GOOD, bad.root);
      await db.sql(db === pgDb ? `DROP SCHEMA IF EXISTS ${into} CASCADE` : `DROP DATABASE IF EXISTS ${into}`);
      const r = await runCli([
        'restore',
        pathToFileURL(bad.root).href,
        ...['--target', db.url, '--target-schema', into, '--create', '--jobs', '2', '--json'],
      ]);
      expect(r.code, r.stderr).toBe(3);
      s = JSON.parse(r.stdout) as typeof s;
    });
    afterAll(() => db.sql(db === pgDb ? `DROP SCHEMA IF EXISTS ${into} CASCADE` : `DROP DATABASE IF EXISTS ${into}`));

    it('restores the good table', async () => {
      expect(s.tables.find((t) => t.table.endsWith(GOOD))).toMatchObject({ status: 'ok', rows: 10 });
      expect(await count(db, `${into}.${GOOD}`)).toBe(10);
    });

    it('reports the bad one as failed, nothing of it left', () => {
      expect(s.failed).toBe(1);
      expect(s.tables.find((t) => t.table.endsWith(SRC))).toMatchObject({
        status: 'failed',
        left: { kind: 'nothing' },
      });
    });

    it('leaves no table of the bad one in the target schema', async () => {
      const tables = await db.sql(
        `SELECT table_name AS t FROM information_schema.tables WHERE table_schema = '${into}' ORDER BY 1`,
      );
      expect(tables.map((t) => Object.values(t)[0])).toEqual([GOOD]);
    });
  });

  describe('SIGKILL mid-load', () => {
    let killed: CliResult;
    let after: CliResult;
    let leftover: string[];
    beforeAll(async () => {
      const good = await exportTo(db, SRC);
      dirs.push(good.root);
      // killed once the second of three objects is given to the loader
      killed = await restore(db, good.url, 'tv_ra_killed', ['--create'], {
        TABLEVAULT_TEST_KILL_AT: 'restore-object:2',
      });
      leftover = [...(await db.tablesLike('tv_ra_killed'))];
      after = await restore(db, good.url, 'tv_ra_killed', ['--create']);
    });

    it('is killed', () => {
      expect(killed.signal).toBe('SIGKILL');
    });

    it('leaves no table under the target name', () => {
      expect(leftover.filter((t) => t === 'tv_ra_killed')).toEqual([]);
    });

    it('leaves at most an aside table named as one', () => {
      for (const t of leftover) expect(t).toBe('tablevault_restoring_tv_ra_killed');
    });

    it('the next restore loads every row and removes the aside table', async () => {
      expect(jsonSummary<{ rows: number }>(after).rows).toBe(ROWS);
      expect(await count(db, 'tv_ra_killed')).toBe(ROWS);
      expect(await db.tablesLike('tablevault_restoring')).toEqual([]);
    });
  });
});

describe('PostgreSQL: a new table above the one-transaction bound', () => {
  const db = pgDb;
  const bound = { TABLEVAULT_RESTORE_ONE_TRANSACTION_ROWS: String(PER_OBJECT) };
  let root: string;
  let failed: CliResult;
  let leftover: Array<Record<string, unknown>>;
  let resumed: CliResult;
  let keys: Array<Record<string, unknown>>;
  beforeAll(async () => {
    await db.sql(`DROP TABLE IF EXISTS ${SRC}, tv_ra_big, tablevault_restoring_tv_ra_big`);
    await db.sql(`CREATE TABLE ${SRC} (id int NOT NULL PRIMARY KEY, label varchar(40) NOT NULL)`);
    await db.sql(`INSERT INTO ${SRC} SELECT g, 'row ' || g FROM generate_series(1, ${ROWS}) g`);
    const b = await exportTo(db, SRC);
    root = b.root;
    const m = JSON.parse(readFileSync(join(b.dir, '_manifest.json'), 'utf8')) as { files: Array<{ name: string }> };
    const last = join(b.dir, m.files.at(-1)!.name);
    const whole = readFileSync(last);
    corruptLast(b.dir);
    failed = await restore(db, b.url, 'tv_ra_big', ['--create'], bound);
    leftover = await db.sql(
      "SELECT tablename, obj_description(('public.' || quote_ident(tablename))::regclass, 'pg_class') AS note, (SELECT count(*) FROM tablevault_restoring_tv_ra_big)::int AS n FROM pg_tables WHERE tablename LIKE '%tv_ra_big%'",
    );
    writeFileSync(last, whole);
    resumed = await restore(db, b.url, 'tv_ra_big', ['--create'], bound);
    keys = await db.sql("SELECT indexname FROM pg_indexes WHERE tablename = 'tv_ra_big'");
  }, 120_000);
  afterAll(async () => {
    await db.sql(`DROP TABLE IF EXISTS ${SRC}, tv_ra_big, tablevault_restoring_tv_ra_big`);
    rmSync(root, { recursive: true, force: true });
  });

  it('fails saying which objects committed and how to resume', () => {
    expect(failed.code, failed.stderr).toBe(1);
    expect(failed.stderr).toMatch(
      /objects 1-2 of 3 were committed into "tablevault_restoring_tv_ra_big" .*rerun the same command to resume with object 3/,
    );
  });

  it('leaves the committed objects under the aside name only, their count in its note', () => {
    expect(leftover).toEqual([
      { tablename: 'tablevault_restoring_tv_ra_big', note: expect.stringMatching(/ of 3: 1 2$/), n: 2 * PER_OBJECT },
    ]);
  });

  it('a rerun skips the committed objects and loads the rest', async () => {
    const s = jsonSummary<{ rows: number; resumedObjects: number }>(resumed);
    expect(s).toMatchObject({ rows: PER_OBJECT, resumedObjects: 2 });
    expect(await count(db, 'tv_ra_big')).toBe(ROWS);
  });

  it('the table is in place with its primary key, named for it, and no note', async () => {
    expect(keys).toEqual([{ indexname: 'tv_ra_big_pkey' }]);
    expect(await db.sql("SELECT obj_description('tv_ra_big'::regclass, 'pg_class') AS note")).toEqual([{ note: null }]);
    expect(await db.tablesLike('tablevault_restoring')).toEqual([]);
  });
});

describe('MySQL: --mode replace of a table with a trigger', () => {
  const db = mysqlDb;
  let root: string;
  let r: CliResult;
  let triggers: Array<Record<string, unknown>>;
  beforeAll(async () => {
    await db.sql(`DROP TABLE IF EXISTS ${SRC}, tv_ra_trig, tv_ra_trig_log`);
    await db.sql(`CREATE TABLE ${SRC} (id int NOT NULL PRIMARY KEY, label varchar(40) NOT NULL)`);
    await db.sql(`INSERT INTO ${SRC} (id, label) VALUES (1, 'one'), (2, 'two')`);
    await db.sql(`CREATE TABLE tv_ra_trig (id int NOT NULL PRIMARY KEY, label varchar(40) NOT NULL)`);
    await db.sql(`CREATE TABLE tv_ra_trig_log (id int NOT NULL)`);
    await db.sql(
      `CREATE TRIGGER tv_ra_trig_ins AFTER INSERT ON tv_ra_trig FOR EACH ROW INSERT INTO tv_ra_trig_log VALUES (NEW.id)`,
    );
    const b = await exportTo(db, SRC);
    root = b.root;
    r = await restore(db, b.url, 'tv_ra_trig', ['--mode', 'replace']);
    triggers = await db.sql(
      "SELECT trigger_name AS t FROM information_schema.triggers WHERE event_object_schema = DATABASE() AND event_object_table = 'tv_ra_trig'",
    );
  });
  afterAll(async () => {
    await db.sql(`DROP TABLE IF EXISTS ${SRC}, tv_ra_trig, tv_ra_trig_log`);
    rmSync(root, { recursive: true, force: true });
  });

  it('replaces the rows in place, saying why it did not swap', () => {
    const s = jsonSummary<{ rows: number; warnings: string[] }>(r);
    expect(s.rows).toBe(2);
    expect(s.warnings.join('\n')).toMatch(/replaced in place .*not swapped: it has 1 trigger/);
  });

  it('keeps the table’s trigger', () => {
    expect(triggers).toEqual([{ t: 'tv_ra_trig_ins' }]);
  });
});

describe('MySQL: two restores into one target', () => {
  const db = mysqlDb;
  let root: string;
  let r: CliResult;
  beforeAll(async () => {
    await db.sql(`DROP TABLE IF EXISTS ${SRC}, tv_ra_busy`);
    await db.sql(`CREATE TABLE ${SRC} (id int NOT NULL PRIMARY KEY, label varchar(40) NOT NULL)`);
    await db.sql(`INSERT INTO ${SRC} (id, label) VALUES (1, 'one')`);
    const b = await exportTo(db, SRC);
    root = b.root;
    // another restore into tv_ra_busy, as far as the lock tells
    r = await withMysql(async (c) => {
      await c.query('SELECT GET_LOCK(?, 0)', [restoreLockName({ schema: MYSQL_DB, name: 'tv_ra_busy' })]);
      return restore(db, b.url, 'tv_ra_busy', ['--create']);
    });
  });
  afterAll(async () => {
    await db.sql(`DROP TABLE IF EXISTS ${SRC}, tv_ra_busy`);
    rmSync(root, { recursive: true, force: true });
  });

  it('the second fails saying another restore into the table is running', () => {
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/another restore into tv_ra_busy is running .*; nothing of it was left/);
  });

  it('the second creates nothing', async () => {
    expect(await db.tablesLike('tv_ra_busy')).toEqual([]);
  });
});
