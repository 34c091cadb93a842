import { createHash } from 'node:crypto';
import { inputError } from '../errors.js';
import { durationSeconds } from '../config/validate.js';
import { encodeTableSegment, tablePrefix } from '../manifest/layout.js';
import { NUMBER_KINDS, type ColumnKind, type ColumnSpec, type SourceTable } from '../source/columns.js';
import { sqlAnd } from '../source/quote.js';
import type { Lag, Source } from '../source/source.js';
import type { StrategyTable } from '../config/strategy.js';

export interface TablePlan {
  table: SourceTable;
  /** The columns written (all, or the strategy's list plus the key columns). */
  columns: ColumnSpec[];
  /** (cursor, primary key…): the keyset and the watermark's shape. */
  keyColumns: string[];
  /** The primary key (which may hold the cursor: `cursor: id`). */
  primaryKey: string[];
  where?: string;
  /** Re-read window for rows committed late (strategy `lag`). */
  lag?: Lag;
  tableKey: string;
  tablePrefix: string;
  /** `day`: objects go under `dt=YYYY-MM-DD/` of their rows' cursor (UTC), one day per object. */
  partition?: 'day';
}

const TEMPORAL = new Set(['date', 'timestamp', 'timestamptz']);

function parseLag(where: string, lag: string | number | undefined, cursor: ColumnSpec): Lag | undefined {
  if (lag === undefined) return undefined;
  if (TEMPORAL.has(cursor.kind)) {
    const seconds = typeof lag === 'string' ? durationSeconds(lag) : undefined;
    if (seconds === undefined)
      throw inputError(
        'STRATEGY',
        `${where}: lag: cursor "${cursor.name}" is a ${cursor.dbType}; give lag as a duration such as 15m or 2h`,
      );
    return { seconds };
  }
  if (typeof lag !== 'number')
    throw inputError(
      'STRATEGY',
      `${where}: lag: cursor "${cursor.name}" is a ${cursor.dbType}; give lag as a number of cursor units`,
    );
  return { amount: lag };
}

/** Column kinds a cursor may have: they order rows. */
export const ORDERABLE: ReadonlySet<ColumnKind> = new Set<ColumnKind>([
  ...NUMBER_KINDS,
  'string',
  'date',
  'timestamp',
  'timestamptz',
  'time',
]);

/**
 * Checks a strategy table against the live schema, before anything is read, and works out what
 * will be read: the columns, the keyset (cursor, primary key…) and the filter.
 */
export function planIncremental(
  file: string,
  t: Omit<StrategyTable, 'cursor'> & { cursor: string },
  table: SourceTable,
  destPrefix: string,
  destination: string,
  source: Source,
): TablePlan {
  const where = `${file}: table ${t.table}`;
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const cursor = byName.get(t.cursor!);
  if (!cursor)
    throw inputError(
      'STRATEGY',
      `${where}: cursor: column "${t.cursor}" does not exist in ${table.schema}.${table.name}`,
    );
  if (!ORDERABLE.has(cursor.kind))
    throw inputError(
      'STRATEGY',
      `${where}: cursor: column "${t.cursor}" has type ${cursor.dbType}, which cannot order rows; use a timestamp or an ever-growing number`,
    );
  if (cursor.nullable && !t.null_cursor) {
    throw inputError(
      'STRATEGY',
      `${where}: cursor: column "${t.cursor}" is nullable; add null_cursor: skip (rows with a NULL cursor are not backed up) or null_cursor: fail, or make the column NOT NULL`,
    );
  }
  const pk = t.primary_key ?? table.primaryKey;
  if (pk.length === 0)
    throw inputError(
      'STRATEGY',
      `${where}: ${table.schema}.${table.name} has no primary key; set primary_key: [columns that identify a row]`,
    );
  for (const k of pk)
    if (!byName.has(k)) throw inputError('STRATEGY', `${where}: primary_key: column "${k}" does not exist`);
  for (const c of t.columns ?? [])
    if (!byName.has(c))
      throw inputError('STRATEGY', `${where}: columns: column "${c}" does not exist in ${table.schema}.${table.name}`);
  const keyColumns = [t.cursor!, ...pk.filter((k) => k !== t.cursor)];
  const lag = parseLag(where, t.lag, cursor);
  if (t.partition === 'day' && !TEMPORAL.has(cursor.kind)) {
    throw inputError(
      'STRATEGY',
      `${where}: partition: day needs a date or timestamp cursor; "${cursor.name}" is ${cursor.dbType}`,
    );
  }
  const wanted = t.columns ? new Set([...t.columns, ...keyColumns]) : undefined;
  const columns = wanted ? table.columns.filter((c) => wanted.has(c.name)) : table.columns;
  // the state's key is the table's folder name, so tables that share no folder share no watermark;
  // only a long percent-encoded name is cut (a plain one is at most 129 characters) and hashed
  const segment = encodeTableSegment(table);
  const name = segment.length <= 200 ? segment : `${segment.slice(0, 183)}~${sha1(segment).slice(0, 16)}`;
  return {
    table: { ...table, columns },
    columns,
    keyColumns,
    primaryKey: pk,
    lag,
    where: sqlAnd(t.where, cursor.nullable && t.null_cursor === 'skip' && source.isNotNullSql(cursor.name)),
    tableKey: `${name}@${sha1(destination).slice(0, 16)}`,
    tablePrefix: tablePrefix(destPrefix, table),
    ...(t.partition === 'day' ? { partition: 'day' as const } : {}),
  };
}

function sha1(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}
