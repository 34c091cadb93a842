import { beforeEach, describe, expect, it } from 'vitest';
import { backup, backedUpRows, latestPerKey, resetState, strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli } from '../helpers/cli.js';
import { MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';

interface Summary { tables: Array<{ table: string; status: string; rows: number; files: number; watermarkBefore: string[] | null; watermarkAfter: string[] | null }> }

const engines = [
  {
    name: 'PostgreSQL', engine: 'pg' as const, url: PG_URL, table: 'public.tv_inc',
    setup: () => withPg((c) => c.query(`DROP TABLE IF EXISTS tv_inc; CREATE TABLE tv_inc (id int PRIMARY KEY, v text, updated_at timestamp(6) NOT NULL);
      INSERT INTO tv_inc SELECT g, 'v' || g, timestamp '2024-01-01' + (g / 7) * interval '1.000001 second' FROM generate_series(1, 2000) g;`)),
    change: (n: number) => withPg((c) => c.query(`UPDATE tv_inc SET v = 'run${n}-' || id, updated_at = timestamp '2025-01-0${n}' + id * interval '1 microsecond' WHERE id % 97 = ${n};
      INSERT INTO tv_inc SELECT g, 'new${n}', timestamp '2025-01-0${n}' FROM generate_series(${2000 + n * 100}, ${2000 + n * 100 + 49}) g;`)),
    source: () => withPg(async (c) => (await c.query(`SELECT id, v, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS.US') AS updated_at FROM tv_inc`)).rows as Array<{ id: number; v: string; updated_at: string }>),
  },
  {
    name: 'MySQL', engine: 'mysql' as const, url: MYSQL_URL, table: 'test.tv_inc',
    setup: () => withMysql((c) => c.query(`DROP TABLE IF EXISTS tv_inc; CREATE TABLE tv_inc (id INT PRIMARY KEY, v VARCHAR(40), updated_at DATETIME(6) NOT NULL);
      INSERT INTO tv_inc SELECT seq, CONCAT('v', seq), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (seq DIV 7) * 1000001 MICROSECOND FROM seq_1_to_2000;`)),
    change: (n: number) => withMysql((c) => c.query(`UPDATE tv_inc SET v = CONCAT('run${n}-', id), updated_at = TIMESTAMP '2025-01-0${n} 00:00:00' + INTERVAL id MICROSECOND WHERE id % 97 = ${n};
      INSERT INTO tv_inc SELECT seq, 'new${n}', TIMESTAMP '2025-01-0${n} 00:00:00' FROM seq_${2000 + n * 100}_to_${2000 + n * 100 + 49};`)),
    source: async () => withMysql(async (c) => (await c.query(`SELECT id, v, DATE_FORMAT(updated_at, '%Y-%m-%d %H:%i:%s.%f') AS updated_at FROM tv_inc`))[0] as Array<{ id: number; v: string; updated_at: string }>),
  },
];

describe.each(engines)('backup: incremental ($name)', (e) => {
  beforeEach(async () => { await resetState(e.engine); await e.setup(); });

  const yaml = (extra = '') => (dest: string) => `source: ${e.url}\ndestination: ${dest}\ntables:\n  - table: ${e.table}\n    strategy: incremental\n    cursor: updated_at\n    file_max_rows: 450\n    batch_rows: 100\n${extra}`;
  const tableDir = e.engine === 'pg' ? 'public.tv_inc' : 'test.tv_inc';

  /** After each run the latest version per key across all objects equals the source, and no version is there twice. */
  async function expectExact(dir: string) {
    const rows = await backedUpRows(dir, tableDir);
    const versions = rows.map((r) => `${String(r.id)}@${String(r.updated_at)}`);
    expect(new Set(versions).size, 'a row version is in two objects').toBe(versions.length);
    const latest = latestPerKey(rows, 'id', 'updated_at');
    const source = await e.source();
    expect(latest.size).toBe(source.length);
    for (const s of source) {
      const got = latest.get(String(s.id));
      expect(got && [got.v, got.updated_at], `id ${s.id}`).toEqual([s.v, s.updated_at]);
    }
    return rows.length;
  }

  it('backfills, then each run moves only what changed; the latest version per key equals the source', async () => {
    const { file, dir } = strategyFile(yaml());
    const first = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(first.tables[0]).toMatchObject({ status: 'ok', rows: 2000, files: 5, watermarkBefore: null });
    await expectExact(dir);
    let total = 2000;
    let watermark = first.tables[0]!.watermarkAfter;
    for (const n of [1, 2, 3]) {
      await e.change(n);
      const s = jsonSummary<Summary>(await backup(file, ['--json']));
      // exactly the rows this change touched: their cursor is on 2025-01-0n
      const touched = (await e.source()).filter((r) => r.updated_at.startsWith(`2025-01-0${n}`)).length;
      expect(touched).toBeGreaterThan(50);
      expect(s.tables[0]!.rows).toBe(touched);
      expect(s.tables[0]!.watermarkBefore).toEqual(watermark);
      expect(s.tables[0]!.watermarkAfter![0]).toMatch(new RegExp(`^2025-01-0${n}`));
      watermark = s.tables[0]!.watermarkAfter;
      total += s.tables[0]!.rows;
      expect(await expectExact(dir)).toBe(total);
    }
    const idle = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(idle.tables[0]).toMatchObject({ status: 'ok', rows: 0, files: 0 });
    const status = JSON.parse((await runCli(['status', file, '--json'])).stdout) as { tables: Array<{ rows: number; files: number; lastRun: { status: string } }> };
    expect(status.tables[0]).toMatchObject({ rows: total, lastRun: { status: 'ok' } });
  });

  it('rows sharing one cursor value across batch and file boundaries: none lost, none doubled', async () => {
    if (e.engine === 'pg') await withPg((c) => c.query(`UPDATE tv_inc SET updated_at = timestamp '2024-06-01 12:00:00.123456' WHERE id BETWEEN 300 AND 1700`));
    else await withMysql((c) => c.query(`UPDATE tv_inc SET updated_at = TIMESTAMP '2024-06-01 12:00:00.123456' WHERE id BETWEEN 300 AND 1700`));
    const { file, dir } = strategyFile(yaml());
    const s = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(s.tables[0]!.rows).toBe(2000);
    expect(await expectExact(dir)).toBe(2000);
  });

  it.each([
    ['after-upload:1', ''], ['after-upload:3', ''], ['after-commit:2', ''], ['after-upload:2', '    lag: 10m\n'],
  ])('killed with SIGKILL at %s, then rerun: exact %s', async (point, extra) => {
    const { file, dir } = strategyFile(yaml(extra));
    const killed = await backup(file, [], { TABLEVAULT_TEST_KILL_AT: point });
    expect(killed.signal).toBe('SIGKILL');
    await e.change(1);
    const again = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(again.tables[0]!.status).toBe('ok');
    await expectExact(dir);
    // and a third run after more changes still converges
    await e.change(2);
    jsonSummary<Summary>(await backup(file, ['--json']));
    await expectExact(dir);
  });

  it('two backups at once: the table is backed up once, the other run reports it busy', async () => {
    const { file, dir } = strategyFile(yaml());
    const [a, b] = await Promise.all([
      backup(file, ['--json'], { TABLEVAULT_TEST_PAUSE_AT: 'after-upload:1500' }),
      new Promise((r) => setTimeout(r, 700)).then(() => backup(file, ['--json'])),
    ]);
    const statuses = [jsonSummary<Summary>(a).tables[0]!.status, jsonSummary<Summary>(b).tables[0]!.status].sort();
    expect(statuses).toEqual(['busy', 'ok']);
    expect(await expectExact(dir)).toBe(2000);
  });

  it('lag: a row committed late with a cursor older than the watermark is picked up when within lag, never twice', async () => {
    const { file, dir } = strategyFile(yaml('    lag: 10m\n'));
    const first = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(first.tables[0]!.rows).toBe(2000);
    const wm = first.tables[0]!.watermarkAfter!;
    // late: cursor 2 minutes before the watermark (inside the window); too late: 1 hour before
    if (e.engine === 'pg') {
      await withPg((c) => c.query(`INSERT INTO tv_inc VALUES (5000, 'late', timestamp '2024-01-01 00:02:00.5'), (5001, 'too late', timestamp '2023-12-31 23:00:00')`));
    } else {
      await withMysql((c) => c.query(`INSERT INTO tv_inc VALUES (5000, 'late', '2024-01-01 00:02:00.5'), (5001, 'too late', '2023-12-31 23:00:00')`));
    }
    const second = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(second.tables[0]).toMatchObject({ rows: 1, files: 1, watermarkBefore: wm, watermarkAfter: wm });
    const rows = await backedUpRows(dir, tableDir);
    expect(rows.filter((r) => Number(r.id) >= 5000).map((r) => [Number(r.id), r.v])).toEqual([[5000, 'late']]);
    const third = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(third.tables[0]).toMatchObject({ rows: 0, files: 0 });
    await e.change(1);
    const fourth = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(fourth.tables[0]!.rows).toBeGreaterThan(50);
    const all = await backedUpRows(dir, tableDir);
    const versions = all.map((r) => `${String(r.id)}@${String(r.updated_at)}`);
    expect(new Set(versions).size).toBe(versions.length);
    expect(all.length).toBe(2000 + 1 + fourth.tables[0]!.rows);
  });
});

describe('backup: incremental over a binary primary key (MySQL)', () => {
  it('keeps the watermark exact for keys that are not UTF-8 (BINARY(16) ids)', async () => {
    await resetState('mysql');
    // ids with bytes 0x80-0xff (not valid UTF-8); 50 rows per cursor value, so the binary key decides order at every boundary
    await withMysql((c) => c.query(`DROP TABLE IF EXISTS tv_binpk; CREATE TABLE tv_binpk (id BINARY(16) PRIMARY KEY, n INT NOT NULL, v INT NOT NULL);
      INSERT INTO tv_binpk SELECT UNHEX(CONCAT(LPAD(HEX(255 - seq % 256), 2, '0'), LEFT(MD5(seq), 30))) , seq DIV 50, seq FROM seq_1_to_600;`));
    const { file, dir } = strategyFile((d) => `source: ${MYSQL_URL}\ndestination: ${d}\ntables:\n  - table: test.tv_binpk\n    strategy: incremental\n    cursor: n\n    file_max_rows: 70\n    batch_rows: 30\n`);
    const first = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(first.tables[0]).toMatchObject({ status: 'ok', rows: 600, files: 9 });
    expect(first.tables[0]!.watermarkAfter![1]).toMatch(/^[0-9a-f]{32}$/);
    await withMysql((c) => c.query(`INSERT INTO tv_binpk SELECT UNHEX(CONCAT(LPAD(HEX(255 - seq % 256), 2, '0'), LEFT(MD5(seq), 30))), 13, seq FROM seq_601_to_650`));
    const second = jsonSummary<Summary>(await backup(file, ['--json']));
    expect(second.tables[0]!.rows).toBe(50);
    const rows = await backedUpRows(dir, 'test.tv_binpk');
    const ids = rows.map((r) => Buffer.from(r.id as Uint8Array).toString('hex'));
    expect(new Set(ids).size).toBe(650);
    const source = await withMysql(async (c) => (await c.query('SELECT LOWER(HEX(id)) AS id FROM tv_binpk'))[0] as Array<{ id: string }>);
    expect(ids.sort()).toEqual(source.map((r) => r.id).sort());
  });
});
