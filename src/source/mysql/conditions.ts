import mysql from 'mysql2';
import type { ColumnSpec, SourceTable } from '../columns.js';
import type { Lag } from '../source.js';
import { quoteMysqlIdent } from './quote.js';

/** The key, lag, NULL and day conditions of `Source`, as MySQL SQL with literals inlined. */

/**
 * A key column's value in text form, as watermarks and chunk bounds store it: the text the
 * server sent, or hex for binary columns, whose bytes need not be UTF-8.
 */
export function keyText(col: ColumnSpec, raw: Buffer): string {
  return col.kind === 'binary' ? raw.toString('hex') : raw.toString('utf8');
}

/**
 * A key value (text form, see keyText) as a literal MySQL compares exactly: integers inline
 * (a string against a BIGINT would compare as DOUBLE), decimals cast to their own type, binary
 * from hex, the rest as strings (temporal columns compare a string as a date).
 */
function literal(table: SourceTable, column: string, value: string): string {
  const col = table.columns.find((c) => c.name === column);
  if (!col) throw new Error(`internal: no column ${column}`);
  if (/^u?int(8|16|32|64)$/.test(col.kind) && /^-?\d+$/.test(value)) return value;
  if (col.kind === 'decimal') return `CAST(${mysql.escape(value)} AS DECIMAL(${col.precision},${col.scale}))`;
  if (col.kind === 'binary') {
    if (!/^(?:[0-9a-f]{2})*$/.test(value)) throw new Error(`internal: binary key value of ${column} is not hex`);
    return `X'${value}'`;
  }
  return mysql.escape(value);
}

/** Expanded form: MariaDB does not use an index for row-constructor comparisons. */
export function tupleAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
  const lits = values.map((v, i) => literal(table, keyColumns[i]!, v));
  const ors = keyColumns.map((_, i) => {
    const ands = keyColumns.slice(0, i).map((c, j) => `${quoteMysqlIdent(c)} = ${lits[j]}`);
    ands.push(`${quoteMysqlIdent(keyColumns[i]!)} > ${lits[i]}`);
    return `(${ands.join(' AND ')})`;
  });
  return `(${ors.join(' OR ')})`;
}

export function tupleNotAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
  return `NOT ${tupleAfterSql(table, keyColumns, values)}`;
}

export function tupleInSql(table: SourceTable, keyColumns: string[], tuples: string[][]): string {
  if (tuples.length === 0) return 'FALSE';
  return `(${keyColumns.map(quoteMysqlIdent).join(', ')}) IN (${tuples.map((t) => `(${t.map((v, i) => literal(table, keyColumns[i]!, v)).join(', ')})`).join(', ')})`;
}

export function withinLagSql(table: SourceTable, column: string, value: string, lag: Lag): string {
  const lit = literal(table, column, value);
  const bound =
    'seconds' in lag ? `${lit} - INTERVAL ${Math.round(lag.seconds * 1e6)} MICROSECOND` : `${lit} - ${lag.amount}`;
  return `${quoteMysqlIdent(column)} > ${bound}`;
}

export function isNullSql(column: string): string {
  return `${quoteMysqlIdent(column)} IS NULL`;
}

export function isNotNullSql(column: string): string {
  return `${quoteMysqlIdent(column)} IS NOT NULL`;
}

/** DATETIME and TIMESTAMP literals are read at the session's +00:00. */
export function beforeDaySql(cursor: ColumnSpec, day: string): string {
  return `${quoteMysqlIdent(cursor.name)} < ${cursor.kind === 'date' ? `'${day}'` : `'${day} 00:00:00'`}`;
}
