import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { Engine, StateDialect } from '../engine.js';
import { pgConnectError } from './errors.js';

const state: StateDialect = {
  open<DB>(url: string): Kysely<DB> {
    const pool = new pg.Pool({ connectionString: url, max: 10, application_name: 'tablevault-state' });
    pool.on('error', () => {}); // an idle client's error surfaces on its next use
    return new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  },
  async tryLock(conn, name) {
    return (await sql<{ ok: boolean }>`SELECT pg_try_advisory_lock(hashtextextended(${name}, 0)) AS ok`.execute(conn)).rows[0]!.ok;
  },
  async unlock(conn, name) {
    await sql`SELECT pg_advisory_unlock(hashtextextended(${name}, 0))`.execute(conn);
  },
  ignoreDuplicates: (qb) => qb.onConflict((oc) => oc.doNothing()),
};

/** PostgreSQL: reads by binary COPY (source.ts), state locks by advisory locks. */
export const postgresEngine: Engine = {
  name: 'postgres',
  async openSource(url) {
    return new (await import('./source.js')).PostgresSource(url);
  },
  state,
  connectError: pgConnectError,
};
