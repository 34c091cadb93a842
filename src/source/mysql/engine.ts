import { createHash } from 'node:crypto';
import { Kysely, MysqlDialect, sql } from 'kysely';
import mysql from 'mysql2';
import { driverUrl, type Engine, type StateDialect } from '../engine.js';
import type { ColumnKind } from '../columns.js';
import { quoteMysqlIdent } from './quote.js';
import { mysqlConnectionOptions } from './connection.js';
import { columnType, createSchemaSql, renameTableSql, tableOptions } from './ddl.js';
import { mysqlConnectError } from './errors.js';
import { valueText } from './text.js';

/** MySQL lock names are at most 64 characters. */
function lockName(name: string): string {
  return `tablevault:${createHash('sha1').update(name).digest('hex')}`;
}

const state: StateDialect = {
  open<DB>(url: string, opts?: { maxConnections?: number }): Kysely<DB> {
    const pool = mysql.createPool({
      ...mysqlConnectionOptions(driverUrl(url)),
      connectionLimit: opts?.maxConnections ?? 10,
      supportBigNumbers: true,
      bigNumberStrings: true,
    });
    return new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
  },
  async tryLock(conn, name) {
    return Number((await sql<{ ok: number }>`SELECT ${takeLock(name)} AS ok`.execute(conn)).rows[0]!.ok) === 1;
  },
  async unlock(conn, name) {
    await sql`SELECT RELEASE_LOCK(${lockName(name)})`.execute(conn);
  },
  // MySQL takes a WHERE only after a FROM; DUAL is one row, so GET_LOCK runs once
  selectIfLocked: (values, name) => sql`SELECT ${sql.join(values)} FROM DUAL WHERE ${takeLock(name)} = 1`,
  ignoreDuplicates: (qb) => qb.ignore(),
  nowMs: sql<number>`CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)`,
};

const takeLock = (name: string) => sql<number>`GET_LOCK(${lockName(name)}, 0)`;

/** What a NOT NULL column restored as NULL held: export writes zero dates as NULL. */
const ZERO_DATES: Partial<Record<ColumnKind, string>> = {
  date: '0000-00-00',
  timestamp: '0000-00-00 00:00:00',
  timestamptz: '0000-00-00 00:00:00',
};

/**
 * MySQL and MariaDB: reads by the text protocol (source.ts), restores by multi-row INSERT
 * (loader.ts), verifies in SQL but for the floats (checksum.ts), state locks by GET_LOCK.
 */
export const mysqlEngine: Engine = {
  name: 'mysql',
  displayName: 'MySQL',
  async openSource(url, opts) {
    return new (await import('./source.js')).MysqlSource(driverUrl(url), opts);
  },
  state,
  connectError: mysqlConnectError,
  quoteIdent: quoteMysqlIdent,
  valueText,
  zeroDateText: (kind) => ZERO_DATES[kind],
  ddl: { columnType, tableOptions, createSchemaSql, renameTableSql },
  async openLoader(url) {
    return (await import('./loader.js')).openLoader(url);
  },
  async openChecksums(url, source, table, key, opts) {
    return (await import('./checksum.js')).openChecksums(url, source, table, key, opts);
  },
  // MySQL has no exact text of a float in SQL: verify streams them and hashes them here
  hashesFloatsApart: true,
};
