import { mkdtempSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, loadMysqlFixture, loadPgFixture, withMysql, withPg } from '../helpers/db.js';
import { createBucket, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

interface RestoreSummary {
  rows: number;
  files: number;
  created: boolean;
  unrepresentable: Record<string, number>;
  warnings: string[];
}

function localDest(): { dir: string; url: string } {
  const dir = mkdtempSync(join(tmpdir(), 'tv-restore-'));
  return { dir, url: pathToFileURL(dir).href };
}

async function pgRows(sqlText: string): Promise<Array<Record<string, unknown>>> {
  return withPg(async (c) => (await c.query(sqlText)).rows as Array<Record<string, unknown>>);
}

async function mysqlRows(sqlText: string): Promise<Array<Record<string, unknown>>> {
  return withMysql(async (c) => {
    const [rows] = await c.query(sqlText);
    return rows as Array<Record<string, unknown>>;
  });
}

/** JSON compared as parsed values (each engine spells it its own way); both sides select it as text */
const asJson = (v: unknown): unknown => JSON.parse(String(v));

const restore = (from: string, target: string, table: string, extra: string[] = [], env: Record<string, string> = {}) =>
  runCli(['restore', from, '--target', target, '--table', table, '--json', ...extra], env);

// restored copies use the fixture's enum type: dropped before the fixture is (re)loaded, here and by other test files
const dropCopies = () => withPg((c) => c.query('DROP TABLE IF EXISTS tv_types_back, tv_types_mode'));

afterAll(dropCopies);

beforeAll(async () => {
  await dropCopies();
  await loadPgFixture('pg-types.sql');
  await loadMysqlFixture('mysql-types.sql');
  // MySQL zero dates in nullable columns are exported as NULL (and counted): that is what a round trip can give back
  await withMysql((c) =>
    c.query(
      "SET SESSION sql_mode = ''; UPDATE tv_types SET c_date = NULLIF(c_date, '0000-00-00'), c_datetime = NULLIF(c_datetime, '0000-00-00 00:00:00'), c_timestamp = NULLIF(c_timestamp, '0000-00-00 00:00:00')",
    ),
  );
});

type Rows = Array<Record<string, unknown>>;

describe('restore: same engine round trips are exact', () => {
  describe.each(s3Targets().map((t) => [t.name, t] as const))(
    'PostgreSQL → PostgreSQL through S3 (%s)',
    (_name, target) => {
      let ex: CliResult;
      let restored: CliResult;
      let sourceCount: number;
      let missing: Rows;
      let extra: Rows;
      let types: Rows;
      beforeAll(async () => {
        const client = makeS3Client(target);
        const bucket = await createBucket(client);
        ex = await runCli(
          ['export', '--source', PG_URL, '--table', 'tv_types', '--dest', `s3://${bucket}/rt`],
          s3EnvFor(target),
        );
        await withPg((c) => c.query('DROP TABLE IF EXISTS tv_types_back'));
        restored = await restore(
          `s3://${bucket}/rt/public.tv_types`,
          PG_URL,
          'public.tv_types_back',
          ['--create'],
          s3EnvFor(target),
        );
        sourceCount = Number((await pgRows('SELECT count(*)::int AS n FROM tv_types'))[0]!.n);
        // row text in both directions: types, NUMERIC digits, µs, time zones, bytea, JSON, unicode, arrays, NULL vs ''
        missing = await pgRows('SELECT a::text FROM tv_types a EXCEPT SELECT b::text FROM tv_types_back b');
        extra = await pgRows('SELECT b::text FROM tv_types_back b EXCEPT SELECT a::text FROM tv_types a');
        types = await pgRows(
          "SELECT a.attname, format_type(a.atttypid, a.atttypmod) AS t FROM pg_attribute a WHERE a.attrelid = 'tv_types_back'::regclass AND a.attnum > 0 ORDER BY a.attnum",
        );
      });

      it('the export to S3 succeeds', () => {
        expect(ex.code, ex.stderr).toBe(0);
      });

      it('--create creates the table and every row is loaded', () => {
        const s = jsonSummary<RestoreSummary>(restored);
        expect(s.created).toBe(true);
        expect(s.rows).toBe(sourceCount);
      });

      it('every source row is in the copy, value for value (the database compares them)', () => {
        expect(missing).toEqual([]);
      });

      it('the copy has no row the source lacks', () => {
        expect(extra).toEqual([]);
      });

      it('the created table keeps the NUMERIC precision and scale', () => {
        expect(types.find((r) => r.attname === 'c_num')!.t).toBe('numeric(38,10)');
      });
    },
  );

  describe('MySQL → MySQL', () => {
    let ex: CliResult;
    let restored: CliResult;
    let sourceCount: number;
    let missing: Rows;
    let extra: Rows;
    beforeAll(async () => {
      const { url } = localDest();
      ex = await runCli(['export', '--source', MYSQL_URL, '--table', 'tv_types', '--dest', url]);
      await withMysql((c) => c.query('DROP TABLE IF EXISTS tv_types_back'));
      restored = await restore(`${url}/${MYSQL_DB}.tv_types`, MYSQL_URL, 'tv_types_back', ['--create']);
      sourceCount = Number((await mysqlRows('SELECT count(*) AS n FROM tv_types'))[0]!.n);
      missing = await mysqlRows('SELECT * FROM tv_types EXCEPT SELECT * FROM tv_types_back');
      extra = await mysqlRows('SELECT * FROM tv_types_back EXCEPT SELECT * FROM tv_types');
    });

    it('the export succeeds', () => {
      expect(ex.code).toBe(0);
    });

    it('every row is loaded', () => {
      expect(jsonSummary<RestoreSummary>(restored).rows).toBe(sourceCount);
    });

    it('every source row is in the copy, value for value, zero dates in NOT NULL columns back as zero dates', () => {
      expect(missing).toEqual([]);
    });

    it('the copy has no row the source lacks', () => {
      expect(extra).toEqual([]);
    });
  });

  describe('--mode', () => {
    let ex: CliResult;
    let missing: CliResult;
    let created: CliResult;
    let again: CliResult;
    let upsert: CliResult;
    let afterUpsert4: Rows;
    let afterUpsert99: Rows;
    let replace: CliResult;
    let afterReplaceMissing: Rows;
    let afterReplace99: Rows;
    beforeAll(async () => {
      const { url } = localDest();
      ex = await runCli(['export', '--source', PG_URL, '--table', 'tv_types', '--dest', url]);
      const from = `${url}/public.tv_types`;
      missing = await restore(from, PG_URL, 'tv_no_such_table');
      await withPg((c) => c.query('DROP TABLE IF EXISTS tv_types_mode'));
      created = await restore(from, PG_URL, 'tv_types_mode', ['--create']);
      again = await restore(from, PG_URL, 'tv_types_mode');
      await withPg((c) =>
        c.query(
          "UPDATE tv_types_mode SET c_text = 'changed' WHERE id = 4; INSERT INTO tv_types_mode (id, c_notnull) VALUES (99, 'extra')",
        ),
      );
      upsert = await restore(from, PG_URL, 'tv_types_mode', ['--mode', 'upsert']);
      afterUpsert4 = await pgRows('SELECT c_text FROM tv_types_mode WHERE id = 4');
      afterUpsert99 = await pgRows('SELECT id FROM tv_types_mode WHERE id = 99');
      replace = await restore(from, PG_URL, 'tv_types_mode', ['--mode', 'replace']);
      afterReplaceMissing = await pgRows('SELECT a::text FROM tv_types a EXCEPT SELECT b::text FROM tv_types_mode b');
      afterReplace99 = await pgRows('SELECT id FROM tv_types_mode WHERE id = 99');
    });

    it('the export succeeds', () => {
      expect(ex.code).toBe(0);
    });

    it('a missing table without --create is exit 2, saying to add --create', () => {
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/tv_no_such_table does not exist .*--create/);
    });

    it('--create loads a new table', () => {
      expect(created.code).toBe(0);
    });

    it('plain inserts into a table that has the rows collide (exit 1)', () => {
      expect(again.code).toBe(1); // plain inserts collide with the rows already there
      expect(again.stderr).toMatch(/duplicate key/);
    });

    it('--mode upsert succeeds', () => {
      expect(upsert.code).toBe(0);
    });

    it('--mode upsert replaces rows by key', () => {
      expect(afterUpsert4[0]!.c_text).toBe('plain');
    });

    it('--mode upsert keeps rows the backup lacks', () => {
      expect(afterUpsert99).toHaveLength(1);
    });

    it('--mode replace succeeds', () => {
      expect(replace.code).toBe(0);
    });

    it('--mode replace loads every row of the backup', () => {
      expect(afterReplaceMissing).toEqual([]);
    });

    it('--mode replace empties the table first', () => {
      expect(afterReplace99).toEqual([]);
    });
  });
});

