import type { ChecksumOptions, SourceChecksums } from '../checksums.js';
import type { ColumnSpec, SourceTable } from '../columns.js';
import { quoteMysqlIdent } from './quote.js';
import type { Source } from '../source.js';
import { bucketOf, canonReader, isFloatColumn, md5Part, newSide } from '../../checksum/canon.js';
import { mysqlConnectionOptions } from './connection.js';

/** The canonical cell of checksum/canon.ts as an SQL expression over a MySQL/MariaDB column (floats excluded: see below). */
function canonSql(spec: ColumnSpec): string {
  const c = quoteMysqlIdent(spec.name);
  let e: string;
  switch (spec.kind) {
    case 'bool':
      e = `CASE WHEN ${c} <> 0 THEN '1' ELSE '0' END`;
      break;
    case 'binary':
      e = `LOWER(HEX(${c}))`;
      break;
    // zero dates are NULL in the backup: DATEDIFF and TIMESTAMPDIFF give NULL for them too
    case 'date':
      e = `CAST(DATEDIFF(${c}, '1970-01-01') AS CHAR)`;
      break;
    case 'timestamp':
    case 'timestamptz':
      e = `CAST(TIMESTAMPDIFF(MICROSECOND, '1970-01-01 00:00:00', ${c}) AS CHAR)`;
      break;
    // negative or past 24:00:00: not representable, NULL in the backup
    // (TIME_TO_SEC keeps the fraction in MariaDB and drops it in MySQL: whole fields instead)
    case 'time':
      e = `CASE WHEN ${c} < '00:00:00' OR ${c} > '24:00:00' THEN NULL ELSE CAST((HOUR(${c}) * 3600 + MINUTE(${c}) * 60 + SECOND(${c})) * 1000000 + MICROSECOND(${c}) AS CHAR) END`;
      break;
    case 'string':
    case 'json':
      e = `CONVERT(${c} USING utf8mb4)`;
      break;
    default:
      e = `CAST(${c} AS CHAR)`;
  }
  return `CASE WHEN ${c} IS NULL THEN 'n' ELSE COALESCE(CONCAT('v', ${e}), 'n') END`;
}

const u32 = (md5: string, from: number) => `CONV(SUBSTR(${md5}, ${from}, 8), 16, 10)`;

/**
 * The source's side of a verify on MySQL/MariaDB: every column but the floats in SQL (counts and
 * sums per bucket of MD5s of the canonical text, one consistent snapshot), the floats streamed and
 * hashed here (MySQL has neither a float's bytes nor a text form that is the same across versions).
 * The two are added per bucket, and concatenated per key, exactly as the backup side does (verify.ts).
 */
export async function openChecksums(
  url: string,
  source: Source,
  table: SourceTable,
  key: ColumnSpec[],
  { buckets, batchRows }: ChecksumOptions,
): Promise<SourceChecksums> {
  const mysql = (await import('mysql2')).default;
  const conn = mysql.createConnection({
    ...mysqlConnectionOptions(url),
    supportBigNumbers: true,
    bigNumberStrings: true,
  });
  const q = <T>(s: string, args: unknown[] = []) =>
    new Promise<T>((resolve, reject) => conn.query(s, args, (err, rows) => (err ? reject(err) : resolve(rows as T))));
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  await q("SET SESSION time_zone = '+00:00'");
  await q('SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
  await q('START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
  const name = `${quoteMysqlIdent(table.schema)}.${quoteMysqlIdent(table.name)}`;
  const rest = table.columns.filter((c) => !isFloatColumn(c));
  const floats = table.columns.filter(isFloatColumn);
  const joined = (cols: ColumnSpec[]) => `CONCAT_WS(CHAR(31 USING utf8mb4), ${cols.map(canonSql).join(', ')})`;
  const rows = `SELECT MD5(${joined(key)}) AS kh, ${joined(key)} AS k, MD5(${joined(rest)}) AS rh FROM ${name}`;
  const bucketSql = `${u32('kh', 1)} % ${buckets}`;

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
      const r = await q<Array<{ k: string; rh: string }>>(`SELECT k, rh FROM (${rows}) t WHERE ${bucketSql} IN (?)`, [
        list,
      ]);
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
