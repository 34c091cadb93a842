/**
 * The whole-database tests' source: schema `tv_whole` (PostgreSQL) or database `tv_whole` (MySQL)
 * of ~30 relations, the restored copies' schema `tv_whole_back`, and a state database
 * `tv_whole_state` of their own (other test files reset the state tables of database `test`).
 */
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { encodeTableSegment, tableUrl } from '../../src/manifest/layout.js';
import { errorMessage } from '../../src/errors.js';
import { restoreTable } from '../../src/restore/restore.js';
import { quotedName } from '../../src/source/columns.js';
import { strategyFile } from './backup.js';
import { runCli } from './cli.js';
import { MYSQL_URL, PG_URL, withMysql, withPg } from './db.js';
import { MYSQL_SCHEMA } from './whole-db-mysql.js';
import { PG_SCHEMA, SMALL } from './whole-db-pg.js';

export { BIG_ROWS, SMALL } from './whole-db-pg.js';

/** Left out by the strategies' top-level `exclude: ['tv_whole.tmp_*']`. */
export const EXCLUDED_TOP = 'tmp_scratch';
/** Left out by the `tv_whole.*` entry's own `exclude:`. */
export const EXCLUDED_ENTRY = 'audit_log';

/** Dropped between the runs of the tests that run twice (full in one, incremental in the other). */
export const DOOMED = 'doomed';

const SHARED = [
  ...SMALL.map((s) => s.name),
  'big',
  'pair_key',
  'triple_key',
  'no_key',
  'no_key_empty',
  'all_types',
  'events',
  'dotted.name',
  'With Space',
  'CamelCase',
  'quo"te',
  '100%_done',
  'ünïcødé_表',
  DOOMED,
  EXCLUDED_TOP,
  EXCLUDED_ENTRY,
];

export interface WholeDb {
  name: 'PostgreSQL' | 'MySQL';
  /** The source URL strategies name. */
  url: string;
  /** The state store, passed with --state. */
  stateUrl: string;
  /** Every base table of tv_whole (partitioned parents included, partitions not), by name. */
  tables: string[];
  /** Relations no pattern may back up: partitions (their parent holds their rows), views. */
  notTables: string[];
  /** The partitions of `events` the catalog lists (MySQL's are inside the table: none). */
  partitions: string[];
  /** (Re)creates tv_whole with its rows, an empty tv_whole_back and an empty state database. */
  create(): Promise<void>;
  drop(): Promise<void>;
  sql(text: string): Promise<void>;
  /** Runs statements on the state database. */
  state(text: string): Promise<void>;
  count(name: string): Promise<number>;
  /** Rows of `<schema>.<name>`. */
  countIn(schema: string, name: string): Promise<number>;
  /** Drops a schema (MySQL: database) and everything in it, if it exists. */
  dropSchema(schema: string): Promise<void>;
  /** tv_whole.<name>'s rows the copy tv_whole_back.<name> lacks, and its rows the source lacks (duplicates counted). */
  differences(name: string): Promise<{ missing: number; extra: number }>;
}

/** How restore's `--table` names the copy of tv_whole.<name>. */
export const backTable = (name: string) => quotedName({ schema: 'tv_whole_back', name });

const withDatabase = (url: string, db: string) => Object.assign(new URL(url), { pathname: `/${db}` }).href;
const pgRef = (schema: string, name: string) => `${schema}."${name.replaceAll('"', '""')}"`;
const myRef = (schema: string, name: string) => `${schema}.\`${name.replaceAll('`', '``')}\``;

async function pgValue(text: string): Promise<number> {
  return withPg(async (c) => Number(Object.values((await c.query(text)).rows[0] as object)[0]));
}

async function myValue(text: string): Promise<number> {
  return withMysql(async (c) => {
    const [rows] = await c.query(text);
    return Number(Object.values((rows as object[])[0]!)[0]);
  });
}

export const PG: WholeDb = {
  name: 'PostgreSQL',
  url: PG_URL,
  stateUrl: withDatabase(PG_URL, 'tv_whole_state'),
  tables: [...SHARED, 'camelcase', 'emoji_😀'],
  notTables: ['events_2023', 'events_2024', 'events_rest', 'big_by_grp', 'big_totals'],
  partitions: ['events_2023', 'events_2024', 'events_rest'],
  async create() {
    await PG.drop();
    await withPg(async (c) => {
      await c.query('CREATE DATABASE tv_whole_state');
      await c.query(PG_SCHEMA);
    });
  },
  drop: () =>
    withPg(async (c) => {
      await c.query('DROP SCHEMA IF EXISTS tv_whole CASCADE; DROP SCHEMA IF EXISTS tv_whole_back CASCADE');
      // a database is dropped alone, outside the implicit transaction of a multi-statement query
      await c.query('DROP DATABASE IF EXISTS tv_whole_state WITH (FORCE)');
    }),
  sql: (text) => withPg((c) => c.query(`SET search_path = tv_whole; ${text}`)).then(() => undefined),
  state: async (text) => {
    const c = new pg.Client({ connectionString: PG.stateUrl });
    await c.connect();
    await c.query(text).finally(() => c.end());
  },
  count: (name) => pgValue(`SELECT count(*) FROM ${pgRef('tv_whole', name)}`),
  countIn: (schema, name) => pgValue(`SELECT count(*) FROM ${pgRef(schema, name)}`),
  dropSchema: (schema) => withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)).then(() => undefined),
  async differences(name) {
    const [a, b] = [pgRef('tv_whole', name), pgRef('tv_whole_back', name)];
    const diff = (x: string, y: string) =>
      pgValue(`SELECT count(*) FROM (SELECT r::text FROM ${x} r EXCEPT ALL SELECT r::text FROM ${y} r) d`);
    return { missing: await diff(a, b), extra: await diff(b, a) };
  },
};

