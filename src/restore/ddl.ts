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

export function createTableSql(
  table: { schema?: string; name: string },
  columns: ColumnSpec[],
  primaryKey: string[],
  from: Engine,
  to: Engine,
): string {
  const q = (s: string) => to.quoteIdent(s);
  const name = table.schema ? `${q(table.schema)}.${q(table.name)}` : q(table.name);
  // zero dates in a NOT NULL column reach an engine without them as NULL (reported by the restore)
  const nullable = (c: ColumnSpec) => c.nullable || zeroDatesLost(c, from, to);
  const cols = columns.map(
    (c) =>
      `${q(c.name)} ${targetType(c, from, to, primaryKey.includes(c.name))}${nullable(c) && !primaryKey.includes(c.name) ? '' : ' NOT NULL'}`,
  );
  if (primaryKey.length) cols.push(`PRIMARY KEY (${primaryKey.map(q).join(', ')})`);
  return `CREATE TABLE ${name} (${cols.join(', ')})${to.ddl.tableOptions}`;
}

/** A column kind that holds zero dates in `from` (MySQL's '0000-00-00'), which `to` has none of. */
export function zeroDatesLost(c: ColumnSpec, from: Engine, to: Engine): boolean {
  return from.zeroDateText(c.kind) !== undefined && to.zeroDateText(c.kind) === undefined;
}