describe('restore: across engines, types mapped and what cannot be held reported', () => {
  describe('PostgreSQL → MySQL', () => {
    let ex: CliResult;
    let restored: CliResult;
    let src: Rows;
    let out: Rows;
    beforeAll(async () => {
      const { url } = localDest();
      ex = await runCli(['export', '--source', PG_URL, '--table', 'tv_types', '--dest', url]);
      await withMysql((c) => c.query('DROP TABLE IF EXISTS tv_from_pg'));
      restored = await restore(`${url}/public.tv_types`, MYSQL_URL, 'tv_from_pg', ['--create']);
      src =
        await pgRows(`SELECT id, c_int8::text AS c_int8, c_num::text AS c_num, c_text, encode(c_bytea, 'hex') AS c_bytea,
        to_char(c_tstz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US') AS c_tstz, c_jsonb::text AS c_jsonb, array_to_json(c_text_arr)::text AS c_text_arr,
        extract(year FROM c_date) < 1 AS bc, (c_tstz AT TIME ZONE 'UTC') < '0001-01-01' AS tstz_bc FROM tv_types ORDER BY id`);
      out =
        await mysqlRows(`SELECT id, CAST(c_int8 AS CHAR) AS c_int8, CAST(c_num AS CHAR) AS c_num, c_text, LOWER(HEX(c_bytea)) AS c_bytea,
        DATE_FORMAT(c_tstz, '%Y-%m-%d %H:%i:%s.%f') AS c_tstz, CAST(c_jsonb AS CHAR) AS c_jsonb, CAST(c_text_arr AS CHAR) AS c_text_arr FROM tv_from_pg ORDER BY id`);
    });

    it('the export succeeds', () => {
      expect(ex.code).toBe(0);
    });

    it('every row arrives', () => {
      expect(out).toHaveLength(src.length);
    });

    it('integers, numerics, text and bytes are equal', () => {
      for (const [i, r] of src.entries()) {
        const o = out[i]!;
        expect(o.id).toBe(r.id);
        expect(o.c_int8).toBe(r.c_int8);
        expect(o.c_num).toBe(r.c_num);
        expect(o.c_text).toBe(r.c_text);
        expect(o.c_bytea).toBe(r.c_bytea);
      }
    });

    it('JSON and arrays are equal as parsed values', () => {
      for (const [i, r] of src.entries()) {
        const o = out[i]!;
        if (r.c_jsonb !== null) expect(asJson(o.c_jsonb)).toEqual(asJson(r.c_jsonb));
        if (r.c_text_arr !== null) expect(asJson(o.c_text_arr)).toEqual(asJson(r.c_text_arr));
      }
    });

    it('timestamps are equal to the microsecond; BC ones, which MySQL cannot hold, are NULL', () => {
      for (const [i, r] of src.entries()) {
        const o = out[i]!;
        if (r.tstz_bc === true) expect(o.c_tstz).toBeNull();
        else expect(o.c_tstz).toBe(r.c_tstz);
      }
    });

    it('dates before year 1000 and BC, which MySQL DATE cannot hold, are reported, not bent', () => {
      const s = jsonSummary<RestoreSummary>(restored);
      const bc = src.filter((r) => r.bc === true).length;
      expect(bc).toBeGreaterThan(0);
      expect(s.unrepresentable.c_date).toBeGreaterThanOrEqual(bc);
      expect(s.unrepresentable.c_tstz).toBe(src.filter((r) => r.tstz_bc === true).length);
    });

    it('warns which column had values loaded as NULL', () => {
      expect(jsonSummary<RestoreSummary>(restored).warnings.join('\n')).toMatch(
        /column "c_date": \d+ value\(s\) the target cannot hold were loaded as NULL/,
      );
    });
  });

  describe('MySQL → PostgreSQL', () => {
    let ex: CliResult;
    let restored: CliResult;
    let src: Rows;
    let out: Rows;
    beforeAll(async () => {
      const { url } = localDest();
      ex = await runCli(['export', '--source', MYSQL_URL, '--table', 'tv_types', '--dest', url]);
      await withPg((c) => c.query('DROP TABLE IF EXISTS tv_from_mysql'));
      restored = await restore(`${url}/${MYSQL_DB}.tv_types`, PG_URL, 'tv_from_mysql', ['--create']);
      src =
        await mysqlRows(`SELECT id, CAST(c_ubig AS CHAR) AS c_ubig, CAST(c_dec_wide AS CHAR) AS c_dec_wide, c_text, LOWER(HEX(c_varbinary)) AS c_varbinary,
        DATE_FORMAT(c_datetime, '%Y-%m-%d %H:%i:%s.%f') AS c_datetime, CAST(c_json AS CHAR) AS c_json, CAST(c_notnull_dt AS CHAR) AS c_notnull_dt FROM tv_types ORDER BY id`);
      out =
        await pgRows(`SELECT id, c_ubig::text AS c_ubig, c_dec_wide::text AS c_dec_wide, c_text, encode(c_varbinary, 'hex') AS c_varbinary,
        to_char(c_datetime, 'YYYY-MM-DD HH24:MI:SS.US') AS c_datetime, c_json::text AS c_json FROM tv_from_mysql ORDER BY id`);
    });

    it('the export succeeds', () => {
      expect(ex.code).toBe(0);
    });

    it('every row arrives', () => {
      expect(out).toHaveLength(src.length);
    });

    it('unsigned BIGINT max, wide decimals, text, bytes and datetimes are equal', () => {
      for (const [i, r] of src.entries()) {
        const o = out[i]!;
        expect(o.c_ubig).toBe(r.c_ubig); // BIGINT UNSIGNED max as numeric(20,0)
        expect(o.c_dec_wide).toBe(r.c_dec_wide);
        expect(o.c_text).toBe(r.c_text);
        expect(o.c_varbinary).toBe(r.c_varbinary);
        expect(o.c_datetime).toBe(r.c_datetime);
      }
    });

    it('JSON is equal as parsed values', () => {
      for (const [i, r] of src.entries())
        if (r.c_json !== null) expect(asJson(out[i]!.c_json)).toEqual(asJson(r.c_json));
    });

    it('a zero date in a NOT NULL column has no PostgreSQL value: counted and said', () => {
      const zeros = src.filter((r) => String(r.c_notnull_dt).startsWith('0000')).length;
      expect(jsonSummary<RestoreSummary>(restored).unrepresentable.c_notnull_dt ?? 0).toBe(zeros);
    });
  });
});