export const MYSQL: WholeDb = {
  name: 'MySQL',
  url: MYSQL_URL,
  stateUrl: withDatabase(MYSQL_URL, 'tv_whole_state'),
  tables: [...SHARED, 'back`tick'],
  notTables: ['big_by_grp'],
  partitions: [],
  async create() {
    await MYSQL.drop();
    await withMysql((c) => c.query(`CREATE DATABASE tv_whole_state; ${MYSQL_SCHEMA}`));
  },
  drop: () =>
    withMysql((c) =>
      c.query(
        'DROP DATABASE IF EXISTS tv_whole; DROP DATABASE IF EXISTS tv_whole_back; DROP DATABASE IF EXISTS tv_whole_state',
      ),
    ).then(() => undefined),
  sql: (text) => withMysql((c) => c.query(`USE tv_whole; ${text}`)).then(() => undefined),
  state: (text) => withMysql((c) => c.query(`USE tv_whole_state; ${text}`)).then(() => undefined),
  count: (name) => myValue(`SELECT count(*) FROM ${myRef('tv_whole', name)}`),
  countIn: (schema, name) => myValue(`SELECT count(*) FROM ${myRef(schema, name)}`),
  dropSchema: (schema) => withMysql((c) => c.query(`DROP DATABASE IF EXISTS ${schema}`)).then(() => undefined),
  async differences(name) {
    const [a, b] = [myRef('tv_whole', name), myRef('tv_whole_back', name)];
    const diff = (x: string, y: string) =>
      myValue(`SELECT count(*) FROM (SELECT * FROM ${x} EXCEPT ALL SELECT * FROM ${y}) d`);
    return { missing: await diff(a, b), extra: await diff(b, a) };
  },
};

/** What a `tv_whole.*` entry with both excludes backs up. */
export const backedUp = (db: WholeDb) => db.tables.filter((t) => t !== EXCLUDED_TOP && t !== EXCLUDED_ENTRY);

/**
 * A `tv_whole.*` strategy (top-level and per-entry excludes, `entry` the entry's other keys, `more`
 * other entries) to a fresh local folder.
 */
export function wholeStrategy(db: WholeDb, entry: string, more = ''): { file: string; dir: string; dest: string } {
  const { file, dir } = strategyFile(
    (d) =>
      `source: ${db.url}\ndestination: ${d}\nexclude: ['tv_whole.tmp_*']\ntables:\n  - table: tv_whole.*\n    exclude: [tv_whole.${EXCLUDED_ENTRY}]\n${entry}${more}`,
  );
  return { file, dir, dest: pathToFileURL(dir).href };
}

/** The folder a table's backup is in, under a local destination. */
export const folderOf = (name: string) => encodeTableSegment({ schema: 'tv_whole', name });

/** One table's restore into tv_whole_back: the error it failed with, if it did, and how its copy differs from its source. */
export interface Restored {
  error?: string;
  missing: number;
  extra: number;
}

/**
 * Restores each table's backup under `dest` into tv_whole_back (created), two at a time, and
 * compares each copy with its source, by table. The tables named in `viaCli` are restored by the
 * `restore` command, the others by restoreTable in this process: what these tests check is the
 * restored data, and a CLI process costs ~0.4 CPU-s to start on 2 cores (restore.test.ts tests the
 * command itself; the `viaCli` tables keep one whole-database restore through it).
 */
export async function restoreAndCompare(
  db: WholeDb,
  dest: string,
  names: string[],
  viaCli: string[] = [],
): Promise<Map<string, Restored>> {
  const out = new Map<string, Restored>();
  const queue = [...names];
  const restore = async (name: string): Promise<string | undefined> => {
    const from = tableUrl(dest, { schema: 'tv_whole', name });
    const table = backTable(name);
    if (viaCli.includes(name)) {
      const r = await runCli(['restore', from, '--target', db.url, '--table', table, '--create']);
      return r.code === 0 ? undefined : `exit ${r.code}: ${r.stderr.slice(-500)}`;
    }
    return restoreTable({ from, target: db.url, table, create: true }).then(
      () => undefined,
      (e: unknown) => errorMessage(e),
    );
  };
  const worker = async () => {
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      const error = await restore(name);
      out.set(name, error === undefined ? await db.differences(name) : { error, missing: -1, extra: -1 });
    }
  };
  await Promise.all([worker(), worker()]);
  return out;
}
