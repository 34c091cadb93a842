import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  countParquetRows,
  describeParquet,
  parquetKeyValueMetadata,
  readParquetRows,
  sqlString,
  withDuckDB,
} from '../helpers/duckdb.js';

/** The test Parquet files are written by DuckDB itself; the helper must give back exact JS values. */
let work: string;
let typesFile: string;

const COLUMNS = `
  id::INTEGER AS id,
  c_bool::BOOLEAN AS c_bool,
  c_tiny::TINYINT AS c_tiny,
  c_utiny::UTINYINT AS c_utiny,
  c_small::SMALLINT AS c_small,
  c_usmall::USMALLINT AS c_usmall,
  c_int::INTEGER AS c_int,
  c_uint::UINTEGER AS c_uint,
  c_big::BIGINT AS c_big,
  c_ubig::UBIGINT AS c_ubig,
  c_float::FLOAT AS c_float,
  c_double::DOUBLE AS c_double,
  c_dec::DECIMAL(38,10) AS c_dec,
  c_dec_small::DECIMAL(12,2) AS c_dec_small,
  c_text::VARCHAR AS c_text,
  c_blob::BLOB AS c_blob,
  c_date::DATE AS c_date,
  c_time::TIME AS c_time,
  c_ts::TIMESTAMP AS c_ts,
  c_tstz::TIMESTAMPTZ AS c_tstz,
  c_int_arr::INTEGER[] AS c_int_arr,
  c_text_arr::VARCHAR[] AS c_text_arr,
  c_dec_arr::DECIMAL(10,3)[] AS c_dec_arr`;

const VALUES = `
  (1, true, -128, 255, -32768, 65535, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
   '1.1', '0.1', '-1234567890123456789012345678.0123456789', '0.50',
   'clef 𝄞 and 😀', '\\x00\\x01\\xFFz'::BLOB, DATE '1969-07-20', TIME '23:59:59.999999',
   TIMESTAMP '1900-01-01 00:00:00.000001', TIMESTAMPTZ '2020-01-01 00:00:00.5+05:00',
   [1, NULL, -3], ['a', NULL, '', 'ü'], ['1.500'::DECIMAL(10,3), NULL, '-0.001']),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, false, 127, 0, 32767, 0, 2147483647, 0, 9223372036854775807, 0,
   '-3.4028235e38', '-1e-310', '9999999999999999999999999999.9999999999', '-0.01',
   '', ''::BLOB, DATE '0999-12-31', TIME '00:00:00',
   TIMESTAMP '1969-12-31 23:59:59.999999', TIMESTAMPTZ '1901-12-13 20:45:52.123456-08:00',
   [], [], []),
  (4, true, 0, 0, 0, 0, 0, 0, 0, 0,
   '0', '-0.0', '0', '123456789.99',
   'x', '\\x00'::BLOB, DATE '0044-03-15 (BC)', TIME '24:00:00',
   TIMESTAMP '0001-01-01 00:00:00', TIMESTAMPTZ '1969-12-31 23:59:59.999999+00',
   [NULL], [NULL], [NULL])`;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'tv-duckdb-'));
  typesFile = join(work, 'types.parquet');
  await withDuckDB(async (c) => {
    await c.run(`COPY (SELECT ${COLUMNS} FROM (VALUES ${VALUES}) t(id, c_bool, c_tiny, c_utiny, c_small, c_usmall, c_int, c_uint, c_big, c_ubig,
      c_float, c_double, c_dec, c_dec_small, c_text, c_blob, c_date, c_time, c_ts, c_tstz, c_int_arr, c_text_arr, c_dec_arr))
      TO ${sqlString(typesFile)} (FORMAT parquet, KV_METADATA { 'tablevault.test': 'yes ✓' })`);
  });
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

