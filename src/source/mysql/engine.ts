import { createHash } from 'node:crypto';
import { Kysely, MysqlDialect, sql } from 'kysely';
import mysql from 'mysql2';
import { driverUrl, type Engine, type StateDialect } from '../engine.js';
import { mysqlConnectionOptions } from './connection.js';
import { mysqlConnectError } from './errors.js';

/** MySQL lock names are at most 64 characters. */
function lockName(name: string): string {
  return `tablevault:${createHash('sha1').update(name).digest('hex')}`;
}

const state: StateDialect = {
  open<DB>(url: string): Kysely<DB> {
    const pool = mysql.createPool({ ...mysqlConnectionOptions(driverUrl(url)), connectionLimit: 10, supportBigNumbers: true, bigNumberStrings: true });
    return new Kysely<DB>({ dialect: new MysqlDialect({ pool }) });
  },
  async tryLock(conn, name) {
    return Number((await sql<{ ok: number }>`SELECT GET_LOCK(${lockName(name)}, 0) AS ok`.execute(conn)).rows[0]!.ok) === 1;
  },
  async unlock(conn, name) {
    await sql`SELECT RELEASE_LOCK(${lockName(name)})`.execute(conn);
  },
  ignoreDuplicates: (qb) => qb.ignore(),
};

/** MySQL and MariaDB: reads by the text protocol (source.ts), state locks by GET_LOCK. */
export const mysqlEngine: Engine = {
  name: 'mysql',
  async openSource(url) {
    return new (await import('./source.js')).MysqlSource(driverUrl(url));
  },
  state,
  connectError: mysqlConnectError,
};
