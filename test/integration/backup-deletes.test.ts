import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { backup, resetState, strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import { readParquetRows } from '../helpers/duckdb.js';

interface TableSummary {
  table: string;
  status: string;
  rows: number;
  files: number;
  error?: string;
  deletedKeys?: number;
  runId?: string;
  watermarkBefore: string[] | null;
  watermarkAfter: string[] | null;
}

const engines = [
  {
    name: 'PostgreSQL',
    engine: 'pg' as const,
    url: PG_URL,
    table: 'public.tv_del',
    run: (sql: string) => withPg((c) => c.query(sql)).then(() => undefined),
    rows: (t: string) =>
      withPg(async (c) =>
        (await c.query(`SELECT id || '/' || k || '/' || v AS r FROM ${t}`)).rows.map((x: { r: string }) => x.r).sort(),
      ),
    setup: `DROP TABLE IF EXISTS tv_del; CREATE TABLE tv_del (id int, k text, v text, updated_at timestamp(6) NOT NULL, PRIMARY KEY (id, k));
      INSERT INTO tv_del SELECT g, 'k' || (g % 3), 'v' || g, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, 3000) g;`,
    now: (n: number) => `timestamp '2025-02-0${n}'`,
  },
  {
    name: 'MySQL',
    engine: 'mysql' as const,
    url: MYSQL_URL,
    table: `${MYSQL_DB}.tv_del`,
    run: (sql: string) => withMysql((c) => c.query(sql)).then(() => undefined),
    rows: (t: string) =>
      withMysql(async (c) =>
        ((await c.query(`SELECT CONCAT(id, '/', k, '/', v) AS r FROM ${t}`))[0] as Array<{ r: string }>)
          .map((x) => x.r)
          .sort(),
      ),
    setup: `DROP TABLE IF EXISTS tv_del; CREATE TABLE tv_del (id INT, k VARCHAR(8), v VARCHAR(40), updated_at DATETIME(6) NOT NULL, PRIMARY KEY (id, k));
      INSERT INTO tv_del SELECT seq, CONCAT('k', seq % 3), CONCAT('v', seq), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_3000;`,
    now: (n: number) => `TIMESTAMP '2025-02-0${n} 00:00:00'`,
  },
];

const statements = (sql: string) =>
  sql
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);

