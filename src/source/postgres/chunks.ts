import type pg from 'pg';
import type { SourceTable } from '../columns.js';
import type { Chunk, ChunkRange } from '../source.js';
import { sqlAnd } from '../quote.js';
import { chooseBounds, chunkCount, splitPages, type KeyPoint, type KeyRange } from '../chunk-bounds.js';
import { tupleAfterSql, tupleNotAfterSql } from './conditions.js';
import { quotePgIdent } from './quote.js';

/**
 * The sample of a key: about SAMPLE_ROWS_PER_CHUNK rows per chunk (at least SAMPLE_ROWS_MIN, at
 * most SAMPLE_ROWS_MAX) from pages spread evenly over the table, at least SAMPLE_PAGES_MIN and
 * SAMPLE_PAGES_PER_CHUNK per chunk. Evenly spread, not random (TABLESAMPLE SYSTEM): a key that
 * follows the physical order (a serial id) is sampled a page at a time, so random pages put each
 * bound off by their chance clustering. On the 4M-row bench table, 96 chunks from a random 7% of
 * its pages held 27k-60k rows where 42k were asked; from evenly spread pages, 92 chunks held
 * 99-101% of even (bench/chunk-plan.ts). A key in no physical order is sampled as well either way.
 */
const SAMPLE_ROWS_PER_CHUNK = 1000;
const SAMPLE_ROWS_MIN = 10_000;
const SAMPLE_ROWS_MAX = 200_000;
const SAMPLE_PAGES_MIN = 500;
const SAMPLE_PAGES_PER_CHUNK = 100;
/** A histogram bounds chunks only when each chunk spans this many of its buckets (else its granularity shows). */
const BUCKETS_PER_CHUNK = 10;
/** Statistics with more than this share of the rows changed since ANALYZE are not trusted for bounds. */
const STALE_SHARE = 0.1;

interface Leaf {
  kind: string;
  bytes: number;
  reltuples: number;
  relpages: number;
  mods: number;
}

/** The heap (or, partitioned, each leaf partition) as it is now, with what ANALYZE last saw. */
async function leaves(
  client: pg.PoolClient,
  rel: string,
): Promise<{ kind: string; blockSize: number; leaves: Leaf[] }> {
  const res = await client.query<Leaf & { parent: string; block: number }>(
    `WITH rel AS (SELECT c.oid, c.relkind FROM pg_class c WHERE c.oid = $1::regclass),
     leaf AS (SELECT t.relid AS oid FROM rel, pg_partition_tree(rel.oid) t WHERE rel.relkind = 'p' AND t.isleaf
              UNION ALL SELECT oid FROM rel WHERE relkind <> 'p')
     SELECT (SELECT relkind::text FROM rel) AS parent, current_setting('block_size')::int AS block,
            c.relkind::text AS kind, pg_relation_size(c.oid)::float8 AS bytes, c.reltuples::float8 AS reltuples,
            c.relpages::float8 AS relpages, COALESCE(s.n_mod_since_analyze, 0)::float8 AS mods
     FROM leaf JOIN pg_class c ON c.oid = leaf.oid LEFT JOIN pg_stat_all_tables s ON s.relid = c.oid`,
    [rel],
  );
  const first = res.rows[0];
  return { kind: first?.parent ?? '', blockSize: first?.block ?? 8192, leaves: res.rows };
}

/** The planner's own estimate (rows per page at the last VACUUM/ANALYZE × pages now); undefined when never measured. */
function plannerRows(ls: Leaf[], blockSize: number): number | undefined {
  let rows = 0;
  for (const l of ls) {
    const pages = l.bytes / blockSize;
    if (pages === 0) continue;
    if (l.reltuples < 0 || l.relpages <= 0) return undefined;
    rows += (l.reltuples / l.relpages) * pages;
  }
  return Math.round(rows);
}

/** The sample's percentage for reading about `pages` of `total` pages. */
const percentFor = (pages: number, total: number): number => Math.min(100, (100 * pages) / Math.max(1, total));
/** Pages a count of a table ANALYZE has never seen reads. */
const COUNT_PAGES = 500;

/**
 * The histogram and most common values of the key's column as weighted points in key order;
 * undefined without them, or when the histogram has too few buckets for `chunks`.
 */
