import mysql from 'mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mysqlConnectionOptions } from '../../src/source/mysql/connection.js';
import { openMysqlSnapshot, run, type CommitLock } from '../../src/source/mysql/snapshot.js';
import { MYSQL_DB, MYSQL_URL, withMysql } from '../helpers/db.js';

/**
 * The commit lock is what makes a MySQL run snapshot one snapshot: a writer that commits after
 * the first reader opened its snapshot, and before the second did, waits for the lock's release,
 * so no reader sees its commit. The writer is sent between the two readers' START TRANSACTIONs;
 * the second waits until the writer is seen blocked (or, with no lock, has committed).
 */

type Conn = mysql.PoolConnection;
let pool: mysql.Pool;
beforeAll(async () => {
  pool = mysql.createPool({ ...mysqlConnectionOptions(MYSQL_URL), connectionLimit: 6 });
  await withMysql((c) =>
    c.query(`DROP TABLE IF EXISTS tv_snap_lock;
      CREATE TABLE tv_snap_lock (id int PRIMARY KEY, v int NOT NULL); INSERT INTO tv_snap_lock VALUES (1, 0)`),
  );
});
afterAll(async () => {
  await new Promise((resolve) => pool.end(resolve));
  await withMysql((c) => c.query('DROP TABLE IF EXISTS tv_snap_lock'));
});

const connect = () =>
  new Promise<Conn>((resolve, reject) => pool.getConnection((err, c) => (err ? reject(err) : resolve(c))));

/** Until the session `id` waits on a lock (or `done` settles). */
async function blockedOrDone(id: number, done: Promise<unknown>): Promise<void> {
  let settled = false;
  void done.finally(() => (settled = true));
  while (!settled) {
    const [rows] = await withMysql((c) =>
      c.query('SELECT STATE AS s FROM information_schema.PROCESSLIST WHERE ID = ?', [id]),
    );
    if (/^Waiting for .*lock/.test((rows as Array<{ s: string | null }>)[0]?.s ?? '')) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function valueOn(conn: Conn): Promise<number> {
  const rows = (await run(conn, 'SELECT v FROM tv_snap_lock WHERE id = 1')) as Array<{ v: number }>;
  return rows[0]!.v;
}

describe('MySQL run snapshot: the commit lock', () => {
  for (const lock of ['backup-stage', 'ftwrl'] as CommitLock[]) {
    it(`holds back a commit sent between two readers' snapshots, so both see the data before it (${lock})`, async () => {
      const writer = await connect();
      const writerId = writer.threadId!;
      let commit: Promise<unknown> | undefined;
      let calls = 0;
      const withInterlude = async (): Promise<Conn> => {
        const c = await connect();
        if (++calls !== 3) return c; // the coordinator, then the first reader: untouched
        const query = c.query.bind(c) as (...a: unknown[]) => unknown;
        (c as unknown as { query: (...a: unknown[]) => unknown }).query = (sqlText: unknown, ...rest: unknown[]) => {
          if (typeof sqlText !== 'string' || !sqlText.startsWith('START TRANSACTION')) return query(sqlText, ...rest);
          commit = run(writer, 'UPDATE tv_snap_lock SET v = v + 1 WHERE id = 1');
          void blockedOrDone(writerId, commit).then(() => {
            query(sqlText, ...rest);
          });
          return undefined;
        };
        return c;
      };
      const before = await withMysql(async (c) => (await c.query('SELECT v FROM tv_snap_lock WHERE id = 1'))[0]);
      const snapshot = await openMysqlSnapshot(withInterlude, 2, MYSQL_DB, () => {}, lock);
      expect(snapshot.kind).toBe('backup-lock');
      await commit; // let go with the lock
      writer.release();
      const seen: number[] = [];
      const lent = [await snapshot.borrow(), await snapshot.borrow()];
      for (const c of lent) seen.push(await valueOn(c!));
      for (const c of lent) await snapshot.giveBack(c!, true);
      await snapshot.close();
      const v0 = (before as Array<{ v: number }>)[0]!.v;
      expect(seen).toEqual([v0, v0]);
      const [after] = await withMysql((c) => c.query('SELECT v FROM tv_snap_lock WHERE id = 1'));
      expect((after as Array<{ v: number }>)[0]!.v).toBe(v0 + 1);
    });
  }
});
