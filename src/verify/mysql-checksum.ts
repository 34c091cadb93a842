import type { ColumnSpec, SourceTable } from '../source/columns.js';
import { mysqlConnectionOptions } from '../source/mysql/connection.js';
import { quoteMysqlIdent } from '../source/quote.js';
import type { Source } from '../source/source.js';
import { BUCKETS, bucketOf, canonReader, isFloatColumn, md5Part, mysqlCanonSql, newSide } from './canon.js';
import type { SourceChecksums } from './pg-checksum.js';

const u32 = (md5: string, from: number) => `CONV(SUBSTR(${md5}, ${from}, 8), 16, 10)`;

/**
 * The source's side of a verify on MySQL/MariaDB: every column but the floats in SQL (counts and
 * sums per bucket of MD5s of the canonical text, one consistent snapshot), the floats streamed and
 * hashed here (MySQL has neither a float's bytes nor a text form that is the same across versions).
 * The two are added per bucket, and concatenated per key, exactly as the backup side does (verify.ts).
 */
export async function mysqlChecksums(url: string, source: Source, table: SourceTable, key: ColumnSpec[], batchRows: number): Promise<SourceChecksums> {
  const mysql = (await import('mysql2')).default;
  const conn = mysql.createConnection({ ...mysqlConnectionOptions(url), supportBigNumbers: true, bigNumberStrings: true });
  const q = <T>(s: string, args: unknown[] = []) => new Promise<T>((resolve, reject) => conn.query(s, args, (err, rows) => (err ? reject(err) : resolve(rows as T))));
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  await q("SET SESSION time_zone = '+00:00'");
  await q('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  await q('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  const name = `${quoteMysqlIdent(table.schema)}.${quoteMysqlIdent(table.name)}`;
  const rest = table.columns.filter((c) => !isFloatColumn(c));
  const floats = table.columns.filter(isFloatColumn);
  const joined = (cols: ColumnSpec[]) => `CONCAT_WS(CHAR(31 USING utf8mb4), ${cols.map(mysqlCanonSql).join(', ')})`;
  const rows = `SELECT MD5(${joined(key)}) AS kh, ${joined(key)} AS k, MD5(${joined(rest)}) AS rh FROM ${name}`;
  const bucketSql = `${u32('kh', 1)} % ${BUCKETS}`;

  /** The floats part, streamed: per row its key text and the floats' hash. */
  async function* floatRows(): AsyncGenerator<{ key: string; bucket: number; a: number; b: number; digest: string }> {
    if (!floats.length) return;
    const cols = [...key, ...floats.filter((f) => !key.some((k) => k.name === f.name))];
    for await (const batch of source.read({ ...table, columns: cols }, { batchRows })) {
      const kr = key.map((c) => canonReader(c, batch.getChild(c.name)!.data[0]!));
      const fr = floats.map((c) => canonReader(c, batch.getChild(c.name)!.data[0]!));
      for (let r = 0; r < batch.numRows; r++) {
        const k = kr.map((f) => f(r)).join('\u001f');
        const p = md5Part(fr.map((f) => f(r)).join('\u001f'));
        yield { key: k, bucket: bucketOf(k), a: p.a, b: p.b, digest: p.hex };
      }
    }
  }
  return {
    async buckets() {
      const side = newSide();
      const r = await q<Array<{ bucket: string; n: string; a: string; b: string }>>(
        `SELECT ${bucketSql} AS bucket, COUNT(*) AS n, SUM(${u32('rh', 1)}) % 4294967296 AS a, SUM(${u32('rh', 9)}) % 4294967296 AS b FROM (${rows}) t GROUP BY 1`,
      );
      for (const x of r) {
        const i = Number(x.bucket);
        side.count[i] = Number(x.n);
        side.sumA[i] = Number(x.a);
        side.sumB[i] = Number(x.b);
      }
      for await (const f of floatRows()) {
        side.sumA[f.bucket] = (side.sumA[f.bucket]! + f.a) >>> 0;
        side.sumB[f.bucket] = (side.sumB[f.bucket]! + f.b) >>> 0;
      }
      return side;
    },
    async keys(wanted) {
      const list = [...wanted];
      const r = await q<Array<{ k: string; rh: string }>>(`SELECT k, rh FROM (${rows}) t WHERE ${bucketSql} IN (?)`, [list]);
      const out = new Map(r.map((x) => [x.k, x.rh]));
      for await (const f of floatRows()) {
        if (!wanted.has(f.bucket)) continue;
        const rh = out.get(f.key);
        if (rh !== undefined) out.set(f.key, rh + f.digest);
      }
      return out;
    },
    async close() {
      await q('COMMIT').catch(() => {});
      await new Promise<void>((r) => conn.end(() => r()));
    },
  };
}
