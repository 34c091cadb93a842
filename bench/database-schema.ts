/**
 * The database bench's schema: a PostgreSQL schema and a MariaDB database of the mix's tables, in
 * the bench table's shape. A table already there with its row count is kept, one with another is
 * recreated, and a base table the mix does not name is dropped, so a rerun with the same mix writes
 * nothing and a changed mix rewrites only what changed.
 */
import pg from 'pg';
import type { MixTable } from './database-mix.js';
import { MYSQL_COLUMNS, PG_COLUMNS, mysqlConnect, mysqlInsertSql, pgInsertSql } from './tables.js';

type Log = (s: string) => void;

/** What the generator did, for the log line. */
interface Changes {
  kept: number;
  created: number;
  dropped: number;
}

const report = (log: Log, where: string, c: Changes) =>
  log(`${where}: ${c.kept} tables kept, ${c.created} created, ${c.dropped} dropped`);

/** The schema's name goes into SQL unquoted: a plain identifier only. */
function checkIdentifier(name: string): void {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`--schema ${name}: use lower-case letters, digits and _`);
}

export async function ensurePgSchema(
  url: string,
  schema: string,
  tables: readonly MixTable[],
  log: Log,
): Promise<void> {
  checkIdentifier(schema);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    const have = await c.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relkind IN ('r', 'p')`,
      [schema],
    );
    const existing = new Set(have.rows.map((r) => r.name));
    const changes = { kept: 0, created: 0, dropped: 0 };
    const wanted = new Set(tables.map((t) => t.name));
    for (const name of existing)
      if (!wanted.has(name)) {
        await c.query(`DROP TABLE IF EXISTS ${schema}.${name} CASCADE`);
        changes.dropped++;
      }
    for (const t of tables) {
      const q = `${schema}.${t.name}`;
      if (existing.has(t.name) && Number((await c.query(`SELECT count(*) AS n FROM ${q}`)).rows[0].n) === t.rows) {
        changes.kept++;
        continue;
      }
      if (t.rows >= 100_000) log(`creating ${q} (${t.rows} rows)…`);
      await c.query(`DROP TABLE IF EXISTS ${q}`);
      await c.query(`CREATE TABLE ${q} ${PG_COLUMNS}`);
      if (t.rows > 0) await c.query(pgInsertSql(q, 1, t.rows));
      await c.query(`VACUUM ANALYZE ${q}`);
      changes.created++;
    }
    report(log, `PostgreSQL schema ${schema}`, changes);
  } finally {
    await c.end();
  }
}

/** The database is `schema`, on the server of `url`; the session stays in the URL's database (the Sequence engine needs one). */
export async function ensureMysqlSchema(
  url: string,
  schema: string,
  tables: readonly MixTable[],
  log: Log,
): Promise<void> {
  checkIdentifier(schema);
  const c = await mysqlConnect(url);
  try {
    await c.query(`CREATE DATABASE IF NOT EXISTS ${schema} CHARACTER SET utf8mb4`);
    await c.query("SET SESSION time_zone = '+00:00'");
    const [have] = await c.query(
      `SELECT TABLE_NAME AS name FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE'`,
      [schema],
    );
    const existing = new Set((have as Array<{ name: string }>).map((r) => r.name));
    const changes = { kept: 0, created: 0, dropped: 0 };
    const wanted = new Set(tables.map((t) => t.name));
    for (const name of existing)
      if (!wanted.has(name)) {
        await c.query(`DROP TABLE IF EXISTS ${schema}.${name}`);
        changes.dropped++;
      }
    for (const t of tables) {
      const q = `${schema}.${t.name}`;
      if (existing.has(t.name)) {
        const [cnt] = await c.query(`SELECT COUNT(*) AS n FROM ${q}`);
        if (Number((cnt as Array<{ n: number }>)[0]!.n) === t.rows) {
          changes.kept++;
          continue;
        }
      }
      if (t.rows >= 100_000) log(`creating ${q} (${t.rows} rows)…`);
      await c.query(`DROP TABLE IF EXISTS ${q}`);
      await c.query(`CREATE TABLE ${q} ${MYSQL_COLUMNS}`);
      for (const sql of mysqlInsertSql(q, t.rows)) await c.query(sql);
      await c.query(`ANALYZE TABLE ${q}`);
      changes.created++;
    }
    report(log, `MariaDB database ${schema}`, changes);
  } finally {
    await c.end();
  }
}

/**
 * A state store of the bench's own, emptied for each bench: the URL's database on the same
 * server, renamed `name`. The source's database is shared with the tests of other branches,
 * whose migrations this build may not know.
 */
export async function freshPgStateDb(url: string, name: string): Promise<string> {
  checkIdentifier(name);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  } finally {
    await c.end();
  }
  return withDatabase(url, name);
}

export async function freshMysqlStateDb(url: string, name: string): Promise<string> {
  checkIdentifier(name);
  const c = await mysqlConnect(url);
  try {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name} CHARACTER SET utf8mb4`);
  } finally {
    await c.end();
  }
  return withDatabase(url, name);
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.href;
}
