import type { Kysely } from 'kysely';
import type { StateDb, StateSchema } from './db.js';

/** Recent versions go in and out in statements of this many rows, well under either engine's limit on placeholders. */
export const RECENT_CHUNK = 500;

/** The hashes of the row versions recorded in the table's lag window. */
export async function recentVersions(s: StateDb, tableKey: string): Promise<string[]> {
  return (await s.db.selectFrom('tablevault_recent').select('version').where('table_key', '=', tableKey).execute()).map(
    (r) => r.version,
  );
}

/** Forgets recorded versions that left the lag window. */
export async function pruneRecentVersions(s: StateDb, tableKey: string, versions: string[]): Promise<void> {
  for (let i = 0; i < versions.length; i += RECENT_CHUNK) {
    await s.db
      .deleteFrom('tablevault_recent')
      .where('table_key', '=', tableKey)
      .where('version', 'in', versions.slice(i, i + RECENT_CHUNK))
      .execute();
  }
}

/** Records versions as written, inside the caller's transaction `tx`; a version already recorded stays. */
export async function insertRecentVersions(
  s: StateDb,
  tx: Kysely<StateSchema>,
  tableKey: string,
  versions: string[],
): Promise<void> {
  for (let i = 0; i < versions.length; i += RECENT_CHUNK) {
    const chunk = versions.slice(i, i + RECENT_CHUNK).map((version) => ({ table_key: tableKey, version }));
    await tx
      .insertInto('tablevault_recent')
      .values(chunk)
      .$call((qb) => s.engine.state.ignoreDuplicates(qb))
      .execute();
  }
}
