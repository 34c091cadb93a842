import type { ColumnSpec, TextDialect } from '../source/columns.js';
import { quoteMysqlIdent, quotePgIdent } from '../source/quote.js';

/**
 * The column type a restore creates. Into the engine the backup came from: the source's own type
 * (`numeric(12,2)`, `tinyint(1) unsigned`, an enum). Across engines: the nearest type that holds
 * every value the column's Arrow kind can carry (64-bit unsigned as numeric(20,0) in PostgreSQL,
 * arrays as JSON in MySQL, timestamptz as DATETIME(6) in UTC).
 */
export function targetType(c: ColumnSpec, from: TextDialect, to: TextDialect, inKey: boolean): string {
  if (from === to) return c.dbType;
  const unboundedNumeric = c.kind === 'string' && /^(numeric|decimal)\b/i.test(c.dbType);
  if (to === 'postgres') {
    if (unboundedNumeric) return 'numeric';
    switch (c.kind) {
      case 'bool': return 'boolean';
      case 'int8': case 'int16': case 'uint8': return 'smallint';
      case 'int32': case 'uint16': return 'integer';
      case 'int64': case 'uint32': return 'bigint';
      case 'uint64': return 'numeric(20,0)';
      case 'float32': return 'real';
      case 'float64': return 'double precision';
      case 'decimal': return `numeric(${c.precision ?? 38},${c.scale ?? 0})`;
      case 'json': return 'jsonb';
      case 'binary': return 'bytea';
      case 'date': return 'date';
      case 'time': return 'time';
      case 'timestamp': return 'timestamp';
      case 'timestamptz': return 'timestamptz';
      case 'list': return `${targetType(c.element!, from, to, false)}[]`;
      default: return 'text';
    }
  }
  if (unboundedNumeric) return 'decimal(65,30)';
  switch (c.kind) {
    case 'bool': return 'boolean';
    case 'int8': return 'tinyint';
    case 'int16': return 'smallint';
    case 'int32': return 'int';
    case 'int64': return 'bigint';
    case 'uint8': return 'tinyint unsigned';
    case 'uint16': return 'smallint unsigned';
    case 'uint32': return 'int unsigned';
    case 'uint64': return 'bigint unsigned';
    case 'float32': return 'float';
    case 'float64': return 'double';
    case 'decimal': return `decimal(${c.precision ?? 38},${c.scale ?? 0})`;
    case 'json': case 'list': return 'json';
    case 'binary': return inKey ? 'varbinary(255)' : 'longblob';
    case 'date': return 'date';
    case 'time': return 'time(6)';
    case 'timestamp': case 'timestamptz': return 'datetime(6)';
    // a key column needs a bounded length in MySQL
    default: return inKey ? 'varchar(255)' : 'longtext';
  }
}

export function createTableSql(table: { schema?: string; name: string }, columns: ColumnSpec[], primaryKey: string[], from: TextDialect, to: TextDialect): string {
  const q = to === 'postgres' ? quotePgIdent : quoteMysqlIdent;
  const name = table.schema ? `${q(table.schema)}.${q(table.name)}` : q(table.name);
  // MySQL zero dates in a NOT NULL column reach PostgreSQL as NULL (reported by the restore)
  const nullable = (c: ColumnSpec) => c.nullable || (from === 'mysql' && to === 'postgres' && ['date', 'timestamp', 'timestamptz'].includes(c.kind));
  const cols = columns.map((c) => `${q(c.name)} ${targetType(c, from, to, primaryKey.includes(c.name))}${nullable(c) && !primaryKey.includes(c.name) ? '' : ' NOT NULL'}`);
  if (primaryKey.length) cols.push(`PRIMARY KEY (${primaryKey.map(q).join(', ')})`);
  return `CREATE TABLE ${name} (${cols.join(', ')})${to === 'mysql' ? ' CHARACTER SET utf8mb4' : ''}`;
}