describe.each(engines)('backup: deleted keys ($name)', (e) => {
  const exec = async (sql: string) => {
    for (const s of statements(sql)) await e.run(s);
  };
  const yaml =
    (extra = '') =>
    (dest: string) =>
      `source: ${e.url}\ndestination: ${dest}\ntables:\n  - table: ${e.table}\n    strategy: incremental\n    cursor: updated_at\n    file_max_rows: 1000\n${extra}`;
  const table = (r: CliResult) => jsonSummary<{ tables: TableSummary[] }>(r).tables[0]!;
  const tombstones = (dir: string) => {
    const d = join(dir, e.table, '_deletes');
    return existsSync(d) ? readdirSync(d).map((f) => join(d, f)) : [];
  };
  const manifest = (dir: string) =>
    JSON.parse(readFileSync(join(dir, e.table, '_manifest.json'), 'utf8')) as {
      files: Array<{ name: string; kind?: string; rows: number }>;
    };

  describe('rows deleted between runs', () => {
    let dir: string;
    let second: CliResult;
    let idle: CliResult;
    let reinsert: CliResult;
    let verify: CliResult;
    let keys: string[];
    let restored: { result: CliResult; rows: string[]; source: string[] };
    let asOfBackfill: { result: CliResult; rows: number };
    beforeAll(async () => {
      await resetState(e.engine);
      await exec(e.setup);
      const s = strategyFile(yaml());
      dir = s.dir;
      const backfill = await backup(s.file, ['--json']);
      // deleted: 10 keys; updated and inserted rows around them, which are not deletions
      await exec(`DELETE FROM tv_del WHERE id BETWEEN 100 AND 109; UPDATE tv_del SET v = 'u', updated_at = ${e.now(1)} WHERE id BETWEEN 200 AND 220;
        INSERT INTO tv_del (id, k, v, updated_at) VALUES (5001, 'k1', 'n', ${e.now(1)}), (5002, 'k2', 'n', ${e.now(1)})`);
      second = await backup(s.file, ['--json']);
      keys = (await readParquetRows(tombstones(dir))).map((r) => `${String(r.id)}/${String(r.k)}`).sort();
      verify = await runCli([
        'verify',
        '--source',
        e.url,
        '--table',
        e.table,
        '--dest',
        pathToFileURL(join(s.dir, e.table)).href,
        '--json',
      ]);
      const from = pathToFileURL(join(s.dir, e.table)).href;
      await exec('DROP TABLE IF EXISTS tv_del_back; DROP TABLE IF EXISTS tv_del_asof');
      const result = await runCli(['restore', from, '--target', e.url, '--table', 'tv_del_back', '--create', '--json']);
      restored = { result, rows: result.code === 0 ? await e.rows('tv_del_back') : [], source: await e.rows('tv_del') };
      const runId = table(backfill).runId!;
      const asOf = await runCli([
        'restore',
        from,
        '--target',
        e.url,
        '--table',
        'tv_del_asof',
        '--create',
        '--as-of',
        runId,
        '--json',
      ]);
      asOfBackfill = { result: asOf, rows: asOf.code === 0 ? (await e.rows('tv_del_asof')).length : 0 };
      await exec('DROP TABLE IF EXISTS tv_del_back; DROP TABLE IF EXISTS tv_del_asof');
      idle = await backup(s.file, ['--json']);
      // deleted and inserted again with the same key: not a deletion
      await exec(
        `DELETE FROM tv_del WHERE id = 300; INSERT INTO tv_del (id, k, v, updated_at) VALUES (300, 'k0', 'again', ${e.now(2)})`,
      );
      reinsert = await backup(s.file, ['--json']);
    });

    it('the run counts the deleted keys it recorded', () => {
      expect(table(second)).toMatchObject({ status: 'ok', deletedKeys: 10 });
    });

    it('the tombstone object holds exactly the deleted keys, key columns only', () => {
      expect(keys).toEqual(Array.from({ length: 10 }, (_, i) => `${100 + i}/k${(100 + i) % 3}`).sort());
    });

    it('the manifest names the tombstone object as deletes, after the objects it deletes from', () => {
      const files = manifest(dir).files;
      const del = files.findIndex((f) => f.kind === 'deletes');
      expect(files[del]).toMatchObject({ name: '_deletes/del-00000003.deletes', rows: 10 });
      expect(files.slice(0, del).every((f) => f.kind === undefined)).toBe(true);
    });

    it('the updated and inserted rows of the same run are backed up as usual', () => {
      expect(table(second).rows).toBe(23);
    });

    it('verify finds the backup equal to the source, the deleted keys applied', () => {
      expect(jsonSummary<{ tables: unknown[] }>(verify).tables[0]).toMatchObject({
        equal: true,
        notInSource: { count: 0 },
      });
    });

    it('a restore of the latest run leaves the deleted keys out: it equals the source', () => {
      expect(restored.result.code).toBe(0);
      expect(restored.rows).toEqual(restored.source);
    });

    it('a restore as of the run before the deletions still has those keys', () => {
      expect(asOfBackfill.result.code).toBe(0);
      expect(asOfBackfill.rows).toBe(3000);
    });

    it('a run with nothing deleted records no tombstone', () => {
      expect(table(idle)).toMatchObject({ status: 'ok', deletedKeys: 0, files: 0 });
    });

    it('a key deleted and inserted again is not recorded as deleted', () => {
      expect(table(reinsert)).toMatchObject({ status: 'ok', deletedKeys: 0, rows: 1 });
      expect(tombstones(dir)).toHaveLength(1);
    });
  });

  describe('the guard: the source lost most of its rows', () => {
    let dir: string;
    let refused: CliResult;
    let confirmed: CliResult;
    let afterRefusal: { files: number; watermark: unknown; tombstones: string[] };
    let before: { files: number; watermark: unknown; tombstones: string[] };
    beforeAll(async () => {
      await resetState(e.engine);
      await exec(e.setup);
      const s = strategyFile(yaml());
      dir = s.dir;
      await backup(s.file, ['--json']);
      const m = manifest(dir);
      before = { files: m.files.length, watermark: (m as unknown as { watermark: unknown }).watermark, tombstones: [] };
      await exec('DELETE FROM tv_del WHERE id > 100');
      refused = await backup(s.file, ['--json']);
      const after = manifest(dir);
      afterRefusal = {
        files: after.files.length,
        watermark: (after as unknown as { watermark: unknown }).watermark,
        tombstones: tombstones(dir),
      };
      confirmed = await backup(s.file, ['--json', '--confirm-deletes', e.table]);
    });

    it('a run that would record more than max_delete_fraction fails the table and says how to confirm', () => {
      const t = (JSON.parse(refused.stdout) as { tables: TableSummary[] }).tables[0]!;
      expect(refused.code).toBe(1);
      expect(t.status).toBe('failed');
      expect(t.error).toMatch(
        new RegExp(
          `2900 of its 3000 backed-up rows .*max_delete_fraction \\(0\\.5\\).*--confirm-deletes ${e.table.replace('.', '\\.')}`,
        ),
      );
    });

    it('a refused run records no tombstone and leaves the watermark', () => {
      expect(afterRefusal).toEqual(before);
    });

    it('--confirm-deletes records them', () => {
      expect(table(confirmed)).toMatchObject({ status: 'ok', deletedKeys: 2900 });
      expect(tombstones(dir)).toHaveLength(1);
    });
  });

  it('delete_check_every: 3 looks on every third run of the table only', async () => {
    await resetState(e.engine);
    await exec(e.setup);
    const s = strategyFile(yaml('    delete_check_every: 3\n'));
    await backup(s.file, ['--json']);
    await exec('DELETE FROM tv_del WHERE id < 50');
    const second = table(await backup(s.file, ['--json']));
    const third = table(await backup(s.file, ['--json']));
    expect([second.deletedKeys, third.deletedKeys]).toEqual([undefined, 49]);
  });

  it('deletes: ignore looks for none', async () => {
    await resetState(e.engine);
    await exec(e.setup);
    const s = strategyFile(yaml('    deletes: ignore\n'));
    await backup(s.file, ['--json']);
    await exec('DELETE FROM tv_del WHERE id < 50');
    const r = await backup(s.file, ['--json']);
    expect(table(r).status).toBe('ok');
    expect(table(r).deletedKeys).toBeUndefined();
    expect(tombstones(s.dir)).toEqual([]);
  });
});