async function histogramPoints(
  client: pg.PoolClient,
  table: SourceTable,
  column: string,
  inherited: boolean,
  chunks: number,
): Promise<KeyPoint[] | undefined> {
  const res = await client.query<{ h: string[] | null; m: string[] | null; f: number[] | null; nulls: number }>(
    `SELECT histogram_bounds::text::text[] AS h, most_common_vals::text::text[] AS m,
            most_common_freqs::float8[] AS f, null_frac::float8 AS nulls
     FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = $3 AND inherited = $4`,
    [table.schema, table.name, column, inherited],
  );
  const s = res.rows[0];
  if (!s || (s.h?.length ?? 0) - 1 < BUCKETS_PER_CHUNK * chunks) return undefined;
  const h = s.h ?? [];
  const m = s.m ?? [];
  const f = s.f ?? [];
  const bucket = h.length > 1 ? (1 - s.nulls - f.reduce((a, b) => a + b, 0)) / (h.length - 1) : 0;
  const points = [
    ...h.map((value, i) => ({ value, weight: i === 0 ? 0 : bucket })),
    ...m.map((value, i) => ({ value, weight: f[i] ?? 0 })),
  ];
  if (m.length === 0) return points; // ANALYZE sorted the histogram in the column's own order
  // the most common values are in frequency order: the server sorts them in among the bounds, by the column's collation
  const col = table.columns.find((c) => c.name === column)!;
  const collate = await collationOf(client, `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`, column);
  const sorted = await client.query<{ v: string; w: number }>(
    `SELECT v, w::float8 AS w FROM unnest($1::text[], $2::float8[]) AS p(v, w) ORDER BY (v::${col.dbType})${collate}, w`,
    [points.map((p) => p.value), points.map((p) => p.weight)],
  );
  return sorted.rows.map((r) => ({ value: r.v, weight: r.w }));
}

/**
 * Key values of a sample of rows on pages spread evenly over the table, in key order, each row
 * one point; with `where`, only the sampled rows meeting it are points, and `sampled` counts all.
 */
async function samplePoints(
  client: pg.PoolClient,
  from: string,
  column: string,
  pages: number,
  chunks: number,
  where?: string,
): Promise<{ points: KeyPoint[]; sampled: number }> {
  const rows = Math.min(SAMPLE_ROWS_MAX, Math.max(SAMPLE_ROWS_MIN, SAMPLE_ROWS_PER_CHUNK * chunks));
  const sampled = Math.min(pages, Math.max(SAMPLE_PAGES_MIN, SAMPLE_PAGES_PER_CHUNK * chunks));
  const perPage = Math.min(20, Math.max(1, Math.ceil(rows / sampled)));
  const k = `t.${quotePgIdent(column)}`; // ORDER BY a bare name would sort by the output column, the text
  const res = await client.query<[string, boolean]>({
    text: `SELECT ${k}::text AS v, ${where ? `COALESCE((${where}), false)` : 'true'} AS m FROM ${from} AS t
           WHERE t.ctid = ANY (ARRAY(SELECT format('(%s,%s)', floor(i * $1::float8), o)::tid
                                     FROM generate_series(0, $2::int - 1) i, generate_series(1, $3::int) o))
           ORDER BY ${k}`,
    values: [pages / sampled, sampled, perPage],
    rowMode: 'array',
  });
  return { points: res.rows.filter((r) => r[1]).map((r) => ({ value: r[0], weight: 1 })), sampled: res.rows.length };
}

/** ` COLLATE …` of the column's collation, or '' for a type without one. */
async function collationOf(client: pg.PoolClient, from: string, column: string): Promise<string> {
  const res = await client.query<{ coll: string | null }>(
    `SELECT CASE WHEN attcollation = 0 THEN NULL ELSE attcollation::regcollation::text END AS coll
     FROM pg_attribute WHERE attrelid = $1::regclass AND attname = $2`,
    [from, column],
  );
  return res.rows[0]?.coll ? ` COLLATE ${res.rows[0].coll}` : '';
}

/**
 * Whether `bounds` rise strictly as the server compares the column (its type and collation):
 * ranges between bounds out of order would overlap, and rows be read twice.
 */
async function rising(client: pg.PoolClient, dbType: string, collate: string, bounds: string[]): Promise<boolean> {
  if (bounds.length < 2) return true;
  const res = await client.query<{ ok: boolean | null }>(
    `SELECT bool_and((x::${dbType})${collate} < (y::${dbType})) AS ok FROM unnest($1::text[], $2::text[]) AS p(x, y)`,
    [bounds.slice(0, -1), bounds.slice(1)],
  );
  return res.rows[0]?.ok === true;
}

/** The rows a page sample implies, for a table ANALYZE has never seen. */
async function sampledRows(client: pg.PoolClient, from: string, pages: number): Promise<number> {
  const percent = percentFor(COUNT_PAGES, pages);
  const res = await client.query<{ n: number }>(
    `SELECT count(*)::float8 AS n FROM ${from} TABLESAMPLE SYSTEM (${percent}) REPEATABLE (0)`,
  );
  return Math.round((res.rows[0]!.n * 100) / percent);
}

