import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_REPRESENTABLE, parseDatePart, parseDecimal, parseTimestamp } from '../../src/arrow/text.js';
import { pgDate, pgNumeric, pgTimestamp } from '../../src/arrow/pg-binary.js';
import { jsonSummary, runCli } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { parquetEncodings, readParquetRows } from '../helpers/duckdb.js';
import { backup, resetState, strategyFile } from '../helpers/backup.js';

/**
 * PostgreSQL is read with binary COPY. Its decoders are checked against the text parsers (which
 * the type round-trip tests check against DuckDB) on the binary form PostgreSQL itself sends,
 * and whole exports are checked on the paths around it: no primary key (one COPY, paused at
 * each batch), a key read as text (uuid), and a table that needs the text format (inet).
 */

let work: string;
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tv-pgread-'));
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

const same = (v: unknown) =>
  v === NOT_REPRESENTABLE ? 'not representable' : typeof v === 'bigint' ? v : BigInt(v as number);

describe('PostgreSQL binary values equal their text form', () => {
  it('numeric at several scales, including NaN, ±Infinity, 38 digits and more fraction digits than the scale', async () => {
    const values = [
      '0',
      '-0',
      '1',
      '-1',
      '0.01',
      '-0.01',
      '12.5',
      '9999999999.99',
      '-9999999999.99',
      '10000',
      '123456789012.34',
      '99999999999999999999999999.999999999999',
      '-0.000000000001',
      '1e-20',
      '100000000000000000000',
      '42.4200',
      '7.005',
      'NaN',
      'Infinity',
      '-Infinity',
      ...Array.from({ length: 300 }, (_, i) =>
        ((((i * 7919.37) % 1e9) * (i % 2 ? -1 : 1)) / 10 ** (i % 9)).toFixed(i % 9),
      ),
    ];
    const rows = await withPg(
      async (c) =>
        (
          await c.query<{ t: string; b: Buffer }>({
            text: 'SELECT v::text AS t, numeric_send(v) AS b FROM unnest($1::numeric[]) AS v',
            values: [values],
          })
        ).rows,
    );
    expect(rows).toHaveLength(values.length);
    for (const scale of [0, 2, 3, 10, 12]) {
      for (const r of rows) {
        const t = Buffer.from(r.t);
        expect(same(pgNumeric(r.b, 0, r.b.length, scale)), `${r.t} at scale ${scale}`).toEqual(
          same(parseDecimal(t, 0, t.length, scale)),
        );
      }
    }
  });

  it('dates and timestamps, BC to 294276 AD, and ±infinity', async () => {
    const stamps = [
      '2000-01-01 00:00:00+00',
      '1970-01-01 00:00:00+00',
      '1969-12-31 23:59:59.999999+00',
      '2262-04-11 23:47:16.854775+00',
      '4713-01-01 00:00:00+00 BC',
      '0044-03-15 12:00:00.5+00 BC',
      '294276-12-31 23:59:59.999999+00',
      '1500-06-01 10:20:30.000001+00',
      '2024-02-29 12:00:00.5+00',
      'infinity',
      '-infinity',
      ...Array.from({ length: 200 }, (_, i) =>
        new Date(Date.UTC(1700 + i * 3, i % 12, 1 + (i % 28), i % 24, i % 60, i % 60, i % 1000)).toISOString(),
      ),
    ];
    const rows = await withPg(
      async (c) =>
        (
          await c.query<{ t: string; b: Buffer; d: string; db: Buffer }>({
            text: 'SELECT v::text AS t, timestamptz_send(v) AS b, v::date::text AS d, date_send(v::date) AS db FROM unnest($1::timestamptz[]) AS v',
            values: [stamps],
          })
        ).rows,
    );
    for (const r of rows) {
      const t = Buffer.from(r.t);
      expect(same(pgTimestamp(r.b, 0, r.b.length)), r.t).toEqual(same(parseTimestamp(t, 0, t.length)));
      const d = Buffer.from(r.d);
      const text = parseDatePart(d, 0, d.length);
      expect(pgDate(r.db, 0, r.db.length), r.d).toEqual(
        text === NOT_REPRESENTABLE || text === 'zero' ? text : text.days,
      );
    }
  });
});