describe('restore: incremental backups after several runs with updates', () => {
  let backups: CliResult[];
  let snapshot1: Rows;
  let restored: CliResult;
  let missing: Rows;
  let extra: Rows;
  let asOf: CliResult;
  let asOfRows: Rows;
  let intoMysql: CliResult;
  let pgLatest: Rows;
  let myLatest: Rows;
  let bad: CliResult;
  beforeAll(async () => {
    await resetState('pg');
    await withPg((c) =>
      c.query(`DROP TABLE IF EXISTS tv_inc_rt; CREATE TABLE tv_inc_rt (id int PRIMARY KEY, v text, n numeric(10,2), at timestamptz NOT NULL);
      INSERT INTO tv_inc_rt SELECT g, 'v' || g, g / 7.0, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second' FROM generate_series(1, 2000) g;`),
    );
    const { url } = localDest();
    const dir = mkdtempSync(join(tmpdir(), 'tv-restore-strategy-'));
    const file = join(dir, 'strategy.yaml');
    writeFileSync(
      file,
      `source: ${PG_URL}\ndestination: ${url}\ntables:\n  - table: tv_inc_rt\n    strategy: incremental\n    cursor: at\n    file_max_rows: 700\n`,
    );
    backups = [await runCli(['backup', file])];
    snapshot1 = await pgRows('SELECT t::text FROM tv_inc_rt t ORDER BY id');
    await withPg((c) =>
      c.query(`UPDATE tv_inc_rt SET v = 'second', at = timestamptz '2025-01-01 00:00:00+00' + id * interval '1 second' WHERE id % 3 = 0;
      INSERT INTO tv_inc_rt SELECT g, 'new', 1.5, timestamptz '2025-02-01 00:00:00+00' + g * interval '1 second' FROM generate_series(2001, 2300) g;`),
    );
    backups.push(await runCli(['backup', file]));
    await withPg((c) =>
      c.query(
        `UPDATE tv_inc_rt SET v = 'third', n = -1, at = timestamptz '2025-06-01 00:00:00+00' + id * interval '1 second' WHERE id % 5 = 0`,
      ),
    );
    backups.push(await runCli(['backup', file]));

    await withPg((c) => c.query('DROP TABLE IF EXISTS tv_inc_back'));
    restored = await restore(`${url}/public.tv_inc_rt`, PG_URL, 'tv_inc_back', ['--create', '--batch-rows', '500']);
    missing = await pgRows('SELECT t::text FROM tv_inc_rt t EXCEPT SELECT b::text FROM tv_inc_back b');
    extra = await pgRows('SELECT b::text FROM tv_inc_back b EXCEPT SELECT t::text FROM tv_inc_rt t');

    // as of the first run: the table as it was then
    const manifest = JSON.parse(
      await readFile(join(new URL(url).pathname, 'public.tv_inc_rt', '_manifest.json'), 'utf8'),
    ) as { files: Array<{ runId: string }> };
    const firstRun = manifest.files[0]!.runId;
    await withPg((c) => c.query('DROP TABLE IF EXISTS tv_inc_asof'));
    asOf = await restore(`${url}/public.tv_inc_rt`, PG_URL, 'tv_inc_asof', ['--create', '--as-of', firstRun]);
    asOfRows = await pgRows('SELECT t::text FROM tv_inc_asof t ORDER BY id');

    // the same backup into MySQL
    await withMysql((c) => c.query('DROP TABLE IF EXISTS tv_inc_back'));
    intoMysql = await restore(`${url}/public.tv_inc_rt`, MYSQL_URL, 'tv_inc_back', ['--create']);
    pgLatest = await pgRows(
      "SELECT id, v, n::text AS n, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') AS at FROM tv_inc_rt ORDER BY id",
    );
    myLatest = await mysqlRows(
      "SELECT id, v, CAST(n AS CHAR) AS n, DATE_FORMAT(at, '%Y-%m-%d %H:%i:%s') AS at FROM tv_inc_back ORDER BY id",
    );

    bad = await restore(`${url}/public.tv_inc_rt`, PG_URL, 'tv_inc_asof', ['--as-of', 'no-such-run']);
  });

  it.each([
    ['first', 0],
    ['second', 1],
    ['third', 2],
  ] as const)('the %s backup succeeds', (_which, i) => {
    expect(backups[i]!.code).toBe(0);
  });

  it('applies every version, the newest kept', () => {
    expect(jsonSummary<RestoreSummary>(restored).rows).toBeGreaterThan(2300);
  });

  it('restores the newest version of every row', () => {
    expect(missing).toEqual([]);
  });

  it('restores no row version the source no longer has', () => {
    expect(extra).toEqual([]);
  });

  it('--as-of the first run gives the table as it was then', () => {
    expect(asOf.code).toBe(0);
    expect(asOfRows.map((r) => r.t)).toEqual(snapshot1.map((r) => r.t));
  });

  it('into MySQL the newest-cursor-wins rule holds too', () => {
    expect(intoMysql.code).toBe(0);
    expect(myLatest).toEqual(pgLatest);
  });

  it('--as-of a run that does not exist is exit 2, naming it', () => {
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--as-of no-such-run: no backup run with that id/);
  });
});

