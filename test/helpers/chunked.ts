/**
 * The chunked-read tests' two engines, and a table's fingerprint: its row count, the sum of a
 * column, and an order-independent hash of its rows (the sum of the first 60 bits of each row's
 * MD5, over its columns joined by `|`), computed by the database for a table and by DuckDB for
 * Parquet objects, in the same text, so equal fingerprints mean the same rows, each as often.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from './db.js';
import { sqlString, withDuckDB } from './duckdb.js';

export interface Fingerprint {
  rows: string;
  sum: string;
  hash: string;
}

export interface ChunkDb {
  name: 'PostgreSQL' | 'MySQL';
  url: string;
  /** The schema tables are made in: PostgreSQL's public, MySQL's URL database. */
  schema: string;
  /** A FROM item of the rows i = 1..n. */
  series(n: number): string;
  md5(expr: string): string;
  /** Integer division. */
  div(a: string, b: number): string;
  exec(sql: string): Promise<void>;
  /** The first value of the first row, as text. */
  value(sql: string): Promise<string>;
  /** The rows of a query, on the test database or `database` of the same server (a state database). */
  rows<T = Record<string, unknown>>(sql: string, database?: string): Promise<T[]>;
  /** Drops `database` of the server if it is there, with any connection to it still open. */
  dropDatabase(database: string): Promise<void>;
  /** `n` is the summed column; `columns` are hashed in this order. */
  fingerprint(table: string, columns: string[], n?: string): Promise<Fingerprint>;
  analyze(table: string): string;
}

const first = (row: object | undefined) => String(Object.values(row ?? {})[0]);

export const PG: ChunkDb = {
  name: 'PostgreSQL',
  url: PG_URL,
  schema: 'public',
  series: (n) => `generate_series(1, ${n}) AS g(i)`,
  md5: (e) => `md5((${e})::text)`,
  div: (a, b) => `(${a}) / ${b}`,
  exec: (sql) => withPg((c) => c.query(sql)).then(() => undefined),
  value: (sql) => withPg(async (c) => first((await c.query(sql)).rows[0] as object)),
  rows: <T>(sql: string, database?: string) => withPg(async (c) => (await c.query(sql)).rows as T[], database),
  dropDatabase: (d) => PG.exec(`DROP DATABASE IF EXISTS ${d} WITH (FORCE)`),
  fingerprint: (table, columns, n = 'n') =>
    withPg(async (c) => {
      const h = `('x' || substr(md5(concat_ws('|', ${columns.join(', ')})), 1, 15))::bit(60)::bigint`;
      const r = await c.query<Fingerprint>(
        `SELECT count(*)::text AS rows, COALESCE(sum(${n}), 0)::text AS sum, COALESCE(sum(${h}), 0)::text AS hash FROM ${table}`,
      );
      return { ...r.rows[0]! };
    }),
  analyze: (t) => `ANALYZE ${t}`,
};

export const MYSQL: ChunkDb = {
  name: 'MySQL',
  url: MYSQL_URL,
  schema: MYSQL_DB,
  series: (n) => `(SELECT seq AS i FROM seq_1_to_${n}) AS g`,
  md5: (e) => `MD5(${e})`,
  div: (a, b) => `(${a}) DIV ${b}`,
  exec: (sql) => withMysql((c) => c.query(sql)).then(() => undefined),
  value: (sql) =>
    withMysql(async (c) => {
      const [rows] = await c.query(sql);
      return first((rows as object[])[0]);
    }),
  rows: <T>(sql: string, database?: string) => withMysql(async (c) => (await c.query(sql))[0] as T[], database),
  dropDatabase: (d) => MYSQL.exec(`DROP DATABASE IF EXISTS ${d}`),
  fingerprint: (table, columns, n = 'n') =>
    withMysql(async (c) => {
      const h = `CAST(CONV(SUBSTR(MD5(CONCAT_WS('|', ${columns.join(', ')})), 1, 15), 16, 10) AS UNSIGNED)`;
      const [rows] = await c.query(
        `SELECT CAST(COUNT(*) AS CHAR) AS \`rows\`, CAST(COALESCE(SUM(${n}), 0) AS CHAR) AS sum, CAST(COALESCE(SUM(${h}), 0) AS CHAR) AS hash FROM ${table}`,
      );
      return { ...(rows as Fingerprint[])[0]! };
    }),
  analyze: (t) => `ANALYZE TABLE ${t}`,
};

/** The fingerprint of the rows of Parquet `files`, as DuckDB reads them. */
export function parquetFingerprint(files: string[], columns: string[], n = 'n'): Promise<Fingerprint> {
  return withDuckDB(async (c) => {
    const h = `('0x' || substr(md5(concat_ws('|', ${columns.join(', ')})), 1, 15))::BIGINT`;
    const r = await c.runAndReadAll(
      `SELECT count(*)::VARCHAR AS rows, COALESCE(sum(${n}), 0)::VARCHAR AS sum, COALESCE(sum(${h}), 0)::VARCHAR AS hash
       FROM read_parquet([${files.map(sqlString).join(', ')}])`,
    );
    const row = r.getRowObjects()[0]!;
    return { rows: String(row.rows), sum: String(row.sum), hash: String(row.hash) };
  });
}

/** Each object's lowest and highest value of `key` (a DuckDB expression), by file name. */
export function keySpans(files: string[], key: string): Promise<Map<string, { lo: string; hi: string }>> {
  return withDuckDB(async (c) => {
    const r = await c.runAndReadAll(
      `SELECT parse_filename(filename) AS f, min(${key})::VARCHAR AS lo, max(${key})::VARCHAR AS hi
       FROM read_parquet([${files.map(sqlString).join(', ')}], filename = true) GROUP BY filename`,
    );
    return new Map(r.getRowObjects().map((o) => [String(o.f), { lo: String(o.lo), hi: String(o.hi) }]));
  });
}

/** The object names a table folder's manifest lists, in its order. */
export function manifestNames(folder: string): string[] {
  const m = JSON.parse(readFileSync(join(folder, '_manifest.json'), 'utf8')) as { files: Array<{ name: string }> };
  return m.files.map((f) => f.name);
}

/** Every file in a table folder, sorted. */
export function folderFiles(folder: string): string[] {
  return readdirSync(folder).sort();
}

/** The Parquet objects in a table folder (not its manifest or schema files), sorted. */
export function parquetObjects(folder: string): string[] {
  return folderFiles(folder).filter((f) => f.endsWith('.parquet'));
}

/** `part-CCCCC-NNNNN.parquet` → C, or undefined for any other name. */
export function chunkOf(name: string): number | undefined {
  const m = /^part-(\d{5})-\d{5}\.parquet$/.exec(name);
  return m ? Number(m[1]) : undefined;
}
