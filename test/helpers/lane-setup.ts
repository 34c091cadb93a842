/**
 * Setup file (before every test file): points TABLEVAULT_TEST_PG_URL and TABLEVAULT_TEST_MYSQL_URL
 * at this lane's database (see lane.ts), created on first use, so db.ts, the tests and every
 * process they start (the CLI, the bench) use it. The URLs given to the run are kept in
 * TABLEVAULT_TEST_BASE_*_URL: files of one lane share its process, and this runs before each.
 */
import pg from 'pg';
import mysql from 'mysql2/promise';
import { LANE, laneDatabase, laneUrl } from './lane.js';
import { mysqlLogin, SERVER_DEFAULTS, urlDatabase } from './servers.js';

const base = (engine: keyof typeof SERVER_DEFAULTS): string =>
  (process.env[`TABLEVAULT_TEST_BASE_${engine}_URL`] ??=
    process.env[`TABLEVAULT_TEST_${engine}_URL`] ?? SERVER_DEFAULTS[engine]);

const [pgBase, mysqlBase] = [base('PG'), base('MYSQL')];
process.env.TABLEVAULT_TEST_PG_URL = laneUrl(pgBase);
process.env.TABLEVAULT_TEST_MYSQL_URL = laneUrl(mysqlBase);

if (LANE !== undefined && process.env.TABLEVAULT_TEST_LANE_READY !== String(LANE)) {
  await Promise.all([createPgDatabase(pgBase), createMysqlDatabase(mysqlBase)]);
  process.env.TABLEVAULT_TEST_LANE_READY = String(LANE);
}

/** This lane's database beside the base URL's, as that one is (encoding, collation), unless there. */
async function createPgDatabase(url: string): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const db = laneDatabase(url);
    const found = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [db]);
    if (found.rowCount) return;
    const like = await c.query<{ enc: string; co: string; ct: string }>(
      'SELECT pg_encoding_to_char(encoding) AS enc, datcollate AS co, datctype AS ct FROM pg_database WHERE datname = current_database()',
    );
    const { enc, co, ct } = like.rows[0]!;
    const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;
    const create = `CREATE DATABASE "${db.replaceAll('"', '""')}" TEMPLATE template0 ENCODING ${lit(enc)} LC_COLLATE ${lit(co)} LC_CTYPE ${lit(ct)}`;
    await c.query(create).catch((e) => {
      if ((e as { code?: string }).code !== '42P04') throw e; // created meanwhile
    });
  } finally {
    await c.end();
  }
}

async function createMysqlDatabase(url: string): Promise<void> {
  const c = await mysql.createConnection({
    ...mysqlLogin(url),
    database: urlDatabase(url),
  });
  try {
    const db = laneDatabase(url);
    const [rows] = await c.query(
      'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = DATABASE()',
    );
    const { cs, co } = (rows as Array<{ cs: string; co: string }>)[0]!;
    await c.query(`CREATE DATABASE IF NOT EXISTS \`${db.replaceAll('`', '``')}\` CHARACTER SET ${cs} COLLATE ${co}`);
  } finally {
    await c.end();
  }
}
