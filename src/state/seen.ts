import { createHash } from 'node:crypto';
import type { StateDb } from './db.js';
import { now } from './timestamps.js';

export interface SeenTable {
  name: string;
  firstSeen: string;
  lastSeen: string;
  /** The table's state key when last seen; undefined when that run predates it. */
  stateKey?: string;
}

/** A table a run matched: its name (as results call it) and where its state is. */
export interface MatchedTable {
  name: string;
  stateKey: string;
}

const seenKey = (destination: string, name: string) =>
  createHash('sha1').update(destination).update('\u0000').update(name).digest('hex');

/** The tables runs to `destination` have matched, by name; empty when the schema has none yet. */
export async function seenTables(s: StateDb, destination: string): Promise<SeenTable[]> {
  // every column: a --dry-run does not migrate, and a store before migration 0005 has no state_key
  const rows = await s.db
    .selectFrom('tablevault_seen')
    .selectAll()
    .where('destination', '=', destination)
    .execute()
    .catch(() => []);
  return rows.map((r) => ({
    name: r.table_name,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    ...(r.state_key ? { stateKey: r.state_key } : {}),
  }));
}

/**
 * Records that this run matched `tables`: new ones are added, known ones get a new last_seen
 * (one statement per 500), and those whose state key changed (a table gone from full to
 * incremental, or seen before the key was kept) their new key.
 */
export async function recordSeen(
  s: StateDb,
  destination: string,
  tables: MatchedTable[],
  known: Map<string, SeenTable>,
): Promise<void> {
  const at = now();
  const fresh = tables.filter((t) => !known.has(t.name));
  await s.db.transaction().execute(async (tx) => {
    if (fresh.length)
      await tx
        .insertInto('tablevault_seen')
        .values(
          fresh.map((t) => ({
            seen_key: seenKey(destination, t.name),
            destination,
            table_name: t.name,
            first_seen: at,
            last_seen: at,
            state_key: t.stateKey,
          })),
        )
        .$call((qb) => s.engine.state.ignoreDuplicates(qb))
        .execute();
    const old = tables.filter((t) => known.has(t.name));
    for (let i = 0; i < old.length; i += 500)
      await tx
        .updateTable('tablevault_seen')
        .set({ last_seen: at })
        .where(
          'seen_key',
          'in',
          old.slice(i, i + 500).map((t) => seenKey(destination, t.name)),
        )
        .execute();
    for (const t of old.filter((o) => known.get(o.name)!.stateKey !== o.stateKey))
      await tx
        .updateTable('tablevault_seen')
        .set({ state_key: t.stateKey })
        .where('seen_key', '=', seenKey(destination, t.name))
        .execute();
  });
}
