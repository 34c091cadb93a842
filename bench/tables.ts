import pg from 'pg';
import mysql from 'mysql2/promise';

/**
 * The `orders`-like benchmark table: bigint key, int, numeric(12,2), a short enum-like text, a
 * JSON payload, two timestamps and a nullable text with a third NULLs. Named by row count and
 * reused when it already holds that many rows.
 */
export function benchTableName(rows: number): string {
  return `bench_orders_${rows}`;
}

/** The bench table's columns in PostgreSQL, for `CREATE TABLE name …` (the database bench's tables share them). */
export const PG_COLUMNS = `(
  id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL,
  payload jsonb, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, note text)`;

/** Fills a PostgreSQL bench-shaped table with rows `from`…`to`, each a function of its id alone. */
export function pgInsertSql(table: string, from: number, to: number): string {
  return `INSERT INTO ${table}
    SELECT g, (g * 7919) % 100000, ((g * 37) % 1000000) / 100.0,
           (ARRAY['new','paid','shipped','returned','cancelled'])[1 + g % 5],
           jsonb_build_object('sku', 'SKU-' || (g % 997), 'qty', 1 + g % 5, 'price', ((g * 13) % 10000) / 100.0),
           timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second',
           timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second' + (g % 100000) * interval '1.000123 second',
           CASE WHEN g % 3 = 0 THEN NULL ELSE 'note ' || left(md5(g::text), 12) END
    FROM generate_series(${from}::bigint, ${to}) g`;
}

/** The bench table's columns in MariaDB/MySQL. */
export const MYSQL_COLUMNS = `(
  id BIGINT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(12,2) NOT NULL, status VARCHAR(16) NOT NULL,
  payload JSON, created_at TIMESTAMP(6) NOT NULL, updated_at DATETIME(6) NOT NULL, note TEXT) CHARACTER SET utf8mb4`;

/**
 * The INSERTs that fill a MariaDB bench-shaped table with `rows` rows, 500k a statement, from the
 * Sequence engine's seq_M_to_N tables (so the session needs a current database); run them with
 * the session's time_zone at '+00:00'.
 */
export function mysqlInsertSql(table: string, rows: number): string[] {
  const out: string[] = [];
  for (let from = 1; from <= rows; from += 500_000) {
    const to = Math.min(rows, from + 499_999);
    out.push(`INSERT INTO ${table}
      SELECT seq, (seq * 7919) % 100000, ((seq * 37) % 1000000) / 100,
             ELT(1 + seq % 5, 'new', 'paid', 'shipped', 'returned', 'cancelled'),
             JSON_OBJECT('sku', CONCAT('SKU-', seq % 997), 'qty', 1 + seq % 5, 'price', ((seq * 13) % 10000) / 100),
             TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND,
             TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL ((seq % 100000) * 1000123) MICROSECOND,
             IF(seq % 3 = 0, NULL, CONCAT('note ', LEFT(MD5(seq), 12)))
      FROM seq_${from}_to_${to}`);
  }
  return out;
}

export async function ensurePgTable(url: string, rows: number, log: (s: string) => void): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const name = benchTableName(rows);
    const have = await c.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [name]);
    if (have.rows[0].ok && Number((await c.query(`SELECT count(*) AS n FROM ${name}`)).rows[0].n) === rows) return;
    log(`creating PostgreSQL table ${name} (${rows} rows)…`);
    await c.query(`DROP TABLE IF EXISTS ${name}`);
    await c.query(`CREATE TABLE ${name} ${PG_COLUMNS}`);
    await c.query(pgInsertSql(name, 1, rows));
    await c.query(`VACUUM ANALYZE ${name}`);
  } finally {
    await c.end();
  }
}

/** A mysql2 connection to the URL's server and database. */
export function mysqlConnect(url: string): Promise<mysql.Connection> {
  const u = new URL(url);
  return mysql.createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
  });
}

export async function ensureMysqlTable(url: string, rows: number, log: (s: string) => void): Promise<void> {
  const c = await mysqlConnect(url);
  try {
    const name = benchTableName(rows);
    const [exists] = await c.query(
      `SELECT COUNT(*) AS n FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?`,
      [name],
    );
    if (Number((exists as Array<{ n: number }>)[0]!.n) === 1) {
      const [cnt] = await c.query(`SELECT COUNT(*) AS n FROM ${name}`);
      if (Number((cnt as Array<{ n: number }>)[0]!.n) === rows) return;
    }
    log(`creating MariaDB table ${name} (${rows} rows)…`);
    await c.query(`DROP TABLE IF EXISTS ${name}`);
    await c.query(`CREATE TABLE ${name} ${MYSQL_COLUMNS}`);
    await c.query("SET SESSION time_zone = '+00:00'");
    for (const sql of mysqlInsertSql(name, rows)) await c.query(sql);
    await c.query(`ANALYZE TABLE ${name}`);
  } finally {
    await c.end();
  }
}
