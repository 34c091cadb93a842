import type { Strategy, StrategyEntry } from '../config/strategy.js';
import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { ORDERABLE, planIncremental, type TablePlan } from '../backup/incremental-plan.js';
import { parseTableRef, type SourceTable } from '../source/columns.js';
import type { Source } from '../source/source.js';
import { resolveTables, type CatalogRelation } from './tables.js';

/** One table of a run: which entry it got, with its settings, described, and planned. */
export interface RunTable {
  /** What results, locks, `--only` and `--reset-table` call it (see ResolvedTable.name). */
  name: string;
  /** The entry's settings for this table: `table` is `name`, `strategy` and `cursor` resolved. */
  settings: Omit<StrategyEntry, 'cursor'> & { cursor?: string };
  table: SourceTable;
  /** Incremental tables: what is read and where it goes. */
  plan?: TablePlan;
  /** Which entry it got, and why (`--dry-run`). */
  why: string;
  /** `when_no_cursor: skip`: why it is not backed up. */
  skipped?: string;
}

export interface RunTables {
  tables: RunTable[];
}

/**
 * The cursor a table gets: the first candidate that exists, can order rows and is not nullable
 * (or is, with `null_cursor` set). Undefined when none qualifies.
 */
export function pickCursor(entry: StrategyEntry, table: SourceTable): string | undefined {
  const candidates = entry.cursor === undefined ? [] : Array.isArray(entry.cursor) ? entry.cursor : [entry.cursor];
  return candidates.find((name) => {
    const c = table.columns.find((col) => col.name === name);
    return c && ORDERABLE.has(c.kind) && (!c.nullable || entry.null_cursor !== undefined);
  });
}

/**
 * The strategy's tables, worked out against the catalog (one query): patterns matched, each table
 * given its most specific entry, cursors picked, incremental tables planned. Exact names not
 * in the catalog (a table on PostgreSQL's search_path outside the current schema) are described
 * one by one. Every problem is bad input, found before anything is read.
 */
export async function planRunTables(
  strategy: Strategy,
  source: Source,
  dest: { prefix: string; destination: string },
): Promise<RunTables> {
  const catalog = await source.catalog();
  let resolution;
  try {
    resolution = resolveTables(strategy.tables, strategy.exclude, catalog);
  } catch (e) {
    throw inputError('STRATEGY', `${strategy.file}: ${errorMessage(e)}`);
  }
  const found: Array<{ entry: StrategyEntry; relation: CatalogRelation; name: string; why: string }> = [
    ...resolution.tables,
  ];
  for (const entry of resolution.unmatched) {
    let table;
    try {
      table = await source.describe(parseTableRef(entry.table));
    } catch (e) {
      if (isTablevaultError(e) && e.code === 'TABLE_NOT_FOUND')
        throw inputError('STRATEGY', `${strategy.file}: table ${entry.table}: ${e.message}`);
      throw e;
    }
    found.push({ entry, relation: { table, kind: 'table' }, name: entry.table, why: 'named exactly' });
  }
  // file order, then catalog order within an entry
  const order = new Map(strategy.tables.map((e, i) => [e, i]));
  found.sort((a, b) => order.get(a.entry)! - order.get(b.entry)!);
  const tables = found.map(({ entry, relation, name, why }): RunTable => {
    const table = relation.table;
    const base = { ...entry, table: name, cursor: undefined };
    if (entry.strategy === 'full') return { name, settings: base, table, why };
    // a pattern cannot give each table its own primary_key: a matched table without one has no keyset to read by
    const keyless = !entry.pattern.exact && !entry.primary_key && !table.primaryKey.length;
    let cursor = keyless ? undefined : pickCursor(entry, table);
    if (!cursor) {
      const candidates = [entry.cursor ?? []].flat();
      const noCursor = keyless
        ? `no primary key: ${table.schema}.${table.name} has none to read it incrementally by`
        : `no cursor: none of ${candidates.join(', ')} is a non-null orderable column of ${table.schema}.${table.name}`;
      if (entry.when_no_cursor === 'full')
        return { name, settings: { ...base, strategy: 'full' }, table, why: `${why}; ${noCursor}, so full` };
      if (entry.when_no_cursor === 'skip') return { name, settings: base, table, why, skipped: noCursor };
      // one candidate named: planIncremental says exactly what is wrong with it
      if (keyless || candidates.length !== 1)
        throw inputError(
          'STRATEGY',
          `${strategy.file}: table ${name}: ${noCursor}; ${keyless ? 'name it in an entry of its own with primary_key: [columns]' : 'add one'}, set when_no_cursor: full or skip, or exclude the table`,
        );
      cursor = candidates[0]!;
    }
    const settings = { ...base, cursor };
    const plan = planIncremental(strategy.file, settings, table, dest.prefix, dest.destination, source);
    return { name, settings, table, plan, why };
  });
  return { tables };
}

/** Where a table's state is (its lock, runs and, incremental, its watermark): the plan's key, or a full table's own. */
export function stateKey(t: Pick<RunTable, 'name' | 'plan'>, destination: string): string {
  return t.plan?.tableKey ?? `full:${t.name}@${destination}`;
}

/** The run's tables, or only those `--only` names (each must be one of them). */
export function onlyTables(all: RunTable[], only: string[] | undefined, file: string): RunTable[] {
  if (!only?.length) return all;
  const unknown = only.filter((o) => !all.some((t) => t.name === o));
  if (unknown.length) {
    const names = all.map((t) => t.name);
    throw inputError(
      'ONLY',
      `--only ${unknown.join(', ')}: not a table of ${file}; it has ${names.slice(0, 20).join(', ')}${names.length > 20 ? `, … (${names.length} in all; --dry-run lists them)` : ''}`,
    );
  }
  return all.filter((t) => only.includes(t.name));
}
