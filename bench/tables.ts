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

export async function ensurePgTable(url: string, rows: number, log: (s: string) => void): Promise<void> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const name = benchTableName(rows);
    const have = await c.query(`SELECT to_regclass($1) IS NOT NULL AS ok`, [name]);
    if (have.rows[0].ok && Number((await c.query(`SELECT count(*) AS n FROM ${name}`)).rows[0].n) === rows) return;
    log(`creating PostgreSQL table ${name} (${rows} rows)…`);
    await c.query(`DROP TABLE IF EXISTS ${name}`);
    await c.query(`CREATE TABLE ${name} (
      id bigint PRIMARY KEY, customer_id int NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL,
      payload jsonb, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL, note text)`);
    await c.query(`INSERT INTO ${name}
      SELECT g, (g * 7919) % 100000, ((g * 37) % 1000000) / 100.0,
             (ARRAY['new','paid','shipped','returned','cancelled'])[1 + g % 5],
             jsonb_build_object('sku', 'SKU-' || (g % 997), 'qty', 1 + g % 5, 'price', ((g * 13) % 10000) / 100.0),
             timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second',
             timestamptz '2020-01-01 00:00:00+00' + g * interval '1 second' + (g % 100000) * interval '1.000123 second',
             CASE WHEN g % 3 = 0 THEN NULL ELSE 'note ' || left(md5(g::text), 12) END
      FROM generate_series(1::bigint, ${rows}) g`);
    await c.query(`VACUUM ANALYZE ${name}`);
  } finally {
    await c.end();
  }
}

export async function ensureMysqlTable(url: string, rows: number, log: (s: string) => void): Promise<void> {
  const u = new URL(url);
  const c = await mysql.createConnection({
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: u.pathname.slice(1),
  });
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
    await c.query(`CREATE TABLE ${name} (
      id BIGINT PRIMARY KEY, customer_id INT NOT NULL, amount DECIMAL(12,2) NOT NULL, status VARCHAR(16) NOT NULL,
      payload JSON, created_at TIMESTAMP(6) NOT NULL, updated_at DATETIME(6) NOT NULL, note TEXT) CHARACTER SET utf8mb4`);
    await c.query("SET SESSION time_zone = '+00:00'");
    for (let from = 1; from <= rows; from += 500_000) {
      const to = Math.min(rows, from + 499_999);
      await c.query(`INSERT INTO ${name}
        SELECT seq, (seq * 7919) % 100000, ((seq * 37) % 1000000) / 100,
               ELT(1 + seq % 5, 'new', 'paid', 'shipped', 'returned', 'cancelled'),
               JSON_OBJECT('sku', CONCAT('SKU-', seq % 997), 'qty', 1 + seq % 5, 'price', ((seq * 13) % 10000) / 100),
               TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND,
               TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND + INTERVAL ((seq % 100000) * 1000123) MICROSECOND,
               IF(seq % 3 = 0, NULL, CONCAT('note ', LEFT(MD5(seq), 12)))
        FROM seq_${from}_to_${to}`);
    }
    await c.query(`ANALYZE TABLE ${name}`);
  } finally {
    await c.end();
  }
}
