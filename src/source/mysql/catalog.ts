import { type Kysely, sql } from 'kysely';
import type { Catalog, CatalogRelation } from '../../plan/tables.js';
import type { ColumnSpec } from '../columns.js';
import { mapMysqlColumn, type MysqlColumnRow } from './types.js';

/** Databases that hold the server's own tables, never matched by a pattern. */
const SYSTEM_SCHEMAS = ['mysql', 'information_schema', 'performance_schema', 'sys'];

/**
 * Every base table and view of every database but the system ones (for MySQL a schema is a
 * database), with columns and primary keys: three information_schema queries per run, whatever
 * the number of tables. `database` (the URL's) is where a name without a schema is looked up.
 */
export async function readCatalog(db: Kysely<unknown>, database: string): Promise<Catalog> {
  const tables = await sql<{ schema: string; name: string; type: string; rows: number | string | null }>`
    SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS name, TABLE_TYPE AS type, TABLE_ROWS AS \`rows\`
    FROM information_schema.TABLES
    WHERE TABLE_SCHEMA NOT IN (${sql.join(SYSTEM_SCHEMAS)})
      AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED', 'VIEW')
    ORDER BY TABLE_SCHEMA, TABLE_NAME`.execute(db);
  const cols = await sql<MysqlColumnRow & { schema: string; table: string }>`
    SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS \`table\`, COLUMN_NAME AS name, DATA_TYPE AS dataType,
           COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable, NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA NOT IN (${sql.join(SYSTEM_SCHEMAS)})
    ORDER BY TABLE_SCHEMA, TABLE_NAME, ORDINAL_POSITION`.execute(db);
  const pks = await sql<{ schema: string; table: string; name: string }>`
    SELECT TABLE_SCHEMA AS \`schema\`, TABLE_NAME AS \`table\`, COLUMN_NAME AS name FROM information_schema.STATISTICS
    WHERE TABLE_SCHEMA NOT IN (${sql.join(SYSTEM_SCHEMAS)}) AND INDEX_NAME = 'PRIMARY'
    ORDER BY TABLE_SCHEMA, TABLE_NAME, SEQ_IN_INDEX`.execute(db);
  const key = (s: string, t: string) => `${s}\u0000${t}`;
  const columns = new Map<string, ColumnSpec[]>();
  for (const r of cols.rows) {
    const k = key(r.schema, r.table);
    const list = columns.get(k) ?? [];
    list.push(
      mapMysqlColumn({
        ...r,
        precision: r.precision === null ? null : Number(r.precision),
        scale: r.scale === null ? null : Number(r.scale),
      }),
    );
    columns.set(k, list);
  }
  const primary = new Map<string, string[]>();
  for (const r of pks.rows) {
    const k = key(r.schema, r.table);
    primary.set(k, [...(primary.get(k) ?? []), r.name]);
  }
  const relations: CatalogRelation[] = tables.rows.map((t) => ({
    table: {
      engine: 'mysql',
      schema: t.schema,
      name: t.name,
      columns: columns.get(key(t.schema, t.name)) ?? [],
      primaryKey: primary.get(key(t.schema, t.name)) ?? [],
      estimatedRows: Number(t.rows ?? 0),
    },
    kind: t.type === 'VIEW' ? 'view' : 'table',
  }));
  // a database is MySQL's schema: the URL's database is "the database"; without one, every database
  const wholeDatabase = database ? `\`${database.replaceAll('`', '``')}\`.*` : '*.*';
  return { defaultSchema: database, wholeDatabase, relations };
}
