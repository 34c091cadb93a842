import type mysql from 'mysql2';
import { INTEGER_KINDS, type ColumnSpec, type SourceTable } from '../columns.js';
import type { Chunk, ChunkRange } from '../source.js';
import { sqlAnd } from '../quote.js';
import { chooseBounds, chunkCount, splitIntegerRange, type KeyRange } from '../chunk-bounds.js';
import { keyText, tupleAfterSql, tupleNotAfterSql } from './conditions.js';
import { quoteMysqlIdent } from './quote.js';

type Conn = mysql.PoolConnection;

/** Raw rows (each field the server's text, NULL as null). */
function rawRows(conn: Conn, sqlText: string): Promise<Array<Array<Buffer | null>>> {
  return new Promise((resolve, reject) =>
    conn.query({ sql: sqlText, rowsAsArray: true, typeCast: false }, (err, res) =>
      err ? reject(err) : resolve(res as Array<Array<Buffer | null>>),
    ),
  );
}

/**
 * MySQL's side of `Source.planChunks`, on the first primary-key column. An integer key is split
 * evenly between its MIN and MAX (two index dives, ~1 ms), which is exact for dense keys and
 * uneven for keys with large gaps. Any other key is walked on its index, `WHERE k > point
 * ORDER BY k LIMIT 1 OFFSET n` an eighth of a chunk at a time: near exact, but it reads the
 * whole primary key, ~0.4 s per 1M bench rows (bench/chunk-plan.ts). There is nothing cheaper to
 * go by: MySQL has no TABLESAMPLE, and InnoDB's range estimates (`EXPLAIN`) are capped at half
 * the table and were ~2× off on it. No key, or a view: one chunk. With `range`, on its column and
 * its rows only (their count from EXPLAIN, a walk counting them exactly).
 */
export async function planMysqlChunks(
  conn: Conn,
  table: SourceTable,
  chunkRows: number,
  range?: ChunkRange,
): Promise<Chunk[]> {
  const from = `${quoteMysqlIdent(table.schema)}.${quoteMysqlIdent(table.name)}`;
  const info = await rawRows(
    conn,
    `SELECT TABLE_TYPE, TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${conn.escape(table.schema)} AND TABLE_NAME = ${conn.escape(table.name)}`,
  );
  const where = range?.where;
  const rows = where ? await explainedRows(conn, from, where) : Number(info[0]?.[1]?.toString() ?? 0);
  const whole: Chunk[] = [{ index: 0, estimatedRows: rows }];
  const chunks = chunkCount(rows, chunkRows);
  const column = range ? range.column : table.primaryKey[0];
  const col = table.columns.find((c) => c.name === column);
  if (chunks === 1 || !col || info[0]?.[0]?.toString() !== 'BASE TABLE') return whole;
  const { ranges, total } = INTEGER_KINDS.includes(col.kind)
    ? { ranges: await integerRanges(conn, from, col, chunks, where), total: rows }
    : await walkedRanges(conn, table, from, col, chunkRows, where);
  return ranges.map((r, index) => ({
    index,
    where: sqlAnd(
      r.above !== undefined && tupleAfterSql(table, [col.name], [r.above]),
      r.upTo !== undefined && tupleNotAfterSql(table, [col.name], [r.upTo]),
    ),
    estimatedRows: Math.round(r.share * total),
  }));
}

/** InnoDB's estimate of the rows meeting `where` (EXPLAIN's rows; a range on an index is estimated from it). */
async function explainedRows(conn: Conn, from: string, where: string): Promise<number> {
  const plan = await new Promise<Array<{ rows: number | string | null }>>((resolve, reject) =>
    conn.query(`EXPLAIN SELECT 1 FROM ${from} WHERE ${where}`, (err, res) =>
      err ? reject(err) : resolve(res as Array<{ rows: number | string | null }>),
    ),
  );
  return Number(plan[0]?.rows ?? 0);
}

async function integerRanges(conn: Conn, from: string, col: ColumnSpec, chunks: number, where?: string) {
  const k = quoteMysqlIdent(col.name);
  const [minMax] = await rawRows(conn, `SELECT MIN(${k}), MAX(${k}) FROM ${from}${where ? ` WHERE ${where}` : ''}`);
  if (!minMax?.[0] || !minMax[1]) return [{ share: 1 }];
  return splitIntegerRange(BigInt(minMax[0].toString()), BigInt(minMax[1].toString()), chunks).map(
    (r): KeyRange<string> => ({
      share: r.share,
      ...(r.above !== undefined ? { above: String(r.above) } : {}),
      ...(r.upTo !== undefined ? { upTo: String(r.upTo) } : {}),
    }),
  );
}

/** Steps of a walk per chunk: the bounds are chosen among them, so chunks are within 1/WALK_STEPS of equal. */
const WALK_STEPS = 8;

/**
 * Walks the key to the end of the table, a point every `chunkRows / WALK_STEPS` rows, then
 * chooses the bounds among the points, so the chunks are near equal whatever the estimate of
 * rows was; returns the rows counted too.
 */
async function walkedRanges(
  conn: Conn,
  table: SourceTable,
  from: string,
  col: ColumnSpec,
  chunkRows: number,
  where?: string,
): Promise<{ ranges: Array<KeyRange<string>>; total: number }> {
  const k = quoteMysqlIdent(col.name);
  const step = Math.max(1, Math.ceil(chunkRows / WALK_STEPS));
  const after = (b: string | undefined) => {
    const cond = sqlAnd(where, b !== undefined && tupleAfterSql(table, [col.name], [b]));
    return cond ? ` WHERE ${cond}` : '';
  };
  const points: string[] = [];
  for (;;) {
    const [row] = await rawRows(
      conn,
      `SELECT ${k} FROM ${from}${after(points[points.length - 1])} ORDER BY ${k} LIMIT 1 OFFSET ${step - 1}`,
    );
    if (!row?.[0]) break;
    points.push(keyText(col, row[0]));
  }
  const [count] = await rawRows(conn, `SELECT COUNT(*) FROM ${from}${after(points[points.length - 1])}`);
  const rest = Number(count?.[0]?.toString() ?? 0);
  const total = points.length * step + rest;
  const chunks = chunkCount(total, chunkRows);
  const ranges = chooseBounds(
    points.map((value) => ({ value, weight: step })),
    chunks,
    rest,
  );
  return { ranges, total };
}
