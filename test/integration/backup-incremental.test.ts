import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backup, backedUpRows, latestPerKey, resetState, strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';

interface Summary {
  tables: Array<{
    table: string;
    status: string;
    rows: number;
    files: number;
    watermarkBefore: string[] | null;
    watermarkAfter: string[] | null;
  }>;
}

const engines = [
  {
    name: 'PostgreSQL',
    engine: 'pg' as const,
    url: PG_URL,
    table: 'public.tv_inc',
    setup: () =>
      withPg((c) =>
        c.query(`DROP TABLE IF EXISTS tv_inc; CREATE TABLE tv_inc (id int PRIMARY KEY, v text, updated_at timestamp(6) NOT NULL);
      INSERT INTO tv_inc SELECT g, 'v' || g, timestamp '2024-01-01' + (g / 7) * interval '1.000001 second' FROM generate_series(1, 2000) g;`),
      ),
    change: (n: number) =>
      withPg((c) =>
        c.query(`UPDATE tv_inc SET v = 'run${n}-' || id, updated_at = timestamp '2025-01-0${n}' + id * interval '1 microsecond' WHERE id % 97 = ${n};
      INSERT INTO tv_inc SELECT g, 'new${n}', timestamp '2025-01-0${n}' FROM generate_series(${2000 + n * 100}, ${2000 + n * 100 + 49}) g;`),
      ),
    source: () =>
      withPg(
        async (c) =>
          (await c.query(`SELECT id, v, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US') AS updated_at FROM tv_inc`))
            .rows as Array<{ id: number; v: string; updated_at: string }>,
      ),
  },
  {
    name: 'MySQL',
    engine: 'mysql' as const,
    url: MYSQL_URL,
    table: `${MYSQL_DB}.tv_inc`,
    setup: () =>
      withMysql((c) =>
        c.query(`DROP TABLE IF EXISTS tv_inc; CREATE TABLE tv_inc (id INT PRIMARY KEY, v VARCHAR(40), updated_at DATETIME(6) NOT NULL);
      INSERT INTO tv_inc SELECT seq, CONCAT('v', seq), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (seq DIV 7) * 1000001 MICROSECOND FROM seq_1_to_2000;`),
      ),
    change: (n: number) =>
      withMysql((c) =>
        c.query(`UPDATE tv_inc SET v = CONCAT('run${n}-', id), updated_at = TIMESTAMP '2025-01-0${n} 00:00:00' + INTERVAL id MICROSECOND WHERE id % 97 = ${n};
      INSERT INTO tv_inc SELECT seq, 'new${n}', TIMESTAMP '2025-01-0${n} 00:00:00' FROM seq_${2000 + n * 100}_to_${2000 + n * 100 + 49};`),
      ),
    source: async () =>
      withMysql(
        async (c) =>
          (
            await c.query(`SELECT id, v, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f') AS updated_at FROM tv_inc`)
          )[0] as Array<{ id: number; v: string; updated_at: string }>,
      ),
  },
];

type SourceRow = { id: number; v: string; updated_at: string };

/** The backed-up rows and the source's rows at one moment of a scenario, to check exactness later. */
interface Exactness {
  rows: Array<Record<string, unknown>>;
  source: SourceRow[];
}

/** After a run, the latest version per key across all objects equals the source, and no version is there twice. */
function expectExact(x: Exactness): number {
  const versions = x.rows.map((r) => `${String(r.id)}@${String(r.updated_at)}`);
  expect(new Set(versions).size, 'a row version is in two objects').toBe(versions.length);
  const latest = latestPerKey(x.rows, 'id', 'updated_at');
  expect(latest.size).toBe(x.source.length);
  for (const s of x.source) {
    const got = latest.get(String(s.id));
    expect(got && [got.v, got.updated_at], `id ${s.id}`).toEqual([s.v, s.updated_at]);
  }
  return x.rows.length;
}

