import pg from 'pg';
import type { ColumnSpec, SourceTable } from '../columns.js';
import type { Lag } from '../source.js';
import { quotePgIdent } from './quote.js';

/** The key, lag, NULL and day conditions of `Source`, as PostgreSQL SQL with literals inlined. */

function literal(table: SourceTable, column: string, value: string): string {
  const col = table.columns.find((c) => c.name === column);
  if (!col) throw new Error(`internal: no column ${column}`);
  return `${pg.Client.prototype.escapeLiteral(value)}::${col.dbType}`;
}

export function tupleAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
  return `(${keyColumns.map(quotePgIdent).join(', ')}) > (${values.map((v, i) => literal(table, keyColumns[i]!, v)).join(', ')})`;
}

export function tupleNotAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
  return `NOT ${tupleAfterSql(table, keyColumns, values)}`;
}

export function tupleInSql(table: SourceTable, keyColumns: string[], tuples: string[][]): string {
  if (tuples.length === 0) return 'false';
  return `(${keyColumns.map(quotePgIdent).join(', ')}) IN (${tuples.map((t) => `(${t.map((v, i) => literal(table, keyColumns[i]!, v)).join(', ')})`).join(', ')})`;
}

export function withinLagSql(table: SourceTable, column: string, value: string, lag: Lag): string {
  const bound =
    'seconds' in lag
      ? `${literal(table, column, value)} - interval '${lag.seconds} seconds'`
      : `${literal(table, column, value)} - ${lag.amount}`;
  return `${quotePgIdent(column)} > ${bound}`;
}

export function isNullSql(column: string): string {
  return `${quotePgIdent(column)} IS NULL`;
}

export function isNotNullSql(column: string): string {
  return `${quotePgIdent(column)} IS NOT NULL`;
}

export function beforeDaySql(cursor: ColumnSpec, day: string): string {
  const literal =
    cursor.kind === 'date' ? `'${day}'` : cursor.kind === 'timestamptz' ? `'${day} 00:00:00+00'` : `'${day} 00:00:00'`;
  return `${quotePgIdent(cursor.name)} < ${literal}`;
}
