import { createHash } from 'node:crypto';
import type { StateDb } from './db.js';
import { now } from './timestamps.js';

export interface SeenTable {
  name: string;
  firstSeen: string;
  lastSeen: string;
}

const seenKey = (destination: string, name: string) =>
  createHash('sha1').update(destination).update('\u0000').update(name).digest('hex');

/** The tables runs to `destination` have matched, by name; empty when the schema has none yet. */
export async function seenTables(s: StateDb, destination: string): Promise<SeenTable[]> {
  const rows = await s.db
    .selectFrom('tablevault_seen')
    .select(['table_name', 'first_seen', 'last_seen'])
    .where('destination', '=', destination)
    .execute()
    .catch(() => []);
  return rows.map((r) => ({ name: r.table_name, firstSeen: r.first_seen, lastSeen: r.last_seen }));
}

/** Records that this run matched `names`: new ones are added, known ones get a new last_seen. */
export async function recordSeen(s: StateDb, destination: string, names: string[], known: Set<string>): Promise<void> {
  const at = now();
  const fresh = names.filter((n) => !known.has(n));
  await s.db.transaction().execute(async (tx) => {
    if (fresh.length)
      await tx
        .insertInto('tablevault_seen')
        .values(
          fresh.map((n) => ({
            seen_key: seenKey(destination, n),
            destination,
            table_name: n,
            first_seen: at,
            last_seen: at,
          })),
        )
        .$call((qb) => s.engine.state.ignoreDuplicates(qb))
        .execute();
    const old = names.filter((n) => known.has(n)).map((n) => seenKey(destination, n));
    for (let i = 0; i < old.length; i += 500)
      await tx
        .updateTable('tablevault_seen')
        .set({ last_seen: at })
        .where('seen_key', 'in', old.slice(i, i + 500))
        .execute();
  });
}
