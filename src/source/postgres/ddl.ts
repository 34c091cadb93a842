import { quotePgIdent } from './quote.js';
import type { ColumnSpec } from '../columns.js';

/**
 * The type a restore creates for a column backed up from another engine: the nearest PostgreSQL
 * type that holds every value the column's Arrow kind can carry (64-bit unsigned as numeric(20,0)).
 */
export function columnType(c: ColumnSpec, _inKey: boolean): string {
  const unboundedNumeric = c.kind === 'string' && /^(numeric|decimal)\b/i.test(c.dbType);
  if (unboundedNumeric) return 'numeric';
  switch (c.kind) {
    case 'bool':
      return 'boolean';
    case 'int8':
    case 'int16':
    case 'uint8':
      return 'smallint';
    case 'int32':
    case 'uint16':
      return 'integer';
    case 'int64':
    case 'uint32':
      return 'bigint';
    case 'uint64':
      return 'numeric(20,0)';
    case 'float32':
      return 'real';
    case 'float64':
      return 'double precision';
    case 'decimal':
      return `numeric(${c.precision ?? 38},${c.scale ?? 0})`;
    case 'json':
      return 'jsonb';
    case 'binary':
      return 'bytea';
    case 'date':
      return 'date';
    case 'time':
      return 'time';
    case 'timestamp':
      return 'timestamp';
    case 'timestamptz':
      return 'timestamptz';
    case 'list':
      return `${columnType(c.element!, false)}[]`;
    default:
      return 'text';
  }
}

export const tableOptions = '';

/** A restore with --create into a schema that does not exist yet. */
export function createSchemaSql(schema: string): string {
  return `CREATE SCHEMA IF NOT EXISTS ${quotePgIdent(schema)}`;
}

export function renameTableSql(table: { schema?: string; name: string }, to: string): string {
  const from = table.schema ? `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}` : quotePgIdent(table.name);
  return `ALTER TABLE ${from} RENAME TO ${quotePgIdent(to)}`;
}