describe.each(engines)('backup: incremental ($name)', (e) => {
  const fresh = async () => {
    await resetState(e.engine);
    await e.setup();
  };

  const yaml =
    (extra = '') =>
    (dest: string) =>
      `source: ${e.url}\ndestination: ${dest}\ntables:\n  - table: ${e.table}\n    strategy: incremental\n    cursor: updated_at\n    file_max_rows: 450\n    batch_rows: 100\n${extra}`;
  const tableDir = e.engine === 'pg' ? 'public.tv_inc' : `${MYSQL_DB}.tv_inc`;
  const exactness = async (dir: string): Promise<Exactness> => ({
    rows: await backedUpRows(dir, tableDir),
    source: await e.source(),
  });

  describe('a backfill, then three runs after changes, then an idle run', () => {
    let first: CliResult;
    let firstExact: Exactness;
    const runs: Array<{ n: number; result: CliResult; touched: number; exact: Exactness }> = [];
    let idle: CliResult;
    let status: CliResult;
    beforeAll(async () => {
      await fresh();
      const { file, dir } = strategyFile(yaml());
      first = await backup(file, ['--json']);
      firstExact = await exactness(dir);
      for (const n of [1, 2, 3]) {
        await e.change(n);
        const result = await backup(file, ['--json']);
        // exactly the rows this change touched: their cursor is on 2025-01-0n
        const touched = (await e.source()).filter((r) => r.updated_at.startsWith(`2025-01-0${n}`)).length;
        runs.push({ n, result, touched, exact: await exactness(dir) });
      }
      idle = await backup(file, ['--json']);
      status = await runCli(['status', file, '--json']);
    });
    const table = (r: CliResult) => jsonSummary<Summary>(r).tables[0]!;
    /** rows backed up by the backfill and the changed runs up to n */
    const totalAfter = (n: number) => 2000 + runs.filter((r) => r.n <= n).reduce((t, r) => t + table(r.result).rows, 0);

    it('the backfill backs up every row, in five objects, from no watermark', () => {
      expect(table(first)).toMatchObject({ status: 'ok', rows: 2000, files: 5, watermarkBefore: null });
    });

    it('after the backfill the latest version per key equals the source', () => {
      expectExact(firstExact);
    });

    it.each([1, 2, 3])('run %i moves exactly the rows its change touched', (n) => {
      const r = runs[n - 1]!;
      expect(r.touched).toBeGreaterThan(50);
      expect(table(r.result).rows).toBe(r.touched);
    });

    it.each([1, 2, 3])('run %i starts at the watermark the run before ended at', (n) => {
      const before = n === 1 ? table(first).watermarkAfter : table(runs[n - 2]!.result).watermarkAfter;
      expect(table(runs[n - 1]!.result).watermarkBefore).toEqual(before);
    });

    it.each([1, 2, 3])('run %i ends its watermark at the newest change', (n) => {
      expect(table(runs[n - 1]!.result).watermarkAfter![0]).toMatch(new RegExp(`^2025-01-0${n}`));
    });

    it.each([1, 2, 3])(
      'after run %i the latest version per key equals the source, and every row moved is kept once',
      (n) => {
        expect(expectExact(runs[n - 1]!.exact)).toBe(totalAfter(n));
      },
    );

    it('an idle run moves nothing', () => {
      expect(table(idle)).toMatchObject({ status: 'ok', rows: 0, files: 0 });
    });

    it('status counts every row backed up and the last run as ok', () => {
      const st = JSON.parse(status.stdout) as {
        tables: Array<{ rows: number; files: number; lastRun: { status: string } }>;
      };
      expect(st.tables[0]).toMatchObject({ rows: totalAfter(3), lastRun: { status: 'ok' } });
    });
  });

  describe('rows sharing one cursor value across batch and file boundaries', () => {
    let result: CliResult;
    let exact: Exactness;
    beforeAll(async () => {
      await fresh();
      if (e.engine === 'pg')
        await withPg((c) =>
          c.query(
            `UPDATE tv_inc SET updated_at = timestamp '2024-06-01 12:00:00.123456' WHERE id BETWEEN 300 AND 1700`,
          ),
        );
      else
        await withMysql((c) =>
          c.query(
            `UPDATE tv_inc SET updated_at = TIMESTAMP '2024-06-01 12:00:00.123456' WHERE id BETWEEN 300 AND 1700`,
          ),
        );
      const { file, dir } = strategyFile(yaml());
      result = await backup(file, ['--json']);
      exact = await exactness(dir);
    });

    it('are all backed up', () => {
      expect(jsonSummary<Summary>(result).tables[0]!.rows).toBe(2000);
    });

    it('none lost, none doubled', () => {
      expect(expectExact(exact)).toBe(2000);
    });
  });

  describe.each([
    ['after-upload:1', ''],
    ['after-upload:3', ''],
    ['after-commit:2', ''],
    ['after-upload:2', '    lag: 10m\n'],
  ])('killed with SIGKILL at %s, then rerun %s', (point, extra) => {
    let killed: CliResult;
    let again: CliResult;
    let againExact: Exactness;
    let third: CliResult;
    let thirdExact: Exactness;
    beforeAll(async () => {
      await fresh();
      const { file, dir } = strategyFile(yaml(extra));
      killed = await backup(file, [], { TABLEVAULT_TEST_KILL_AT: point });
      await e.change(1);
      again = await backup(file, ['--json']);
      againExact = await exactness(dir);
      // and a third run after more changes still converges
      await e.change(2);
      third = await backup(file, ['--json']);
      thirdExact = await exactness(dir);
    });

    it('the backup dies by SIGKILL', () => {
      expect(killed.signal).toBe('SIGKILL');
    });

    it('the rerun succeeds', () => {
      expect(jsonSummary<Summary>(again).tables[0]!.status).toBe('ok');
    });

    it('after the rerun the latest version per key equals the source, no version twice', () => {
      expectExact(againExact);
    });

    it('a third run after more changes succeeds', () => {
      jsonSummary<Summary>(third);
    });

    it('after the third run the backup still equals the source', () => {
      expectExact(thirdExact);
    });
  });

  describe('two backups at once', () => {
    let a: CliResult;
    let b: CliResult;
    let exact: Exactness;
    beforeAll(async () => {
      await fresh();
      const { file, dir } = strategyFile(yaml());
      // the first pauses after each of its five objects; the second starts once the first object is
      // there, so while the first certainly holds the table (it has ~4 s of pauses left)
      const first = backup(file, ['--json'], { TABLEVAULT_TEST_PAUSE_AT: 'after-upload:800' });
      let firstDone = false;
      void first.finally(() => (firstDone = true)).catch(() => {});
      while (!firstDone && !existsSync(join(dir, tableDir, 'incr-00000001.parquet')))
        await new Promise((r) => setTimeout(r, 20));
      [a, b] = await Promise.all([first, backup(file, ['--json'])]);
      exact = await exactness(dir);
    });

    it('one backs the table up, the other reports it busy', () => {
      const statuses = [jsonSummary<Summary>(a).tables[0]!.status, jsonSummary<Summary>(b).tables[0]!.status].sort();
      expect(statuses).toEqual(['busy', 'ok']);
    });

    it('the table is backed up once', () => {
      expect(expectExact(exact)).toBe(2000);
    });
  });

  describe('lag: a row committed late with a cursor older than the watermark', () => {
    let first: CliResult;
    let second: CliResult;
    let lateRows: Array<Record<string, unknown>>;
    let third: CliResult;
    let fourth: CliResult;
    let all: Array<Record<string, unknown>>;
    beforeAll(async () => {
      await fresh();
      const { file, dir } = strategyFile(yaml('    lag: 10m\n'));
      first = await backup(file, ['--json']);
      // late: cursor 2 minutes before the watermark (inside the window); too late: 1 hour before
      if (e.engine === 'pg') {
        await withPg((c) =>
          c.query(
            `INSERT INTO tv_inc VALUES (5000, 'late', timestamp '2024-01-01 00:02:00.5'), (5001, 'too late', timestamp '2023-12-31 23:00:00')`,
          ),
        );
      } else {
        await withMysql((c) =>
          c.query(
            `INSERT INTO tv_inc VALUES (5000, 'late', '2024-01-01 00:02:00.5'), (5001, 'too late', '2023-12-31 23:00:00')`,
          ),
        );
      }
      second = await backup(file, ['--json']);
      lateRows = await backedUpRows(dir, tableDir);
      third = await backup(file, ['--json']);
      await e.change(1);
      fourth = await backup(file, ['--json']);
      all = await backedUpRows(dir, tableDir);
    });
    const table = (r: CliResult) => jsonSummary<Summary>(r).tables[0]!;

    it('the first run backs up every row', () => {
      expect(table(first).rows).toBe(2000);
    });

    it('the next run picks up the row within the lag, and leaves the watermark where it was', () => {
      const wm = table(first).watermarkAfter!;
      expect(table(second)).toMatchObject({ rows: 1, files: 1, watermarkBefore: wm, watermarkAfter: wm });
    });

    it('the row older than the lag window is not picked up', () => {
      expect(lateRows.filter((r) => Number(r.id) >= 5000).map((r) => [Number(r.id), r.v])).toEqual([[5000, 'late']]);
    });

    it('a run after that does not pick the late row up again', () => {
      expect(table(third)).toMatchObject({ rows: 0, files: 0 });
    });

    it('a run after more changes moves them', () => {
      expect(table(fourth).rows).toBeGreaterThan(50);
    });

    it('no row version is backed up twice across all the runs', () => {
      const versions = all.map((r) => `${String(r.id)}@${String(r.updated_at)}`);
      expect(new Set(versions).size).toBe(versions.length);
      expect(all.length).toBe(2000 + 1 + table(fourth).rows);
    });
  });
});

