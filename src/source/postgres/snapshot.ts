import pg from 'pg';
import { runtimeError } from '../../errors.js';
import type { RunSnapshot } from '../source.js';
import { SESSION_SETTINGS } from './session.js';

/**
 * A run's exported snapshot: the coordinating connection's REPEATABLE READ transaction stays
 * open (idle) until `close()`, and every read imports its snapshot by id.
 */
export class PgRunSnapshot implements RunSnapshot {
  readonly kind = 'exported' as const;
  readonly warning = undefined;
  private closing: Promise<void> | undefined;

  constructor(
    readonly id: string,
    private readonly client: pg.PoolClient,
    private readonly onClose: (s: PgRunSnapshot) => void,
  ) {}

  get closed(): boolean {
    return this.closing !== undefined;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.onClose(this);
      try {
        await this.client.query('COMMIT');
        this.client.release();
      } catch (e) {
        this.client.release(e instanceof Error ? e : new Error(String(e)));
      }
    })();
    return this.closing;
  }
}

/** Exports a snapshot on `client`, which the snapshot keeps until it is closed. */
export async function exportSnapshot(
  client: pg.PoolClient,
  onClose: (s: PgRunSnapshot) => void,
): Promise<PgRunSnapshot> {
  try {
    // an idle-in-transaction timeout would end the exported snapshot while reads still import it
    await client.query('SET idle_in_transaction_session_timeout = 0');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const res = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    return new PgRunSnapshot(res.rows[0]!.id, client, onClose);
  } catch (e) {
    client.release(e instanceof Error ? e : new Error(String(e)));
    throw e;
  }
}

/**
 * Starts a read's transaction on `client`: the session settings, then REPEATABLE READ, in the
 * run's snapshot when one is given (`SET TRANSACTION SNAPSHOT` must be the transaction's first
 * statement). `label` names the database in the error when the snapshot is gone.
 */
export async function beginRead(client: pg.PoolClient, snapshot: PgRunSnapshot | undefined, label: string) {
  for (const s of SESSION_SETTINGS) await client.query(s);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  if (!snapshot) return;
  try {
    await client.query(`SET TRANSACTION SNAPSHOT ${pg.Client.prototype.escapeLiteral(snapshot.id)}`);
  } catch (e) {
    throw runtimeError(
      'SOURCE_SNAPSHOT',
      `the run's snapshot on PostgreSQL at ${label} is gone (${(e as Error).message}): its coordinating connection was closed, by the network or the server; run the backup again`,
      e,
    );
  }
}

/** The source's own snapshot object, or an internal error for anything else. */
export function pgSnapshot(s: RunSnapshot | undefined): PgRunSnapshot | undefined {
  if (s === undefined) return undefined;
  if (!(s instanceof PgRunSnapshot)) throw new Error('internal: a snapshot from another source');
  if (s.closed) throw new Error('internal: a read given a closed snapshot');
  return s;
}
