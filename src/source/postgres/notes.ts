import { createHash } from 'node:crypto';
import type pg from 'pg';
import type { LoadPlan, TableNotes, TargetLock } from '../loader.js';

type TableName = LoadPlan['table'];

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** A table's note: its COMMENT, written in the transaction of its rows (see TableNotes). */
export function pgNotes(client: pg.Client, name: (t: TableName) => string): TableNotes {
  return {
    async read(t) {
      const r = await client.query<{ found: boolean; note: string | null }>(
        "SELECT to_regclass($1) IS NOT NULL AS found, obj_description(to_regclass($1), 'pg_class') AS note",
        [name(t)],
      );
      const row = r.rows[0]!;
      return row.found ? (row.note === null ? {} : { note: row.note }) : undefined;
    },
    writeSql: (t, note) => `COMMENT ON TABLE ${name(t)} IS ${note === undefined ? 'NULL' : literal(note)}`,
    // COMMENT ON takes SHARE UPDATE EXCLUSIVE itself, but only once it runs: the note it is given
    // would be read before that, so two transactions could both read the same note and the later
    // commit drop the other's word. Taken first, the lock (which COPY's ROW EXCLUSIVE does not
    // conflict with, so loads go on) makes the writers queue; the next statement's snapshot, taken
    // after the holder committed, reads its note
    addSql(t, word) {
      const n = literal(name(t));
      return [
        `LOCK TABLE ${name(t)} IN SHARE UPDATE EXCLUSIVE MODE`,
        `DO $tablevault_note$ BEGIN EXECUTE format('COMMENT ON TABLE %s IS %L', ${n}, concat_ws(' ', obj_description(${n}::regclass, 'pg_class'), ${literal(word)})); END $tablevault_note$`,
      ].join('; ');
    },
    name,
  };
}

/** The advisory lock's key for a target: 64 bits of a hash of its name. */
export function restoreLockKey(t: TableName): string {
  const hex = createHash('sha1')
    .update(`tablevault-restore:${t.schema ?? ''}.${t.name}`)
    .digest('hex')
    .slice(0, 16);
  return BigInt.asIntN(64, BigInt(`0x${hex}`)).toString();
}

/** A session's advisory lock per target (given back with the connection, if not before). */
export function pgRestoreLock(client: pg.Client): TargetLock {
  return {
    async take(t) {
      const r = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
        restoreLockKey(t),
      ]);
      return r.rows[0]!.ok;
    },
    async give(t) {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [restoreLockKey(t)]);
    },
  };
}
