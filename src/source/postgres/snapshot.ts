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

  /**
   * The coordinating connection sits idle in its transaction for the run: a checked-out client
   * has no pool listener, so its error (the server ending the session) would be an uncaught
   * exception. It is recorded instead; the next read's SET TRANSACTION SNAPSHOT fails and says so.
   */
  private readonly onError = (e: Error): void => {
    this.lost ??= e;
  };
  lost: Error | undefined;

  constructor(
    readonly id: string,
    private readonly client: pg.PoolClient,
    private readonly onClose: (s: PgRunSnapshot) => void,
  ) {
    client.on('error', this.onError);
  }

  get closed(): boolean {
    return this.closing !== undefined;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.onClose(this);
      try {
        if (this.lost) throw this.lost;
        await this.client.query('COMMIT');
        this.client.release();
      } catch (e) {
        this.client.release(e instanceof Error ? e : new Error(String(e)));
      } finally {
        this.client.off('error', this.onError);
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
  const early = (): void => {}; // an error between the queries below surfaces on the query
  client.on('error', early);
  try {
    // an idle-in-transaction timeout would end the exported snapshot while reads still import it
    await client.query('SET idle_in_transaction_session_timeout = 0');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const res = await client.query<{ id: string }>('SELECT pg_export_snapshot() AS id');
    return new PgRunSnapshot(res.rows[0]!.id, client, onClose);
  } catch (e) {
    client.release(e instanceof Error ? e : new Error(String(e)));
    throw e;
  } finally {
    client.off('error', early);
  }
}

/** Pooled connections whose session already has SESSION_SETTINGS. */
const configured = new WeakSet<pg.PoolClient>();

/**
 * Starts a read's transaction on `client`: the session settings, then REPEATABLE READ, in the
 * run's snapshot when one is given (`SET TRANSACTION SNAPSHOT` must be the transaction's first
 * statement), then `query` in it, if given: its rows are returned. `label` names the database in
 * the error when the snapshot is gone.
 */
export async function beginRead<R extends object = Record<string, unknown>>(
  client: pg.PoolClient,
  snapshot: PgRunSnapshot | undefined,
  label: string,
  query?: string,
): Promise<R[]> {
  // one round trip: the settings (once per pooled connection: they last for its session), BEGIN,
  // the snapshot and the read's first query as one simple-protocol query, not statements waited
  // on one by one, which for a small table were most of its round trips
  const statements = [
    ...(configured.has(client) ? [] : SESSION_SETTINGS),
    'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    ...(snapshot ? [`SET TRANSACTION SNAPSHOT ${pg.Client.prototype.escapeLiteral(snapshot.id)}`] : []),
    ...(query ? [query] : []),
  ];
  let res: pg.QueryResult<R> | Array<pg.QueryResult<R>>;
  try {
    res = await client.query<R>(statements.join('; '));
  } catch (e) {
    // the query given cannot fail but with the connection (see planQuery): a failure is the snapshot's
    if (!snapshot) throw e;
    throw runtimeError(
      'SOURCE_SNAPSHOT',
      `the run's snapshot on PostgreSQL at ${label} is gone (${(e as Error).message}): its coordinating connection was closed, by the network or the server; run the backup again`,
      e,
    );
  }
  configured.add(client);
  if (!query) return [];
  return (Array.isArray(res) ? res[res.length - 1]! : res).rows;
}

/** The source's own snapshot object, or an internal error for anything else. */
export function pgSnapshot(s: RunSnapshot | undefined): PgRunSnapshot | undefined {
  if (s === undefined) return undefined;
  if (!(s instanceof PgRunSnapshot)) throw new Error('internal: a snapshot from another source');
  if (s.closed) throw new Error('internal: a read given a closed snapshot');
  return s;
}
