import type { ChecksumOptions, SourceChecksums } from '../checksums.js';
import type { ColumnSpec, SourceTable } from '../columns.js';
import { quotePgIdent } from './quote.js';
import type { Source } from '../source.js';
import { newSide } from '../../checksum/canon.js';
import { SESSION_SETTINGS } from './session.js';

/** The canonical cell of checksum/canon.ts as an SQL expression over a PostgreSQL column. */
function canonSql(spec: ColumnSpec): string {
  const c = quotePgIdent(spec.name);
  let e: string;
  switch (spec.kind) {
    case 'bool':
      e = `CASE WHEN ${c} THEN '1' ELSE '0' END`;
      break;
    case 'float32':
      e = `encode(float4send(${c}), 'hex')`;
      break;
    case 'float64':
      e = `encode(float8send(${c}), 'hex')`;
      break;
    case 'binary':
      e = `encode(${c}, 'hex')`;
      break;
    case 'date':
      e = `CASE WHEN isfinite(${c}) THEN (${c} - date '1970-01-01')::text END`;
      break;
    case 'time':
      e = `(extract(epoch FROM ${c}) * 1000000)::bigint::text`;
      break;
    case 'timestamp':
    case 'timestamptz':
      e = `CASE WHEN isfinite(${c}) THEN (extract(epoch FROM ${c}) * 1000000)::bigint::text END`;
      break;
    case 'list':
      e =
        spec.element!.kind === 'float32' || spec.element!.kind === 'float64'
          ? `array_to_json(ARRAY(SELECT encode(${spec.element!.kind === 'float32' ? 'float4send' : 'float8send'}(x), 'hex') FROM unnest(${c}) WITH ORDINALITY AS u(x, n) ORDER BY n))::text`
          : `array_to_json(${c})::text`;
      break;
    case 'string':
    case 'json':
      e = `format('%s', ${c})`;
      break; // the type's output function: char(n) keeps its padding
    default:
      e = `${c}::text`;
  }
  // format('%s', NULL) is '', not NULL: test the column itself
  return `CASE WHEN ${c} IS NULL THEN 'n' ELSE coalesce('v' || ${e}, 'n') END`;
}

/** `('x' || 8 hex digits)::bit(32)::bigint`: an unsigned 32-bit number from part of an MD5, as Node's readUInt32BE. */
const u32 = (md5: string, from: number) => `('x' || substr(${md5}, ${from}, 8))::bit(32)::bigint`;

/**
 * Computes the source's side of a verify inside PostgreSQL, in one REPEATABLE READ snapshot for
 * both queries: per row the canonical text of the key and of every value (checksum/canon.ts), their MD5s,
 * and per bucket count(*) and the two 32-bit sums; then, for differing buckets only, each row's key
 * text and row MD5. Only aggregates and those keys cross the network.
 */
export async function openChecksums(
  url: string,
  _source: Source,
  table: SourceTable,
  key: ColumnSpec[],
  { buckets }: ChecksumOptions,
): Promise<SourceChecksums> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url, application_name: 'tablevault-verify' });
  await client.connect();
  // the export's session settings: the text forms the canonical cells are made of
  for (const s of SESSION_SETTINGS) await client.query(s);
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  const name = `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`;
  const joined = (cols: ColumnSpec[]) => `concat_ws(chr(31), ${cols.map(canonSql).join(', ')})`;
  const rows = `SELECT md5(${joined(key)}) AS kh, ${joined(key)} AS k, md5(${joined(table.columns)}) AS rh FROM ${name}`;
  return {
    async buckets() {
      const r = await client.query<{ bucket: string; n: string; a: string; b: string }>(
        `SELECT ${u32('kh', 1)} % ${buckets} AS bucket, count(*) AS n, sum(${u32('rh', 1)}) % 4294967296 AS a, sum(${u32('rh', 9)}) % 4294967296 AS b FROM (${rows}) t GROUP BY 1`,
      );
      const side = newSide();
      for (const x of r.rows) {
        const i = Number(x.bucket);
        side.count[i] = Number(x.n);
        side.sumA[i] = Number(x.a);
        side.sumB[i] = Number(x.b);
      }
      return side;
    },
    async keys(wanted) {
      const r = await client.query<{ k: string; rh: string }>(
        `SELECT k, rh FROM (${rows}) t WHERE ${u32('kh', 1)} % ${buckets} = ANY($1::int[])`,
        [[...wanted]],
      );
      return new Map(r.rows.map((x) => [x.k, x.rh]));
    },
    async close() {
      await client.query('COMMIT').catch(() => {});
      await client.end().catch(() => {});
    },
  };
}
