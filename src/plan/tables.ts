import type { SourceTable } from '../source/columns.js';
import { patternMatches, specificity, type TablePattern } from './patterns.js';

/** What a catalog entry is: only base tables (and partitioned parents, or their partitions) match patterns. */
export type RelationKind = 'table' | 'partitioned' | 'view' | 'materialized-view' | 'foreign';

export interface CatalogRelation {
  table: SourceTable;
  kind: RelationKind;
  /** A PostgreSQL partition: its parent. */
  partitionOf?: { schema: string; name: string };
}

/** Every relation of the source a strategy may name, read in one catalog query per run. */
export interface Catalog {
  /** Where a name without a schema is looked up: PostgreSQL's current schema, MySQL's URL database. */
  defaultSchema: string;
  /** The pattern for "every table of the database": `*.*` on PostgreSQL, the URL's database on MySQL. */
  wholeDatabase: string;
  relations: CatalogRelation[];
}

export interface PatternEntry {
  pattern: TablePattern;
  /** Tables this entry leaves out (its own `exclude:`). */
  excludes: TablePattern[];
  /** PostgreSQL partitioned tables: through the parent (default), or each partition as a table. */
  partitions: 'parent' | 'each';
}

export interface ResolvedTable<E extends PatternEntry> {
  relation: CatalogRelation;
  entry: E;
  /** What results, locks and `--only` call it: the entry's text for an exact name, else `schema.table`. */
  name: string;
  /** Which entry it got and why, for `--dry-run`. */
  why: string;
}

export interface Resolution<E extends PatternEntry> {
  tables: Array<ResolvedTable<E>>;
  /** Exact names with no such relation in the catalog (the caller may look them up otherwise). */
  unmatched: E[];
}

/** Whether a pattern (not an exact name) may pick this relation up. */
function patternEligible(r: CatalogRelation, partitions: 'parent' | 'each'): boolean {
  if (r.kind !== 'table' && r.kind !== 'partitioned') return false;
  if (partitions === 'parent') return !r.partitionOf;
  return r.kind === 'table'; // each: the leaf partitions and plain tables, not the parents
}

const label = (p: TablePattern) => `"${p.source}"`;

/**
 * Gives each relation of the catalog the most specific entry that matches it: an exact name beats
 * any pattern, a more specific pattern a less specific one (see `specificity`), and between equals
 * the entry listed first. `exclude` (the entry's, and `topExclude` for every entry) removes
 * tables from what patterns match; it never removes a table named exactly. Tables come out in
 * catalog order (schema, then name).
 */
export function resolveTables<E extends PatternEntry>(
  entries: E[],
  topExclude: TablePattern[],
  catalog: Catalog,
): Resolution<E> {
  const def = catalog.defaultSchema;
  const tables: Array<ResolvedTable<E>> = [];
  const matchedExact = new Set<E>();
  for (const rel of catalog.relations) {
    const t = rel.table;
    const candidates = entries.filter((e) => {
      if (!patternMatches(e.pattern, t, def)) return false;
      if (e.pattern.exact) return true;
      if (!patternEligible(rel, e.partitions)) return false;
      return ![...e.excludes, ...topExclude].some((x) => patternMatches(x, t, def));
    });
    if (!candidates.length) continue;
    const exact = candidates.filter((c) => c.pattern.exact);
    if (exact.length > 1)
      throw new Error(`${exact.map((c) => label(c.pattern)).join(' and ')} name the same table; list it once`);
    for (const c of exact) matchedExact.add(c);
    let best = candidates[0]!;
    for (const c of candidates) if (specificity(c.pattern) > specificity(best.pattern)) best = c;
    const others = candidates.filter((c) => c !== best).map((c) => label(c.pattern));
    const why = best.pattern.exact
      ? `named exactly${others.length ? `; also matched by ${others.join(', ')}` : ''}`
      : `pattern ${label(best.pattern)}${others.length ? `, more specific than ${others.join(', ')}` : ''}`;
    tables.push({
      relation: rel,
      entry: best,
      name: best.pattern.exact ? best.pattern.source.trim() : `${t.schema}.${t.name}`,
      why,
    });
  }
  return { tables, unmatched: entries.filter((e) => e.pattern.exact && !matchedExact.has(e)) };
}
