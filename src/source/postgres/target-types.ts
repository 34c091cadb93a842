import type pg from 'pg';
import type { TargetType } from './binary-writers.js';

interface TypeRow {
  name: string;
  recv: string;
  elem: number;
  elemrecv: string | null;
}

const TYPES_OF = (table: string) => `
      SELECT a.attname AS name,
             regexp_replace(bt.typreceive::text, '^.*\\.', '') AS recv,
             bt.typelem::int AS elem,
             regexp_replace(ebt.typreceive::text, '^.*\\.', '') AS elemrecv
      FROM pg_attribute a
      JOIN pg_type t ON t.oid = a.atttypid
      JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      LEFT JOIN pg_type e ON e.oid = bt.typelem AND bt.typreceive = 'array_recv'::regproc
      LEFT JOIN pg_type ebt ON ebt.oid = CASE WHEN e.typtype = 'd' THEN e.typbasetype ELSE e.oid END
      WHERE a.attrelid = ${table}::regclass AND a.attnum > 0 AND NOT a.attisdropped`;

/**
 * The target table's column types as the binary writers need them: each column's base type's
 * receive function (domains by their base type) and, for arrays, the element type's OID and its
 * own receive function. Read in the loader's transaction, so a table created in it is seen.
 */
export async function targetTypes(client: pg.Client, table: string): Promise<Map<string, TargetType>> {
  return typesFromRows((await client.query<TypeRow>(TYPES_OF('$1'), [table])).rows);
}

/**
 * The same query for a simple-protocol statement list (the table's name a literal), so the
 * loader can send it in one round trip with the BEGIN and CREATE TABLE before it; its rows go
 * to typesFromRows. standard_conforming_strings is on in the loader's session (SESSION_SETTINGS).
 */
export function targetTypesSql(table: string): string {
  return TYPES_OF(`'${table.replaceAll("'", "''")}'`);
}

export function typesFromRows(rows: readonly TypeRow[]): Map<string, TargetType> {
  return new Map(
    rows.map((r) => [
      r.name,
      r.elemrecv === null ? { recv: r.recv } : { recv: r.recv, elementOid: r.elem, element: { recv: r.elemrecv } },
    ]),
  );
}
