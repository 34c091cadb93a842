import { type Kysely, sql } from 'kysely';
import { inputError } from '../../errors.js';
import type { SourceTable, TableRef } from '../columns.js';
import { mapMysqlColumn, type MysqlColumnRow } from './types.js';

/** A table's columns, primary key and row estimate, from information_schema; `database` is the URL's, for a table named without one. */
export async function describeTable(
  db: Kysely<unknown>,
  label: string,
  database: string,
  ref: TableRef,
): Promise<SourceTable> {
  const schema = ref.schema ?? database;
  if (!schema)
    throw inputError(
      'TABLE_NOT_FOUND',
      `no database given: put it in the --source URL (mysql://…/db) or use --table db.table`,
    );
  const cols = await sql<MysqlColumnRow>`
      SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable,
             NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${ref.name}
      ORDER BY ORDINAL_POSITION`.execute(db);
  if (cols.rows.length === 0) {
    throw inputError('TABLE_NOT_FOUND', `table ${schema}.${ref.name} does not exist in ${label}; check --table`);
  }
  const pk = await sql<{ name: string }>`
      SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${ref.name} AND INDEX_NAME = 'PRIMARY'
      ORDER BY SEQ_IN_INDEX`.execute(db);
  const est = await sql<{ rows: number | string | null }>`
      SELECT TABLE_ROWS AS \`rows\` FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${ref.name}`.execute(
    db,
  );
  return {
    engine: 'mysql',
    schema,
    name: ref.name,
    columns: cols.rows.map((r) =>
      mapMysqlColumn({
        ...r,
        precision: r.precision === null ? null : Number(r.precision),
        scale: r.scale === null ? null : Number(r.scale),
      }),
    ),
    primaryKey: pk.rows.map((r) => r.name),
    estimatedRows: Number(est.rows[0]?.rows ?? 0),
  };
}
