import { createHash } from 'node:crypto';
import type { Connection } from 'mysql2';
import type { LoadPlan, TableSwap } from '../loader.js';
import { quoteMysqlIdent } from './quote.js';

type TableName = LoadPlan['table'];

const name = (t: TableName) =>
  t.schema ? `${quoteMysqlIdent(t.schema)}.${quoteMysqlIdent(t.name)}` : quoteMysqlIdent(t.name);

/**
 * The restore's lock on a target table, `schema.name` (MySQL lock names are at most 64
 * characters). Locks are the server's, not a database's: an unqualified table is named with the
 * connection's database first, or restores of `orders` into two databases would block each other.
 * The loader names it in SQL (LOCK_NAME), in the statement that takes or releases the lock.
 */
export function restoreLockName(t: { schema: string; name: string }): string {
  return `tablevault-restore:${createHash('sha1').update(`${t.schema}.${t.name}`).digest('hex')}`;
}

/** restoreLockName in SQL, of the parameters schema (NULL: the connection's database) and name. */
const LOCK_NAME = "CONCAT('tablevault-restore:', SHA1(CONCAT(COALESCE(?, DATABASE()), '.', ?)))";

/**
 * A restore's table built aside and put in place by RENAME TABLE, which MySQL and MariaDB run as
 * one atomic operation however many tables it renames: the target is either the old table or the
 * complete new one, never a half-loaded one (DDL commits in MySQL, so no transaction could hold
 * the CREATE and the load).
 */
export function mysqlSwap(conn: Connection, q: (s: string) => Promise<void>): TableSwap {
  const rows = (s: string, params: unknown[]) =>
    new Promise<Array<Record<string, unknown>>>((resolve, reject) =>
      conn.query(s, params, (err, r) => (err ? reject(err) : resolve(r as Array<Record<string, unknown>>))),
    );
  return {
    async blocker(t) {
      const params = [t.schema ?? null, t.name];
      const [trig] = await rows(
        'SELECT COUNT(*) AS n FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = COALESCE(?, DATABASE()) AND EVENT_OBJECT_TABLE = ?',
        params,
      );
      const [fk] = await rows(
        'SELECT COUNT(*) AS n FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE (CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?) OR (UNIQUE_CONSTRAINT_SCHEMA = COALESCE(?, DATABASE()) AND REFERENCED_TABLE_NAME = ?)',
        [...params, ...params],
      );
      const why = [
        ...(Number(trig!.n) ? [`${Number(trig!.n)} trigger(s)`] : []),
        ...(Number(fk!.n) ? [`${Number(fk!.n)} foreign key(s) to or from it`] : []),
      ];
      return why.length ? `it has ${why.join(' and ')}, which a swapped-in table would not keep` : undefined;
    },
    createLike: (aside, t) => q(`CREATE TABLE ${name(aside)} LIKE ${name(t)}`),
    putInPlace: (aside, t, old) =>
      q(
        old
          ? `RENAME TABLE ${name(t)} TO ${name(old)}, ${name(aside)} TO ${name(t)}`
          : `RENAME TABLE ${name(aside)} TO ${name(t)}`,
      ),
    drop: (t) => q(`DROP TABLE IF EXISTS ${name(t)}`),
    async lock(t) {
      const [r] = await rows(`SELECT GET_LOCK(${LOCK_NAME}, 0) AS ok`, [t.schema ?? null, t.name]);
      return Number(r!.ok) === 1;
    },
    async unlock(t) {
      await rows(`SELECT RELEASE_LOCK(${LOCK_NAME})`, [t.schema ?? null, t.name]);
    },
  };
}
