import type mysql from 'mysql2';
import type { RunSnapshot } from '../source.js';

type Conn = mysql.PoolConnection;

/** How long the coordinator waits to block commits before the run falls back to a snapshot per read. */
const LOCK_WAIT_SECONDS = 30;

/** What the coordinating connection blocks commits with, and how it lets them go. */
export type CommitLock = 'backup-stage' | 'ftwrl';
const LOCK: Record<CommitLock, { take: string[]; release: string }> = {
  // MariaDB ≥ 10.4: blocks commits only; no table flush, so a long SELECT elsewhere does not stall it
  'backup-stage': { take: ['BACKUP STAGE START', 'BACKUP STAGE BLOCK_COMMIT'], release: 'BACKUP STAGE END' },
  // MySQL: the global read lock (mydumper's choice for MySQL 8 too)
  ftwrl: { take: ['FLUSH TABLES WITH READ LOCK'], release: 'UNLOCK TABLES' },
};

/** The privilege errors a user without RELOAD gets (1045: Amazon RDS's answer to FLUSH TABLES WITH READ LOCK). */
const NO_PRIVILEGE = new Set([1227, 1044, 1045, 1142]);
const LOCK_WAIT_TIMEOUT = 1205;

export function run(conn: Conn, sqlText: string, values?: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    conn.query(sqlText, values, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/** Session settings of every read: UTC instants and REPEATABLE READ. */
export async function readSession(conn: Conn): Promise<void> {
  await run(conn, "SET SESSION time_zone = '+00:00'");
  await run(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
}

/**
 * A run's snapshot on MySQL: `backup-lock` holds connections each in a transaction opened while
 * commits were blocked, lent to one read at a time; `per-read` holds none.
 */
export class MysqlRunSnapshot implements RunSnapshot {
  private readonly idle: Conn[];
  private live: number;
  private readonly waiters: Array<{ resolve: (c: Conn | undefined) => void; reject: (e: Error) => void }> = [];
  private fallbacks = 0;
  private closing: Promise<void> | undefined;

  constructor(
    readonly kind: 'backup-lock' | 'per-read',
    conns: Conn[],
    private readonly reason: string | undefined,
    private readonly onClose: (s: MysqlRunSnapshot) => void,
  ) {
    this.idle = [...conns];
    this.live = conns.length;
  }

  get warning(): string | undefined {
    if (this.reason) return this.reason;
    if (this.fallbacks === 0) return undefined;
    return `${this.fallbacks} read(s) had a snapshot of their own, not the run's: every connection holding the run's snapshot was closed after reads were abandoned mid-way, so those tables or chunks are consistent on their own but not with the rest of the run`;
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * A connection in the run's snapshot (waiting while all are lent), or undefined: the read
   * takes a snapshot of its own.
   */
  borrow(): Promise<Conn | undefined> {
    if (this.closing) return Promise.reject(new Error('internal: a read given a closed snapshot'));
    const conn = this.idle.pop();
    if (conn) return Promise.resolve(conn);
    if (this.live === 0) {
      if (this.kind === 'backup-lock') this.fallbacks++;
      return Promise.resolve(undefined);
    }
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  /** Takes back a lent connection; one whose read did not end cleanly is closed, and its snapshot with it. */
  async giveBack(conn: Conn, clean: boolean): Promise<void> {
    if (!clean) {
      conn.destroy();
      this.live--;
      if (this.live === 0) for (const w of this.waiters.splice(0)) this.fallbackFor(w);
      return;
    }
    if (this.closing) return endTransaction(conn);
    const next = this.waiters.shift();
    if (next) next.resolve(conn);
    else this.idle.push(conn);
  }

  private fallbackFor(w: { resolve: (c: Conn | undefined) => void }): void {
    this.fallbacks++;
    w.resolve(undefined);
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.onClose(this);
      for (const w of this.waiters.splice(0))
        w.reject(new Error('internal: the snapshot was closed while a read waited for it'));
      await Promise.all(this.idle.splice(0).map(endTransaction));
    })();
    return this.closing;
  }
}

async function endTransaction(conn: Conn): Promise<void> {
  try {
    await run(conn, 'COMMIT');
    conn.release();
  } catch {
    conn.destroy();
  }
}

/**
 * mydumper's way to one snapshot on many connections: connect the readers first, then block
 * commits on a coordinating connection, open a consistent snapshot on every reader, and let
 * commits go at once, so writers wait only while the snapshots open. `lock` defaults to
 * BACKUP STAGE on MariaDB ≥ 10.4 and FLUSH TABLES WITH READ LOCK elsewhere. Without the privilege
 * (RELOAD), or when commits cannot be blocked within LOCK_WAIT_SECONDS, a `per-read` snapshot
 * says why in its warning.
 */
export async function openMysqlSnapshot(
  connect: () => Promise<Conn>,
  readers: number,
  label: string,
  onClose: (s: MysqlRunSnapshot) => void,
  lock?: CommitLock,
): Promise<MysqlRunSnapshot> {
  const conns: Conn[] = [];
  const coordinator = await connect();
  let locked: CommitLock | undefined;
  /** Lets commits go and gives the coordinator back to the pool as it came (its lock wait too). */
  const letGo = async (): Promise<void> => {
    if (locked) await run(coordinator, LOCK[locked].release);
    locked = undefined;
    await run(coordinator, 'SET SESSION lock_wait_timeout = @@GLOBAL.lock_wait_timeout');
    coordinator.release();
  };
  try {
    for (let i = 0; i < readers; i++) conns.push(await connect());
    for (const c of conns) await readSession(c);
    const method = lock ?? (await defaultLock(coordinator));
    await run(coordinator, `SET SESSION lock_wait_timeout = ${LOCK_WAIT_SECONDS}`);
    try {
      for (const s of LOCK[method].take) {
        await run(coordinator, s);
        locked = method;
      }
    } catch (e) {
      const why = fallbackReason(e, label);
      if (!why) throw e;
      await letGo();
      for (const c of conns.splice(0)) c.release();
      return new MysqlRunSnapshot('per-read', [], why, onClose);
    }
    await Promise.all(conns.map((c) => run(c, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY')));
    await letGo();
    return new MysqlRunSnapshot('backup-lock', conns, undefined, onClose);
  } catch (e) {
    // the coordinator is never released when anything above failed: closing it lets commits go
    coordinator.destroy();
    for (const c of conns) c.destroy();
    throw e;
  }
}

async function defaultLock(conn: Conn): Promise<CommitLock> {
  const rows = (await run(conn, 'SELECT VERSION() AS v')) as Array<{ v: string }>;
  const v = rows[0]?.v ?? '';
  const m = /^(\d+)\.(\d+)/.exec(v);
  const mariadb104 = /mariadb/i.test(v) && m !== null && Number(m[1]) * 100 + Number(m[2]) >= 1004;
  return mariadb104 ? 'backup-stage' : 'ftwrl';
}

/** The warning of a run that falls back to a snapshot per read, or undefined when `e` is another failure. */
function fallbackReason(e: unknown, label: string): string | undefined {
  const err = e as { errno?: number; message?: string };
  const each = 'so each read has a snapshot of its own: every table and chunk is consistent, but not with the others';
  if (err.errno !== undefined && NO_PRIVILEGE.has(err.errno))
    return `MySQL at ${label} did not let this user block commits (${err.message}), ${each}; GRANT RELOAD ON *.* to the backup user for one snapshot per run`;
  if (err.errno === LOCK_WAIT_TIMEOUT)
    return `MySQL at ${label} could not block commits within ${LOCK_WAIT_SECONDS} s (a long statement or DDL held its lock), ${each}`;
  return undefined;
}
