import type { Data } from 'apache-arrow';
import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnKind, ColumnSpec } from '../../src/source/columns.js';
import { SESSION_SETTINGS } from '../../src/source/postgres/session.js';
import { PG_URL } from '../helpers/db.js';
import {
  boolData,
  bytesData,
  copyBinary,
  copyText,
  dateData,
  decimalData,
  float32Data,
  float64Data,
  int16Data,
  int32Data,
  int64Data,
  listData,
  timeData,
  timestampData,
  uint16Data,
  uint32Data,
  uint64Data,
  uint8Data,
} from '../helpers/pg-copy.js';

/**
 * The binary COPY writer against PostgreSQL's own parser: random Arrow values of each type go
 * into one table by binary COPY and into another by the text path (the cells restore reads, as
 * COPY text), and PostgreSQL's text of both tables must be the same, row for row, or both loads
 * fail. Tables live in a schema of this file's own (tv_pgbin).
 */

const SCHEMA = 'tv_pgbin';
let client: pg.Client;

beforeAll(async () => {
  client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  for (const s of SESSION_SETTINGS) await client.query(s);
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE; CREATE SCHEMA ${SCHEMA}; SET search_path = ${SCHEMA}`);
});

afterAll(async () => {
  await client.query(`DROP SCHEMA IF EXISTS ${SCHEMA} CASCADE`);
  await client.end();
});

let tables = 0;

/** A case's two tables (t<n>_text and t<n>_bin), made once for all of its runs; their number. */
async function createBoth(pgType: string): Promise<number> {
  const n = ++tables;
  await client.query(`CREATE TABLE t${n}_text (id int, v ${pgType}); CREATE TABLE t${n}_bin (id int, v ${pgType})`);
  return n;
}

/**
 * PostgreSQL's text of v in each of table pair n, emptied first, or the load's error. (A DELETE per
 * run, not a pair of tables: creating and dropping two tables for each of the ~1,000 runs was most
 * of this file's time.)
 */
async function loadBoth(n: number, spec: ColumnSpec, data: Data) {
  await client.query(`DELETE FROM t${n}_text; DELETE FROM t${n}_bin`);
  const read = async (table: string, load: () => Promise<void>) => {
    try {
      await load();
    } catch (e) {
      if (/no binary writer/.test(String(e))) throw e;
      return 'failed';
    }
    return (await client.query<{ v: string | null }>(`SELECT v::text AS v FROM ${table} ORDER BY id`)).rows.map(
      (r) => r.v,
    );
  };
  const text = await read(`t${n}_text`, () => copyText(client, `t${n}_text`, spec, data));
  const binary = await read(`t${n}_bin`, () => copyBinary(client, `t${n}_bin`, spec, data));
  return { text, binary };
}

const col = (kind: ColumnKind, extra: Partial<ColumnSpec> = {}): ColumnSpec => ({
  name: 'v',
  dbType: kind,
  nullable: true,
  kind,
  ...extra,
});

interface Case<T> {
  pgType: string;
  spec: ColumnSpec;
  value: fc.Arbitrary<T>;
  data: (values: Array<T | null>) => Data;
}

const c = <T>(pgType: string, spec: ColumnSpec, value: fc.Arbitrary<T>, data: (v: Array<T | null>) => Data) =>
  ({ pgType, spec, value, data }) as Case<unknown>;

const INT64 = { min: -(2n ** 63n), max: 2n ** 63n - 1n };
/** PostgreSQL's dates and timestamps (4713 BC to 5874897 / 294276 AD), as days and µs since 1970. */
const DAYS = fc.integer({ min: -2440588, max: 2145042905 });
const MICROS = fc.bigInt({ min: -210866803200000000n, max: 2n ** 63n - 1n });
const decimal = (p: number) => fc.bigInt({ min: -(10n ** BigInt(p)) + 1n, max: 10n ** BigInt(p) - 1n });
const decimalText = fc.oneof(
  fc
    .tuple(fc.boolean(), fc.stringMatching(/^[0-9]{1,40}$/), fc.stringMatching(/^[0-9]{0,40}$/))
    .map(([neg, i, f]) => `${neg ? '-' : ''}${i}${f ? `.${f}` : ''}`),
  fc.constantFrom('NaN', 'Infinity', '-Infinity', '0', '-0.000', '100000000'),
);
/** Text without NUL (no PostgreSQL text holds one), any code point, a leading BOM sometimes. */
const anyText = fc
  .tuple(fc.boolean(), fc.string({ unit: 'binary', maxLength: 40 }))
  .map(([bom, s]) => `${bom ? '\ufeff' : ''}${s.replace(/\0/g, '')}`);
const shortText = fc.string({ unit: fc.constantFrom('a', 'é', '😀', ' ', '\t', '\\', '"', '\n'), maxLength: 5 });
/** Bytes that are mostly not UTF-8 (raw bytes exported as text), without NUL. */
const rawBytes = fc.uint8Array({ min: 1, maxLength: 12 });
const uuidText = fc
  .tuple(fc.uuid(), fc.constantFrom('plain', 'upper', 'braces', 'bare'))
  .map(([u, form]) =>
    form === 'upper' ? u.toUpperCase() : form === 'braces' ? `{${u}}` : form === 'bare' ? u.replace(/-/g, '') : u,
  );

const SCALARS: Array<Case<unknown>> = [
  c('boolean', col('bool'), fc.boolean(), boolData),
  c('smallint', col('int16'), fc.integer({ min: -32768, max: 32767 }), int16Data),
  c('integer', col('int32'), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), int32Data),
  c('bigint', col('int32'), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), int32Data),
  c('bigint', col('int64'), fc.bigInt(INT64), int64Data),
  c('smallint', col('uint8'), fc.integer({ min: 0, max: 255 }), uint8Data),
  c('integer', col('uint16'), fc.integer({ min: 0, max: 65535 }), uint16Data),
  c('bigint', col('uint32'), fc.integer({ min: 0, max: 2 ** 32 - 1 }), uint32Data),
  c('numeric(20,0)', col('uint64'), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), uint64Data),
  c('numeric', col('int64'), fc.bigInt(INT64), int64Data),
  c('real', col('float32'), fc.float(), float32Data),
  c('double precision', col('float32'), fc.float(), float32Data),
  c('double precision', col('float64'), fc.double(), float64Data),
  c('numeric(38,10)', col('decimal', { precision: 38, scale: 10 }), decimal(38), (v) => decimalData(v, 38, 10)),
  c('numeric(12,2)', col('decimal', { precision: 12, scale: 2 }), decimal(12), (v) => decimalData(v, 12, 2)),
  c('numeric', col('decimal', { precision: 20, scale: 5 }), decimal(20), (v) => decimalData(v, 20, 5)),
  // rounds into a narrower scale, as numeric_in does with the typmod
  c('numeric(12,1)', col('decimal', { precision: 12, scale: 3 }), decimal(12), (v) => decimalData(v, 12, 3)),
  c('numeric', col('string', { dbType: 'numeric' }), decimalText, (v) => bytesData(v)),
  c('numeric(50,20)', col('string', { dbType: 'decimal(50,20)' }), decimalText, (v) => bytesData(v)),
  c('text', col('string'), anyText, (v) => bytesData(v)),
  c('text', col('string'), rawBytes, (v) => bytesData(v)),
  c('varchar(4)', col('string'), shortText, (v) => bytesData(v)),
  c('character(4)', col('string'), shortText, (v) => bytesData(v)),
  c('json', col('json'), fc.json(), (v) => bytesData(v)),
  c('jsonb', col('json'), fc.json(), (v) => bytesData(v)),
  c('uuid', col('string', { dbType: 'uuid' }), uuidText, (v) => bytesData(v)),
  c('bytea', col('binary'), fc.uint8Array({ maxLength: 40 }), (v) => bytesData(v, true)),
  c('date', col('date'), DAYS, dateData),
  c('time', col('time'), fc.bigInt({ min: 0n, max: 86_400_000_000n }), timeData),
  c('timestamp', col('timestamp'), MICROS, (v) => timestampData(v)),
  c('timestamptz', col('timestamptz'), MICROS, (v) => timestampData(v, true)),
];

/** One-dimensional arrays of some of the scalars above, with NULL elements and empty arrays. */
const LISTS: Array<Case<unknown>> = SCALARS.filter((s) =>
  ['integer', 'text', 'numeric(12,2)', 'double precision', 'timestamptz', 'boolean', 'date', 'uuid', 'jsonb'].includes(
    s.pgType,
  ),
)
  .filter((s) => !(s.pgType === 'text' && s.value === rawBytes))
  .map((s) =>
    c(
      `${s.pgType}[]`,
      { ...s.spec, kind: 'list', dbType: `${s.pgType}[]`, element: { ...s.spec, name: 'element' } },
      fc.array(fc.option(s.value, { nil: null }), { maxLength: 5 }),
      (lists) =>
        listData(
          s.data(lists.flatMap((l) => l ?? [])),
          lists.map((l) => (l === null ? null : l.length)),
        ),
    ),
  );

describe('binary COPY equals the text path, value for value (PostgreSQL parses both)', () => {
  it.each(
    [...SCALARS, ...LISTS].map(
      (k) =>
        [`${k.pgType} from ${k.spec.kind}${k.spec.kind === 'list' ? ` of ${k.spec.element!.kind}` : ''}`, k] as const,
    ),
  )('%s', async (_name, k) => {
    const n = await createBoth(k.pgType);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.option(k.value, { nil: null, freq: 5 }), { minLength: 1, maxLength: 30 }),
        async (values) => {
          const { text, binary } = await loadBoth(n, k.spec, k.data(values));
          expect(binary).toEqual(text);
        },
      ),
      { numRuns: 25 },
    );
    await client.query(`DROP TABLE t${n}_text, t${n}_bin`);
  });
});
