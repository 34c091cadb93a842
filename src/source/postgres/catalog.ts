import { type Kysely, sql } from 'kysely';
import type { Catalog, CatalogRelation, RelationKind } from '../../plan/tables.js';
import { mapPgColumn, type PgColumnRow } from './types.js';

const KINDS: Record<string, RelationKind> = {
  r: 'table',
  p: 'partitioned',
  v: 'view',
  m: 'materialized-view',
  f: 'foreign',
};

interface Row {
  schema: string;
  name: string;
  kind: string;
  parent_schema: string | null;
  parent_name: string | null;
  estimate: number;
  pk: string[];
  columns: PgColumnRow[] | null;
}

/**
 * Every table, partitioned table, view, materialized view and foreign table outside the system
 * schemas, with its columns and primary key, in one query: a run describes hundreds of tables for
 * the cost of one round trip. Temporary tables and tables that belong to an extension (as
 * pg_dump leaves them out) are not listed. A partitioned table's estimate sums its partitions'.
 */
export async function readCatalog(db: Kysely<unknown>): Promise<Catalog> {
  const res = await sql<Row>`
    SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
           pn.nspname AS parent_schema, p.relname AS parent_name,
           CASE WHEN c.relkind = 'p' THEN
             (SELECT coalesce(sum(GREATEST(l.reltuples, 0)), 0) FROM pg_partition_tree(c.oid) pt
              JOIN pg_class l ON l.oid = pt.relid WHERE pt.isleaf)
           ELSE GREATEST(c.reltuples, 0) END::float8 AS estimate,
           (SELECT coalesce(json_agg(a.attname ORDER BY k.ord), '[]'::json)
            FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
            JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = c.oid AND i.indisprimary) AS pk,
           (SELECT json_agg(json_build_object(
                     'name', a.attname, 'notnull', a.attnotnull, 'typname', bt.typname, 'typtype', bt.typtype::text,
                     'formatted', format_type(a.atttypid, a.atttypmod),
                     'typmod', CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
                     'elemtypname', et.typname, 'elemtyptype', et.typtype::text, 'ndims', a.attndims)
                   ORDER BY a.attnum)
            FROM pg_attribute a
            JOIN pg_type t ON t.oid = a.atttypid
            JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
            LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_inherits inh ON c.relispartition AND inh.inhrelid = c.oid
    LEFT JOIN pg_class p ON p.oid = inh.inhparent
    LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f') AND c.relpersistence <> 't'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
    ORDER BY n.nspname, c.relname`.execute(db);
  const def = await sql<{ schema: string | null }>`SELECT current_schema() AS schema`.execute(db);
  const relations: CatalogRelation[] = res.rows.map((r) => ({
    table: {
      engine: 'postgres',
      schema: r.schema,
      name: r.name,
      columns: (r.columns ?? []).map(mapPgColumn),
      primaryKey: r.pk,
      estimatedRows: Math.round(r.estimate),
    },
    kind: KINDS[r.kind]!,
    ...(r.parent_name ? { partitionOf: { schema: r.parent_schema!, name: r.parent_name } } : {}),
  }));
  return { defaultSchema: def.rows[0]?.schema ?? 'public', wholeDatabase: '*.*', relations };
}
