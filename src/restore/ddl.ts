import type { ColumnSpec } from '../source/columns.js';
import type { Engine } from '../source/engine.js';

/**
 * The column type a restore creates. Into the engine the backup came from: the source's own type
 * (`numeric(12,2)`, `tinyint(1) unsigned`, an enum). Across engines: the target engine's nearest
 * type for the column's Arrow kind (its folder's ddl.ts).
 */
export function targetType(c: ColumnSpec, from: Engine, to: Engine, inKey: boolean): string {
  return from.name === to.name ? c.dbType : to.ddl.columnType(c, inKey);
}

function tableName(table: { schema?: string; name: string }, to: Engine): string {
  const q = (s: string) => to.quoteIdent(s);
  return table.schema ? `${q(table.schema)}.${q(table.name)}` : q(table.name);
}

/** `keyLater`: without the PRIMARY KEY constraint (addPrimaryKeySql adds it after the data); its columns stay NOT NULL. */
export function createTableSql(
  table: { schema?: string; name: string },
  columns: ColumnSpec[],
  primaryKey: string[],
  from: Engine,
  to: Engine,
  keyLater = false,
): string {
  const q = (s: string) => to.quoteIdent(s);
  const name = tableName(table, to);
  // zero dates in a NOT NULL column reach an engine without them as NULL (reported by the restore)
  const nullable = (c: ColumnSpec) => c.nullable || zeroDatesLost(c, from, to);
  const cols = columns.map(
    (c) =>
      `${q(c.name)} ${targetType(c, from, to, primaryKey.includes(c.name))}${nullable(c) && !primaryKey.includes(c.name) ? '' : ' NOT NULL'}`,
  );
  if (primaryKey.length && !keyLater) cols.push(`PRIMARY KEY (${primaryKey.map(q).join(', ')})`);
  return `CREATE TABLE ${name} (${cols.join(', ')})${to.ddl.tableOptions}`;
}

/** The primary key added to a table loaded without it: one sorted index build instead of an insert per row (as pg_restore does). */
export function addPrimaryKeySql(table: { schema?: string; name: string }, primaryKey: string[], to: Engine): string {
  return `ALTER TABLE ${tableName(table, to)} ADD PRIMARY KEY (${primaryKey.map((c) => to.quoteIdent(c)).join(', ')})`;
}

/** A column kind that holds zero dates in `from` (MySQL's '0000-00-00'), which `to` has none of. */
export function zeroDatesLost(c: ColumnSpec, from: Engine, to: Engine): boolean {
  return from.zeroDateText(c.kind) !== undefined && to.zeroDateText(c.kind) === undefined;
}
