import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Engine, StateDialect } from '../engine.js';
import { quotePgIdent } from './quote.js';
import { columnType, createSchemaSql, renameTableSql, tableOptions } from './ddl.js';
import { pgConnectError } from './errors.js';
import { valueText } from './text.js';

const state: StateDialect = {
  open<DB>(url: string, opts?: { maxConnections?: number }): Kysely<DB> {
    const pool = new pg.Pool({
      connectionString: url,
      max: opts?.maxConnections ?? 10,
      application_name: 'tablevault-state',
    });
    pool.on('error', () => {}); // an idle client's error surfaces on its next use
    return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  },
  async tryLock(conn, name) {
    return (await sql<{ ok: boolean }>`SELECT ${takeLock(name)} AS ok`.execute(conn)).rows[0]!.ok;
  },
  async unlock(conn, name) {
    await sql`SELECT pg_advisory_unlock(hashtextextended(${name}, 0))`.execute(conn);
  },
  // a SELECT without FROM is one row: the condition is evaluated once
  selectIfLocked: (values, name) => sql`SELECT ${sql.join(values)} WHERE ${takeLock(name)}`,
  ignoreDuplicates: (qb) => qb.onConflict((oc) => oc.doNothing()),
  // clock_timestamp, not now(): now() is the transaction's start
  nowMs: sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`,
};

const takeLock = (name: string) => sql<boolean>`pg_try_advisory_lock(hashtextextended(${name}, 0))`;

/**
 * PostgreSQL: reads by binary COPY (source.ts), restores by COPY FROM STDIN (loader.ts), verifies
 * in SQL (checksum.ts), state locks by advisory locks.
 */
export const postgresEngine: Engine = {
  name: 'postgres',
  displayName: 'PostgreSQL',
  async openSource(url, opts) {
    return new (await import('./source.js')).PostgresSource(url, opts);
  },
  state,
  connectError: pgConnectError,
  quoteIdent: quotePgIdent,
  valueText,
  zeroDateText: () => undefined,
  ddl: { columnType, tableOptions, createSchemaSql, renameTableSql },
  async openLoader(url) {
    return (await import('./loader.js')).openLoader(url);
  },
  async openChecksums(url, source, table, key, opts) {
    return (await import('./checksum.js')).openChecksums(url, source, table, key, opts);
  },
  hashesFloatsApart: false,
};