describe('test helper: readParquetRows', () => {
  it('returns exact JS values for every type', async () => {
    const rows = await readParquetRows(typesFile, { orderBy: 'id' });
    expect(rows).toEqual([
      {
        id: 1,
        c_bool: true,
        c_tiny: -128,
        c_utiny: 255,
        c_small: -32768,
        c_usmall: 65535,
        c_int: -2147483648,
        c_uint: 4294967295,
        c_big: -9223372036854775808n,
        c_ubig: 18446744073709551615n,
        c_float: Math.fround(1.1),
        c_double: 0.1,
        c_dec: '-1234567890123456789012345678.0123456789',
        c_dec_small: '0.50',
        c_text: 'clef 𝄞 and 😀',
        c_blob: new Uint8Array([0, 1, 255, 0x7a]),
        c_date: '1969-07-20',
        c_time: '23:59:59.999999',
        c_ts: '1900-01-01 00:00:00.000001',
        c_tstz: '2019-12-31 19:00:00.500000',
        c_int_arr: [1, null, -3],
        c_text_arr: ['a', null, '', 'ü'],
        c_dec_arr: ['1.500', null, '-0.001'],
      },
      {
        id: 2,
        c_bool: null,
        c_tiny: null,
        c_utiny: null,
        c_small: null,
        c_usmall: null,
        c_int: null,
        c_uint: null,
        c_big: null,
        c_ubig: null,
        c_float: null,
        c_double: null,
        c_dec: null,
        c_dec_small: null,
        c_text: null,
        c_blob: null,
        c_date: null,
        c_time: null,
        c_ts: null,
        c_tstz: null,
        c_int_arr: null,
        c_text_arr: null,
        c_dec_arr: null,
      },
      {
        id: 3,
        c_bool: false,
        c_tiny: 127,
        c_utiny: 0,
        c_small: 32767,
        c_usmall: 0,
        c_int: 2147483647,
        c_uint: 0,
        c_big: 9223372036854775807n,
        c_ubig: 0n,
        c_float: Math.fround(-3.4028235e38),
        c_double: -1e-310,
        c_dec: '9999999999999999999999999999.9999999999',
        c_dec_small: '-0.01',
        c_text: '',
        c_blob: new Uint8Array([]),
        c_date: '0999-12-31',
        c_time: '00:00:00.000000',
        c_ts: '1969-12-31 23:59:59.999999',
        c_tstz: '1901-12-14 04:45:52.123456',
        c_int_arr: [],
        c_text_arr: [],
        c_dec_arr: [],
      },
      {
        id: 4,
        c_bool: true,
        c_tiny: 0,
        c_utiny: 0,
        c_small: 0,
        c_usmall: 0,
        c_int: 0,
        c_uint: 0,
        c_big: 0n,
        c_ubig: 0n,
        c_float: 0,
        c_double: -0,
        c_dec: '0.0000000000',
        c_dec_small: '123456789.99',
        c_text: 'x',
        c_blob: new Uint8Array([0]),
        c_date: '0044-03-15 (BC)',
        c_time: '24:00:00.000000',
        c_ts: '0001-01-01 00:00:00.000000',
        c_tstz: '1969-12-31 23:59:59.999999',
        c_int_arr: [null],
        c_text_arr: [null],
        c_dec_arr: [null],
      },
    ]);
    // toEqual treats 0 and -0 as different (Object.is): the double -0.0 stays -0
    expect(Object.is(rows[3]!.c_double, -0)).toBe(true);
    expect(typeof rows[0]!.c_big).toBe('bigint');
    expect(rows[0]!.c_blob).toBeInstanceOf(Uint8Array);
  });

  it('reads a list of files and a glob, and counts rows', async () => {
    const second = join(work, 'types-2.parquet');
    await withDuckDB((c) =>
      c.run(
        `COPY (SELECT * FROM read_parquet(${sqlString(typesFile)}) WHERE id <= 2) TO ${sqlString(second)} (FORMAT parquet)`,
      ),
    );
    const ids = (await readParquetRows([typesFile, second], { orderBy: 'id' })).map((r) => r.id);
    expect(ids).toEqual([1, 1, 2, 2, 3, 4]);
    expect(await countParquetRows([typesFile, second])).toBe(6);
    expect(await countParquetRows(join(work, 'types*.parquet'))).toBe(6);
    expect(await countParquetRows(typesFile)).toBe(4);
  });

  it('describes the schema and returns key/value metadata', async () => {
    const types = await describeParquet(typesFile);
    expect(types).toEqual([
      { name: 'id', type: 'INTEGER' },
      { name: 'c_bool', type: 'BOOLEAN' },
      { name: 'c_tiny', type: 'TINYINT' },
      { name: 'c_utiny', type: 'UTINYINT' },
      { name: 'c_small', type: 'SMALLINT' },
      { name: 'c_usmall', type: 'USMALLINT' },
      { name: 'c_int', type: 'INTEGER' },
      { name: 'c_uint', type: 'UINTEGER' },
      { name: 'c_big', type: 'BIGINT' },
      { name: 'c_ubig', type: 'UBIGINT' },
      { name: 'c_float', type: 'FLOAT' },
      { name: 'c_double', type: 'DOUBLE' },
      { name: 'c_dec', type: 'DECIMAL(38,10)' },
      { name: 'c_dec_small', type: 'DECIMAL(12,2)' },
      { name: 'c_text', type: 'VARCHAR' },
      { name: 'c_blob', type: 'BLOB' },
      { name: 'c_date', type: 'DATE' },
      { name: 'c_time', type: 'TIME' },
      { name: 'c_ts', type: 'TIMESTAMP' },
      { name: 'c_tstz', type: 'TIMESTAMP WITH TIME ZONE' },
      { name: 'c_int_arr', type: 'INTEGER[]' },
      { name: 'c_text_arr', type: 'VARCHAR[]' },
      { name: 'c_dec_arr', type: 'DECIMAL(10,3)[]' },
    ]);
    expect(await parquetKeyValueMetadata(typesFile)).toEqual(
      expect.arrayContaining([{ key: 'tablevault.test', value: 'yes ✓' }]),
    );
  });

  it('formats dates, timestamps and decimals exactly like DuckDB itself (BC to year 9999)', async () => {
    // ~4000 pseudo-random instants from 4713 BC to 9999 AD with random microseconds, and decimals of every length
    const file = join(work, 'cross.parquet');
    await withDuckDB((c) =>
      c.run(`COPY (
      SELECT i, ts, ts::VARCHAR AS ts_text, ts::DATE AS d, ts::DATE::VARCHAR AS d_text, ts::TIME AS t,
             dec, dec::VARCHAR AS dec_text
      FROM (SELECT i,
              make_timestamp(CAST(hash(i) % 464000000000000000 AS BIGINT) - 210900000000000000) AS ts,
              CAST(CASE WHEN i % 2 = 0 THEN '-' ELSE '' END || substr(hash(i)::VARCHAR || hash(i + 1)::VARCHAR, 1, i % 28 + 1)
                   || '.' || substr(hash(i + 2)::VARCHAR, 1, i % 11) AS DECIMAL(38,10)) AS dec
            FROM range(4000) r(i))
    ) TO ${sqlString(file)} (FORMAT parquet)`),
    );
    const rows = await readParquetRows(file, { orderBy: 'i' });
    expect(rows).toHaveLength(4000);
    let bc = 0;
    for (const r of rows) {
      // DuckDB prints fractions without trailing zeros; the helper always gives 6 digits
      const [datePart, timePart] = String(r.ts_text).split(/ (?=\d\d:)/) as [string, string];
      const [hms, frac = ''] = timePart.split('.') as [string, string?];
      expect(r.ts).toBe(`${datePart} ${hms}.${frac.padEnd(6, '0')}`);
      expect(r.d).toBe(r.d_text);
      expect(r.t).toBe(`${hms}.${frac.padEnd(6, '0')}`);
      expect(r.dec).toBe(r.dec_text);
      if (String(r.d).endsWith('(BC)')) bc++;
    }
    expect(bc).toBeGreaterThan(100);
  });
});