async function exportDir(table: string, extra: string[] = []) {
  const dir = mkdtempSync(join(work, `${table}-`));
  const summary = jsonSummary<{ rows: number; warnings: string[]; files: Array<{ rows: number }> }>(
    await runCli([
      'export',
      '--source',
      PG_URL,
      '--table',
      table,
      '--dest',
      pathToFileURL(dir).href,
      '--json',
      ...extra,
    ]),
  );
  const files = readdirSync(join(dir, `public.${table}`))
    .filter((f) => f.endsWith('.parquet'))
    .map((f) => join(dir, `public.${table}`, f));
  return {
    summary,
    rows: await readParquetRows(files, { orderBy: 'n' }),
    encodings: await parquetEncodings(files[0]!),
  };
}

describe('export: PostgreSQL read paths', () => {
  const setup = `
    DROP TABLE IF EXISTS tv_edge; DROP DOMAIN IF EXISTS tv_bigdom;
    CREATE DOMAIN tv_bigdom AS int8 CHECK (VALUE <> 0);
    CREATE TABLE tv_edge (n int4, d date, ts timestamp, tstz timestamptz, amount numeric(10,2), big tv_bigdom, u uuid, arr int4[], f4 float4, note varchar(10));
    INSERT INTO tv_edge VALUES
      (1, 'infinity', 'infinity', '-infinity', 'NaN', 9223372036854775807, '00000000-0000-0000-0000-000000000001', '{1,2}', 'NaN', 'a'),
      (2, '-infinity', '-infinity', 'infinity', 12.5, -9223372036854775808, NULL, '{}', '-Infinity', NULL),
      (3, '2024-01-02', '2024-01-02 03:04:05.678901', '2024-01-02 03:04:05+00', -0.01, 1, 'ffffffff-ffff-ffff-ffff-ffffffffffff', NULL, 1.5, 'tab	q'),
      (4, NULL, NULL, NULL, NULL, NULL, NULL, '{NULL}', NULL, ''),
      (5, '1999-12-31', '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00+00', 99999999.99, -2, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '{-5}', 3.25, 'x'),
      (6, '2000-01-01', '2000-01-01 00:00:00', '1999-12-31 23:59:59.999999+00', 0, 3, NULL, NULL, 0, 'y'),
      (7, '2000-01-02', '2000-01-02 00:00:00', '2000-01-02 00:00:00+00', 1, 4, NULL, NULL, '-0', 'z');`;
  const expected = [
    {
      n: 1,
      d: null,
      ts: null,
      tstz: null,
      amount: null,
      big: 9223372036854775807n,
      u: '00000000-0000-0000-0000-000000000001',
      arr: [1, 2],
      f4: Number.NaN,
      note: 'a',
    },
    {
      n: 2,
      d: null,
      ts: null,
      tstz: null,
      amount: '12.50',
      big: -9223372036854775808n,
      u: null,
      arr: [],
      f4: -Infinity,
      note: null,
    },
    {
      n: 3,
      d: '2024-01-02',
      ts: '2024-01-02 03:04:05.678901',
      tstz: '2024-01-02 03:04:05.000000',
      amount: '-0.01',
      big: 1n,
      u: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      arr: null,
      f4: 1.5,
      note: 'tab\tq',
    },
    { n: 4, d: null, ts: null, tstz: null, amount: null, big: null, u: null, arr: [null], f4: null, note: '' },
    {
      n: 5,
      d: '1999-12-31',
      ts: '1999-12-31 23:59:59.999999',
      tstz: '2000-01-01 00:00:00.000000',
      amount: '99999999.99',
      big: -2n,
      u: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
      arr: [-5],
      f4: 3.25,
      note: 'x',
    },
    {
      n: 6,
      d: '2000-01-01',
      ts: '2000-01-01 00:00:00.000000',
      tstz: '1999-12-31 23:59:59.999999',
      amount: '0.00',
      big: 3n,
      u: null,
      arr: null,
      f4: 0,
      note: 'y',
    },
    {
      n: 7,
      d: '2000-01-02',
      ts: '2000-01-02 00:00:00.000000',
      tstz: '2000-01-02 00:00:00.000000',
      amount: '1.00',
      big: 4n,
      u: null,
      arr: null,
      f4: -0,
      note: 'z',
    },
  ];
  const columns = ['d', 'ts', 'tstz', 'amount'];

  it('no primary key: one COPY read in batches of 2; infinities and NaN are NULL and counted; domains, uuid, arrays as their types', async () => {
    await withPg((c) => c.query(setup));
    const { summary, rows } = await exportDir('tv_edge', ['--batch-rows', '2']);
    expect(summary.rows).toBe(7);
    for (const col of columns) {
      expect(summary.warnings, col).toContainEqual(
        expect.stringMatching(
          new RegExp(`column "${col}": ${col === 'amount' ? 1 : 2} value\\(s\\) Parquet cannot hold`),
        ),
      );
    }
    expect(rows).toEqual(expected);
  });

  it('a column without an exact ::text (inet) switches the read to the text format, with the same values', async () => {
    await withPg((c) =>
      c.query(`${setup}
      ALTER TABLE tv_edge ADD COLUMN addr inet; UPDATE tv_edge SET addr = CASE WHEN n = 1 THEN '10.0.0.1'::inet WHEN n = 2 THEN '10.0.0.0/8'::inet END;`),
    );
    const { summary, rows } = await exportDir('tv_edge', ['--batch-rows', '3']);
    expect(summary.rows).toBe(7);
    // inet's output function, not inet::text ('10.0.0.1/32')
    expect(rows).toEqual(
      expected.map((r) => ({ ...r, addr: r.n === 1 ? '10.0.0.1' : r.n === 2 ? '10.0.0.0/8' : null })),
    );
  });

  it('a uuid primary key is paged by its text form: every row once, in key order', async () => {
    await withPg((c) =>
      c.query(`
      DROP TABLE IF EXISTS tv_uuidpk;
      CREATE TABLE tv_uuidpk (id uuid PRIMARY KEY, n int4 NOT NULL);
      INSERT INTO tv_uuidpk SELECT md5(i::text)::uuid, i FROM generate_series(1, 50) i;`),
    );
    const { summary, rows } = await exportDir('tv_uuidpk', ['--batch-rows', '7']);
    expect(summary.rows).toBe(50);
    const source = await withPg(
      async (c) =>
        (await c.query<{ id: string; n: number }>('SELECT id::text AS id, n FROM tv_uuidpk ORDER BY n')).rows,
    );
    expect(rows).toEqual(source);
  });

  it('keyset pages of many batches, cut into batches as they stream and into files mid-page: every row once, in key order', async () => {
    await withPg((c) =>
      c.query(`
      DROP TABLE IF EXISTS tv_pages;
      CREATE TABLE tv_pages (id int8 PRIMARY KEY, n int4 NOT NULL, label text);
      INSERT INTO tv_pages SELECT i * 3, i, 'row ' || i FROM generate_series(1, 1000) i;`),
    );
    // batches of 7 rows: pages of 70, so 15 pages; files of 100 rows end inside pages
    const { summary, rows } = await exportDir('tv_pages', ['--batch-rows', '7', '--file-max-rows', '100']);
    expect(summary.rows).toBe(1000);
    const source = await withPg(
      async (c) => (await c.query<{ id: string; label: string }>('SELECT id, label FROM tv_pages ORDER BY id')).rows,
    );
    expect(rows.map((r) => `${String(r.id)}:${String(r.label)}`)).toEqual(source.map((r) => `${r.id}:${r.label}`));
  });

  it('integer columns are delta-encoded unless --integer-encoding plain (export) or integer_encoding: plain (strategy) says otherwise', async () => {
    const delta = await exportDir('tv_uuidpk');
    expect(delta.encodings.n).toMatch(/DELTA_BINARY_PACKED/);
    const plain = await exportDir('tv_uuidpk', ['--integer-encoding', 'plain']);
    expect(plain.encodings.n).not.toMatch(/DELTA/);
    expect(plain.rows).toEqual(delta.rows);

    await resetState('pg');
    const { file, dir } = strategyFile(
      (d) =>
        `source: ${PG_URL}\ndestination: ${d}\ntables:\n  - table: tv_uuidpk\n    strategy: incremental\n    cursor: n\n    integer_encoding: plain\n`,
    );
    const r = await backup(file);
    expect(r.code, r.stderr).toBe(0);
    const tdir = join(dir, 'public.tv_uuidpk');
    const objects = readdirSync(tdir).filter((f) => f.endsWith('.parquet'));
    expect(objects.length).toBeGreaterThan(0);
    expect((await parquetEncodings(join(tdir, objects[0]!))).n).not.toMatch(/DELTA/);
    expect(
      await readParquetRows(
        objects.map((o) => join(tdir, o)),
        { orderBy: 'n' },
      ),
    ).toEqual(delta.rows);
  });
});
