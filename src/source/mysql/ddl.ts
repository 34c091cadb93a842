import { quoteMysqlIdent } from './quote.js';
import type { ColumnSpec } from '../columns.js';

/**
 * The type a restore creates for a column backed up from another engine: the nearest MySQL type
 * that holds every value the column's Arrow kind can carry (arrays as JSON, timestamptz as
 * DATETIME(6) in UTC); a key column needs a bounded length.
 */
export function columnType(c: ColumnSpec, inKey: boolean): string {
  const unboundedNumeric = c.kind === 'string' && /^(numeric|decimal)\b/i.test(c.dbType);
  if (unboundedNumeric) return 'decimal(65,30)';
  switch (c.kind) {
    case 'bool':
      return 'boolean';
    case 'int8':
      return 'tinyint';
    case 'int16':
      return 'smallint';
    case 'int32':
      return 'int';
    case 'int64':
      return 'bigint';
    case 'uint8':
      return 'tinyint unsigned';
    case 'uint16':
      return 'smallint unsigned';
    case 'uint32':
      return 'int unsigned';
    case 'uint64':
      return 'bigint unsigned';
    case 'float32':
      return 'float';
    case 'float64':
      return 'double';
    case 'decimal':
      return `decimal(${c.precision ?? 38},${c.scale ?? 0})`;
    case 'json':
    case 'list':
      return 'json';
    case 'binary':
      return inKey ? 'varbinary(255)' : 'longblob';
    case 'date':
      return 'date';
    case 'time':
      return 'time(6)';
    case 'timestamp':
    case 'timestamptz':
      return 'datetime(6)';
    // a key column needs a bounded length in MySQL
    default:
      return inKey ? 'varchar(255)' : 'longtext';
  }
}

export const tableOptions = ' CHARACTER SET utf8mb4';

/** A restore with --create into a database (MySQL's schema) that does not exist yet. */
export function createSchemaSql(schema: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${quoteMysqlIdent(schema)}`;
}

export function renameTableSql(table: { schema?: string; name: string }, to: string): string {
  const q = quoteMysqlIdent;
  return table.schema
    ? `RENAME TABLE ${q(table.schema)}.${q(table.name)} TO ${q(table.schema)}.${q(to)}`
    : `RENAME TABLE ${q(table.name)} TO ${q(to)}`;
}
