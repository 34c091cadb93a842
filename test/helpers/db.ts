import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import mysql from 'mysql2/promise';
import { mysqlLogin, SERVER_DEFAULTS, urlDatabase } from './servers.js';

export const PG_URL = process.env.TABLEVAULT_TEST_PG_URL ?? SERVER_DEFAULTS.PG;
export const MYSQL_URL = process.env.TABLEVAULT_TEST_MYSQL_URL ?? SERVER_DEFAULTS.MYSQL;
/** The MySQL test database's name: the schema of the tables tests make there (test, or the lane's: test/helpers/lane.ts). */
export const MYSQL_DB = urlDatabase(MYSQL_URL);

/** The same server's URL for database `db` (a state database of a test's own). */
export function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.href;
}

export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));
}

/** Runs `fn` with a PostgreSQL client on the test database, or `database` of the same server (session in UTC), closing it afterwards. */
export async function withPg<T>(fn: (c: pg.Client) => Promise<T>, database?: string): Promise<T> {
  const c = new pg.Client({ connectionString: database ? withDatabase(PG_URL, database) : PG_URL });
  await c.connect();
  try {
    await c.query("SET TimeZone = 'UTC'");
    return await fn(c);
  } finally {
    await c.end();
  }
}

/** As withPg, for MySQL/MariaDB. */
export async function withMysql<T>(fn: (c: mysql.Connection) => Promise<T>, database?: string): Promise<T> {
  const c = await mysql.createConnection({
    ...mysqlLogin(MYSQL_URL),
    database: database ?? MYSQL_DB,
    multipleStatements: true,
    timezone: 'Z',
    supportBigNumbers: true,
    bigNumberStrings: true,
    dateStrings: true,
    charset: 'utf8mb4',
  });
  try {
    await c.query("SET time_zone = '+00:00'");
    return await fn(c);
  } finally {
    await c.end();
  }
}

export async function loadPgFixture(name: string): Promise<void> {
  const text = readFileSync(fixturePath(name), 'utf8');
  await withPg((c) => c.query(text));
}

export async function loadMysqlFixture(name: string): Promise<void> {
  const text = readFileSync(fixturePath(name), 'utf8');
  await withMysql((c) => c.query(text));
}