describe('backup: incremental over a binary primary key (MySQL)', () => {
  it('keeps the watermark exact for keys that are not UTF-8 (BINARY(16) ids)', async () => {
    await resetState('mysql');
    // ids with bytes 0x80-0xff (not valid UTF-8); 50 rows per cursor value, so the binary key decides order at every boundary
    await withMysql((c) =>
      c.query(`DROP TABLE IF EXISTS tv_binpk; CREATE TABLE tv_binpk (id BINARY(16) PRIMARY KEY, n INT NOT NULL, v INT NOT NULL);
      INSERT INTO tv_binpk SELECT UNHEX(CONCAT(LPAD(HEX(255 - seq % 256), 2, '0'), LEFT(MD5(seq), 30))) , seq DIV 50, seq FROM seq_1_to_600;`),
    );
    const { file, dir } = strategyFile(
      (d) =>
        `source: ${MYSQL_URL}\ndestination: ${d}\ntables:\n  - table: ${MYSQL_DB}.tv_binpk\n    strategy: incremental\n    cursor: n\n    file_max_rows: 70\n    batch_rows: 30\n`,
    );
    const first = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(first.tables[0]).toMatchObject({ status: 'ok', rows: 600, files: 9 });
    expect(first.tables[0]!.watermarkAfter![1]).toMatch(/^[0-9a-f]{32}$/);
    await withMysql((c) =>
      c.query(
        `INSERT INTO tv_binpk SELECT UNHEX(CONCAT(LPAD(HEX(255 - seq % 256), 2, '0'), LEFT(MD5(seq), 30))), 13, seq FROM seq_601_to_650`,
      ),
    );
    const second = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(second.tables[0]!.rows).toBe(50);
    const rows = await backedUpRows(dir, `${MYSQL_DB}.tv_binpk`);
    const ids = rows.map((r) => Buffer.from(r.id as Uint8Array).toString('hex'));
    expect(new Set(ids).size).toBe(650);
    const source = await withMysql(
      async (c) => (await c.query('SELECT LOWER(HEX(id)) AS id FROM tv_binpk'))[0] as Array<{ id: string }>,
    );
    expect(ids.sort()).toEqual(source.map((r) => r.id).sort());
  });
});