/**
 * PostgreSQL's side of `Source.planChunks`: bounds on the first primary-key column from
 * `pg_stats` when ANALYZE is recent (under 10% of rows changed since) and its histogram fine
 * enough, else from a sample of evenly spread pages; tables without a key by `ctid` page ranges.
 * A partitioned table's partitions are all cut at the same pages (the largest's), or sampled so.
 */
export async function planPgChunks(
  client: pg.PoolClient,
  table: SourceTable,
  chunkRows: number,
  range?: ChunkRange,
): Promise<Chunk[]> {
  const from = `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`;
  const rel = await leaves(client, from);
  const whole = (estimatedRows: number): Chunk[] => [{ index: 0, estimatedRows }];
  if (!['r', 'm', 'p'].includes(rel.kind)) return whole(table.estimatedRows); // a view or a foreign table: one read
  const pages = rel.leaves.reduce((n, l) => n + l.bytes / rel.blockSize, 0);
  if (pages === 0) return whole(0);
  const tableRows = plannerRows(rel.leaves, rel.blockSize) ?? (await sampledRows(client, from, pages)); // never analyzed
  const splitAt = Math.max(...rel.leaves.map((l) => l.bytes / rel.blockSize));
  if (range?.where)
    return someRowsChunks(
      client,
      table,
      from,
      { tableRows, pages: splitAt, chunkRows },
      { column: range.column, where: range.where },
    );
  const rows = tableRows;
  const chunks = chunkCount(rows, chunkRows);
  if (chunks === 1) return whole(rows);
  const column = range ? range.column : table.primaryKey[0];
  if (column === undefined) {
    return splitPages(splitAt, chunks).map((r, index) => ({
      index,
      where: sqlAnd(
        r.from !== undefined && `ctid >= '(${r.from},0)'::tid`,
        r.to !== undefined && `ctid < '(${r.to},0)'::tid`,
      ),
      estimatedRows: Math.round(r.share * rows),
    }));
  }
  const reltuples = rel.leaves.reduce((n, l) => n + Math.max(0, l.reltuples), 0);
  const mods = rel.leaves.reduce((n, l) => n + l.mods, 0);
  const histogram =
    mods <= STALE_SHARE * reltuples
      ? await histogramPoints(client, table, column, rel.kind === 'p', chunks)
      : undefined;
  const points = histogram ?? (await samplePoints(client, from, column, splitAt, chunks)).points;
  return rangeChunks(client, table, from, column, chooseBounds(points, chunks), rows);
}

/**
 * The rows meeting `range.where` (an incremental run's new rows), in chunks on `range.column`:
 * counted and bounded from one page sample, whose share of rows meeting `where` scales the
 * table's rows. Not from statistics: new rows are past what the last ANALYZE saw, where the
 * planner's estimate of them (EXPLAIN) is near zero.
 */
async function someRowsChunks(
  client: pg.PoolClient,
  table: SourceTable,
  from: string,
  size: { tableRows: number; pages: number; chunkRows: number },
  range: ChunkRange & { where: string },
): Promise<Chunk[]> {
  const most = chunkCount(size.tableRows, size.chunkRows);
  if (most === 1) return [{ index: 0, estimatedRows: size.tableRows }];
  const { points, sampled } = await samplePoints(client, from, range.column, size.pages, most, range.where);
  const rows = Math.round((size.tableRows * points.length) / Math.max(1, sampled));
  const chunks = chunkCount(rows, size.chunkRows);
  if (chunks === 1) return [{ index: 0, estimatedRows: rows }];
  return rangeChunks(client, table, from, range.column, chooseBounds(points, chunks), rows);
}

/** Chunks at the ranges' bounds, or one chunk when the bounds do not rise as the server orders the column. */
async function rangeChunks(
  client: pg.PoolClient,
  table: SourceTable,
  from: string,
  column: string,
  ranges: Array<KeyRange<string>>,
  rows: number,
): Promise<Chunk[]> {
  const col = table.columns.find((c) => c.name === column)!;
  const bounds = ranges.flatMap((r) => (r.upTo === undefined ? [] : [r.upTo]));
  if (!(await rising(client, col.dbType, await collationOf(client, from, column), bounds)))
    return [{ index: 0, estimatedRows: rows }];
  return keyChunks(table, column, ranges, rows);
}

function keyChunks(table: SourceTable, column: string, ranges: Array<KeyRange<string>>, rows: number): Chunk[] {
  return ranges.map((r, index) => ({
    index,
    where: sqlAnd(
      r.above !== undefined && tupleAfterSql(table, [column], [r.above]),
      r.upTo !== undefined && tupleNotAfterSql(table, [column], [r.upTo]),
    ),
    estimatedRows: Math.round(r.share * rows),
  }));
}
