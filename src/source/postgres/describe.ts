import { type Kysely, sql } from 'kysely';
import { inputError } from '../../errors.js';
import type { SourceTable, TableRef } from '../columns.js';
import { mapPgColumn, type PgColumnRow } from './types.js';
import { quotePgIdent } from './quote.js';

/** A table's columns (pg_attribute, domains by their base type), primary key and row estimate, from the catalog. */
export async function describeTable(db: Kysely<unknown>, label: string, ref: TableRef): Promise<SourceTable> {
  const target = ref.schema ? `${quotePgIdent(ref.schema)}.${quotePgIdent(ref.name)}` : quotePgIdent(ref.name);
  const found = await sql<{ oid: number; schema: string; name: string; estimate: number; kind: string }>`
      SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, GREATEST(c.reltuples, 0)::float8 AS estimate, c.relkind::text AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass(${target})`.execute(db);
  const rel = found.rows[0];
  if (!rel || !['r', 'p', 'v', 'm', 'f'].includes(rel.kind)) {
    throw inputError(
      'TABLE_NOT_FOUND',
      `table ${ref.schema ? `${ref.schema}.` : ''}${ref.name} does not exist in ${label}; check --table (use schema.table for a schema outside the search_path)`,
    );
  }
  const cols = await sql<PgColumnRow>`
      SELECT a.attname AS name, a.attnotnull AS notnull,
             bt.typname AS typname, bt.typtype::text AS typtype,
             format_type(a.atttypid, a.atttypmod) AS formatted,
             CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod,
             et.typname AS elemtypname, et.typtype::text AS elemtyptype, a.attndims AS ndims
      FROM pg_attribute a
      JOIN pg_type t ON t.oid = a.atttypid
      JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
      WHERE a.attrelid = ${rel.oid} AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`.execute(db);
  const pk = await sql<{ name: string }>`
      SELECT a.attname AS name
      FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = ${rel.oid} AND i.indisprimary
      ORDER BY k.ord`.execute(db);
  return {
    engine: 'postgres',
    schema: rel.schema,
    name: rel.name,
    columns: cols.rows.map(mapPgColumn),
    primaryKey: pk.rows.map((r) => r.name),
    estimatedRows: Math.round(rel.estimate),
  };
}
