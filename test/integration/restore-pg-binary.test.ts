import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';

/**
 * PostgreSQL → PostgreSQL restores by binary COPY, end to end through the CLI: edge values of
 * every type the binary writers cover come back as the source holds them (the database compares
 * the rows' text), the table is created without its key, loaded and keyed in one transaction, a
 * restore that fails leaves no table, and an existing table is loaded by binary COPY batch by
 * batch. Tables live in a schema of this file's own (tv_rbin).
 */

const S = 'tv_rbin';
type Rows = Array<Record<string, unknown>>;
const rows = (q: string) => withPg(async (c) => (await c.query(q)).rows as Rows);

interface Summary {
  rows: number;
  created: boolean;
  formats?: Record<string, number>;
  unrepresentable: Record<string, number>;
}

const EDGES = `
CREATE TABLE ${S}.edges (
  id int PRIMARY KEY, b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8,
  n numeric(38,10), n_small numeric(12,2), n_any numeric, t text, vc varchar(5), ch char(3), u uuid,
  j json, jb jsonb, by bytea, d date, tm time, ts timestamp, tz timestamptz,
  a_int int4[], a_text text[], a_num numeric(10,3)[], a_bytea bytea[], a_ts timestamptz[],
  nn text NOT NULL
);
INSERT INTO ${S}.edges VALUES
 (1, true, -32768, -2147483648, -9223372036854775808, '-Infinity', 'NaN',
  -9999999999999999999999999999.9999999999, -9999999999.99, -123456789012345678901234567890.123456789012345678901234567890,
  E'\\ufeffBOM first, tab\\tnewline\\n\\\\ 😀', 'abcde', 'a', '00000000-0000-0000-0000-000000000000',
  '{"a": [1, 2.5, null]}', '{"k": "v", "n": 1e-7}', '\\x00ff00', '4713-11-24 BC', '24:00:00',
  '4713-11-24 00:00:00 BC', '0044-03-15 12:00:00.5+00 BC', '{1,NULL,-3}', '{"NULL",NULL,"","a,b","c\\"d"}',
  '{1.5,NULL,-9999999.999}', '{"\\\\x00ff",NULL,"\\\\x"}', '{"2024-02-29 12:00:00.5+00",NULL}', 'x'),
 (2, false, 32767, 2147483647, 9223372036854775807, 'Infinity', '-Infinity',
  9999999999999999999999999999.9999999999, 9999999999.99, 'NaN', '', '', 'xyz', 'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '[]', '{}', '', '5874897-12-31', '23:59:59.999999', '200000-12-31 23:59:59.999999', '1901-12-13 20:45:52.123456+02:30',
  '{}', '{}', '{}', '{}', '{}', ''),
 (3, NULL, NULL, NULL, NULL, 'NaN', '-0', NULL, NULL, '-Infinity', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  NULL, NULL, NULL, '{NULL}', '{NULL}', '{NULL}', '{NULL}', '{NULL}', 'nulls'),
 (4, true, 0, 0, 0, '-0', '1e-310', 0, 0.01, '0.000000000000000000000000000000000000000000001', 'plain', 'v', 'ab',
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 'null', '"s"', '\\x000102', '1970-01-01', '00:00:00', '1970-01-01 00:00:00',
  '1969-12-31 23:59:59.999999+00', '{2147483647,-2147483648}', '{"ünï ✓"}', '{0.001}', '{"\\\\x"}', '{"2000-01-01 00:00:00+00"}', '');
INSERT INTO ${S}.edges (id, n_any, nn) SELECT g, (g::numeric ^ 7) / 3, 'g' || g FROM generate_series(5, 3000) g;
`;

function localDir(): { dir: string; url: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tv-rbin-'));
  return { dir, url: pathToFileURL(dir).href };
}

const restore = (from: string, table: string, extra: string[] = []) =>
  runCli(['restore', from, '--target', PG_URL, '--table', table, '--json', ...extra]);

const dirs: string[] = [];
afterAll(async () => {
  await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

beforeAll(async () => {
  await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}; ${EDGES}`));
});

describe('restore into PostgreSQL by binary COPY', () => {
  let created: CliResult;
  let replaced: CliResult;
  let missing: Rows;
  let extra: Rows;
  let afterReplace: Rows;
  let key: Rows;
  beforeAll(async () => {
    const { dir, url } = localDir();
    dirs.push(dir);
    const ex = await runCli(['export', '--source', PG_URL, '--table', `${S}.edges`, '--dest', url]);
    if (ex.code !== 0) throw new Error(ex.stderr);
    // batches of 700 rows: several batches in the one COPY of the created table
    created = await restore(`${url}/${S}.edges`, `${S}.edges_back`, ['--create', '--batch-rows', '700']);
    const diff = (a: string, b: string) => rows(`SELECT x::text FROM ${a} x EXCEPT ALL SELECT y::text FROM ${b} y`);
    missing = await diff(`${S}.edges`, `${S}.edges_back`);
    extra = await diff(`${S}.edges_back`, `${S}.edges`);
    key = await rows(
      `SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = '${S}.edges_back'::regclass AND contype = 'p'`,
    );
    replaced = await restore(`${url}/${S}.edges`, `${S}.edges_back`, ['--mode', 'replace', '--batch-rows', '700']);
    afterReplace = await diff(`${S}.edges`, `${S}.edges_back`);
  });

  it('--create loads every row, by binary COPY only', () => {
    const s = jsonSummary<Summary>(created);
    expect(s.rows).toBe(3000);
    expect(s.formats).toEqual({ binary: 5, text: 0 });
  });

  it('every source row is in the copy, value for value: BC dates, infinities, NaN, -0, wide numerics, arrays with NULLs, a leading BOM', () => {
    expect(missing).toEqual([]);
  });

  it('the copy has no row the source lacks', () => {
    expect(extra).toEqual([]);
  });

  it('the primary key is added after the data', () => {
    expect(key).toEqual([{ def: 'PRIMARY KEY (id)' }]);
  });

  it('into an existing table (--mode replace) each batch is a binary COPY of its own, and the rows are equal', () => {
    expect(jsonSummary<Summary>(replaced).formats).toEqual({ binary: 5, text: 0 });
    expect(afterReplace).toEqual([]);
  });
});

describe('a --create restore that fails leaves no table', () => {
  let failed: CliResult;
  let exists: Rows;
  beforeAll(async () => {
    await withPg((c) =>
      c.query(
        `CREATE TABLE ${S}.dups (id int NOT NULL, v text); INSERT INTO ${S}.dups SELECT g % 100, 'v' || g FROM generate_series(1, 500) g`,
      ),
    );
    const { dir, url } = localDir();
    dirs.push(dir);
    const ex = await runCli(['export', '--source', PG_URL, '--table', `${S}.dups`, '--dest', url]);
    if (ex.code !== 0) throw new Error(ex.stderr);
    // the manifest made to claim a key the rows do not satisfy: the key's build, after the data, fails
    const manifest = join(dir, `${S}.dups`, '_manifest.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as { primaryKey: string[] };
    writeFileSync(manifest, JSON.stringify({ ...m, primaryKey: ['id'] }));
    failed = await restore(`${url}/${S}.dups`, `${S}.dups_back`, ['--create', '--batch-rows', '100']);
    exists = await rows(`SELECT to_regclass('${S}.dups_back') AS t`);
  });

  it('exits 1 saying nothing was loaded', () => {
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      /could not create unique index.*nothing of it was left \(no table .*dups_back was created\)/s,
    );
  });

  it('the table does not exist afterwards', () => {
    expect(exists).toEqual([{ t: null }]);
  });
});