describe('restore: values and batches larger than a COPY chunk or an INSERT statement', () => {
  // 5,000 rows in batches of 1,000: each batch spans many 64 KiB COPY chunks and INSERT statements,
  // rows and escapes fall on their edges, and every 500th text (400k characters) is larger than either
  let ex: CliResult;
  let intoPg: CliResult;
  let intoMysql: CliResult;
  let pgDiffering: Rows;
  let src: Rows;
  let my: Rows;
  const drop = async () => {
    await withPg((c) => c.query('DROP TABLE IF EXISTS tv_wide_src, tv_wide_back'));
    await withMysql((c) => c.query('DROP TABLE IF EXISTS tv_wide_back'));
  };
  afterAll(drop);
  beforeAll(async () => {
    await drop();
    await withPg((c) =>
      c.query(`CREATE TABLE tv_wide_src (id bigint PRIMARY KEY, t text, b bytea);
        INSERT INTO tv_wide_src SELECT g,
          CASE WHEN g % 500 = 7 THEN repeat(E'tab\\there\\nnew ✓ 😀 \\\\ ', 20000) ELSE E'row\\t' || g || E' ✓\\\\n' || repeat('x', g % 300) END,
          CASE WHEN g % 3 = 0 THEN NULL ELSE decode(repeat(md5(g::text), 1 + g % 7), 'hex') END
        FROM generate_series(1, 5000) g`),
    );
    const { url } = localDest();
    ex = await runCli(['export', '--source', PG_URL, '--table', 'tv_wide_src', '--dest', url]);
    const from = `${url}/public.tv_wide_src`;
    intoPg = await restore(from, PG_URL, 'tv_wide_back', ['--create', '--batch-rows', '1000']);
    pgDiffering = await pgRows(
      'SELECT id FROM tv_wide_src a FULL JOIN tv_wide_back b USING (id) WHERE a.t IS DISTINCT FROM b.t OR a.b IS DISTINCT FROM b.b',
    );
    intoMysql = await restore(from, MYSQL_URL, 'tv_wide_back', ['--create', '--batch-rows', '1000']);
    src = await pgRows("SELECT id::text AS id, t, encode(b, 'hex') AS b FROM tv_wide_src ORDER BY id");
    my = await mysqlRows('SELECT CAST(id AS CHAR) AS id, t, LOWER(HEX(b)) AS b FROM tv_wide_back ORDER BY id');
  });

  it('the export succeeds', () => {
    expect(ex.code).toBe(0);
  });

  it('into PostgreSQL every row and value arrives unchanged', () => {
    expect(jsonSummary<RestoreSummary>(intoPg).rows).toBe(5000);
    expect(pgDiffering).toEqual([]);
  });

  it('into MySQL every row and value arrives unchanged', () => {
    expect(jsonSummary<RestoreSummary>(intoMysql).rows).toBe(5000);
    expect(my).toEqual(src);
  });
});
