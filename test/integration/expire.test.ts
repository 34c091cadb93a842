import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup, strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withDatabase, withMysql, withPg } from '../helpers/db.js';

/**
 * Retention end to end on real servers (issue 19): runs compacted every 3, keep_runs 3, expired
 * after each run by backup itself; the runs kept restore as the source was, the expired ones are
 * refused naming the oldest kept run, only what no kept run reads is deleted, status tells what
 * is held, --dry-run changes nothing, and an expire killed at each of its steps is finished
 * exactly by the next.
 */

type Row = Record<string, string | null>;
const STATE_DB = 'tv_expire_state';

const engines = [
  {
    name: 'PostgreSQL',
    url: PG_URL,
    table: 'public.tv_expire',
    sql: (q: string) => withPg(async (c) => (await c.query(q)).rows as Array<Record<string, unknown>>),
    freshState: () =>
      withPg(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${STATE_DB}`);
      }),
    setup: `DROP TABLE IF EXISTS tv_expire, tv_expire_r;
      CREATE TABLE tv_expire (id int PRIMARY KEY, v text, updated_at timestamp(6) NOT NULL);
      INSERT INTO tv_expire SELECT g, 'v' || g, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, 300) g`,
    change: (
      run: number,
    ) => `UPDATE tv_expire SET v = 'run${run}', updated_at = timestamp '2025-01-01' + interval '${run} day' + id * interval '1 microsecond' WHERE id % 7 = ${run % 7};
      DELETE FROM tv_expire WHERE id IN (${run * 11}, ${run * 13});
      INSERT INTO tv_expire VALUES (${1000 + run}, 'new', timestamp '2025-01-01' + interval '${run} day 1 hour')`,
    restored: 'public.tv_expire_r',
    drop: 'DROP TABLE IF EXISTS tv_expire, tv_expire_r',
  },
  {
    name: 'MariaDB',
    url: MYSQL_URL,
    table: `${MYSQL_DB}.tv_expire`,
    sql: (q: string) => withMysql(async (c) => (await c.query(q))[0] as Array<Record<string, unknown>>),
    freshState: () =>
      withMysql(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${STATE_DB}`);
        await c.query(`CREATE DATABASE ${STATE_DB}`);
      }),
    setup: `DROP TABLE IF EXISTS tv_expire, tv_expire_r;
      CREATE TABLE tv_expire (id INT PRIMARY KEY, v VARCHAR(40), updated_at DATETIME(6) NOT NULL);
      INSERT INTO tv_expire SELECT seq, CONCAT('v', seq), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_300`,
    change: (
      run: number,
    ) => `UPDATE tv_expire SET v = 'run${run}', updated_at = TIMESTAMP '2025-01-01 00:00:00' + INTERVAL ${run} DAY + INTERVAL id MICROSECOND WHERE id % 7 = ${run % 7};
      DELETE FROM tv_expire WHERE id IN (${run * 11}, ${run * 13});
      INSERT INTO tv_expire VALUES (${1000 + run}, 'new', TIMESTAMP '2025-01-01 01:00:00' + INTERVAL ${run} DAY)`,
    restored: `${MYSQL_DB}.tv_expire_r`,
    drop: 'DROP TABLE IF EXISTS tv_expire, tv_expire_r',
  },
];

const text = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

interface Manifest {
  files: Array<{ name: string; runId: string }>;
  generations?: Array<{ id: number; files: Array<{ name: string }> }>;
  keptFrom?: { runId: string };
}
interface StatusJson {
  tables: Array<{
    history: { generations: number; runsKept: number; oldestRun: { runId: string }; objects: number; bytes: number };
  }>;
}
interface ExpireJson {
  tables: Array<{
    status: string;
    targets: Array<{ status: string; runsKept: number; runsExpired: number; objects: number; keys: string[] }>;
  }>;
}

describe.each(engines)('expire ($name)', (e) => {
  const yaml = (retention: string) => (dest: string) => `source: ${e.url}
state: ${withDatabase(e.url, STATE_DB)}
destination: ${dest}
defaults: { compact_every: 3, retention: ${retention} }
tables:
  - table: ${e.table}
    strategy: incremental
    cursor: updated_at
`;
  const { file, dir } = strategyFile(yaml('{ keep_runs: 3 }'));
  const folder = join(dir, e.table);
  const from = new URL(`file://${folder}`).href;
  const manifest = () => JSON.parse(readFileSync(join(folder, '_manifest.json'), 'utf8')) as Manifest;
  const listedNames = (m = manifest()) => [
    ...m.files.map((f) => f.name),
    ...(m.generations ?? []).flatMap((g) => g.files.map((f) => f.name)),
  ];
  const objectsThere = (): string[] => {
    const out: string[] = [];
    const walk = (d: string) => {
      for (const n of readdirSync(d, { withFileTypes: true }))
        if (n.isDirectory()) walk(join(d, n.name));
        else if (!n.name.startsWith('.') && n.name !== '_manifest.json') out.push(relative(folder, join(d, n.name)));
    };
    walk(folder);
    return out.sort();
  };
  const rowsOf = async (table: string) =>
    (await e.sql(`SELECT id, v, updated_at FROM ${table} ORDER BY id`)).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])),
    ) as Row[];
  const restore = async (asOf?: string) => {
    await e.sql(`DROP TABLE IF EXISTS ${e.restored}`);
    return runCli([
      'restore',
      from,
      '--target',
      e.url,
      '--table',
      e.restored,
      '--create',
      '--json',
      ...(asOf ? ['--as-of', asOf] : []),
    ]);
  };
  const backupRun = async (run: number): Promise<string> => {
    await e.sql(e.change(run));
    const s = jsonSummary<{ tables: Array<{ status: string; error?: string; runId: string }> }>(
      await backup(file, ['--json']),
    );
    expect(s.tables[0]!.status, s.tables[0]!.error).toBe('ok');
    source.set(s.tables[0]!.runId, await rowsOf(e.table));
    return s.tables[0]!.runId;
  };

  /** Run id → the source's rows right after it. */
  const source = new Map<string, Row[]>();
  const runs: string[] = [];

  beforeAll(async () => {
    await e.freshState();
    await e.sql(e.setup);
    for (let run = 1; run <= 8; run++) runs.push(await backupRun(run));
  }, 240_000);

  it('keeps the newest 3 runs restorable, each as the source was after it', async () => {
    expect(manifest().keptFrom?.runId).toBe(runs[5]);
    for (const r of runs.slice(5)) {
      expect((await restore(r)).code, `--as-of ${r}`).toBe(0);
      expect(await rowsOf(e.restored), `--as-of ${r}`).toEqual(source.get(r));
    }
  }, 120_000);

  it('restores the latest state equal to the source', async () => {
    expect((await restore()).code).toBe(0);
    expect(await rowsOf(e.restored)).toEqual(await rowsOf(e.table));
  });

  it('refuses --as-of an expired run with exit 2, naming the oldest kept run', async () => {
    for (const r of [runs[0]!, runs[4]!]) {
      const out = await restore(r);
      expect(out.code, `--as-of ${r}`).toBe(2);
      expect(out.stderr).toContain(`the oldest kept run is ${runs[5]}`);
    }
  });

  it('holds exactly the objects its manifest lists: what only expired runs read is deleted', () => {
    const names = listedNames();
    expect(objectsThere()).toEqual([...names].sort());
    // run 6 starts at the generation after run 6 (compact_every 3): runs 1-6's own objects are gone
    expect(manifest().generations!.map((g) => g.id)).toEqual([2]);
  });

  it('shows in status the generations, runs kept, oldest restorable run, objects and bytes held', async () => {
    const s = jsonSummary<{
      tables: Array<{
        history: {
          generations: number;
          runsKept: number;
          oldestRun: { runId: string };
          objects: number;
          bytes: number;
        };
      }>;
    }>(await runCli(['status', file, '--json']));
    const h = s.tables[0]!.history;
    expect(h).toMatchObject({ generations: 1, runsKept: 3, oldestRun: { runId: runs[5] } });
    expect(h.objects).toBe(listedNames().length);
    expect(h.bytes).toBeGreaterThan(0);
  });

  it('with --dry-run names what it would delete and changes nothing', async () => {
    // a generation at the latest run: keeping only it leaves the one before it and the runs between unread
    expect((await runCli(['compact', file])).code).toBe(0);
    writeFileSync(file, yaml('{ keep_runs: 1 }')(new URL(`file://${dir}`).href));
    const before = objectsThere();
    const m = manifest();
    const s = jsonSummary<ExpireJson>(await runCli(['expire', file, '--dry-run', '--json']));
    const t = s.tables[0]!.targets[0]!;
    expect(t.runsExpired).toBe(2);
    expect(t.objects).toBeGreaterThan(0);
    expect(objectsThere()).toEqual(before);
    expect(manifest()).toEqual(m);
    writeFileSync(file, yaml('{ keep_runs: 3 }')(new URL(`file://${dir}`).href));
  });

  it('is finished exactly by a rerun after a SIGKILL at each of its steps', async () => {
    // compacted after every run from here: each expire below has objects to delete
    writeFileSync(
      file,
      yaml('{ keep_runs: 3 }')(new URL(`file://${dir}`).href).replace('compact_every: 3', 'compact_every: 1'),
    );
    let run = 9;
    for (const point of ['expire-committed', 'expire-manifest', 'expire-delete']) {
      await e.sql(e.change(run));
      const killed = await backup(file, ['--json'], { TABLEVAULT_TEST_KILL_AT: `${point}:1` });
      expect(killed.signal, point).toBe('SIGKILL');
      // the manifest never names an object that is not there
      for (const n of listedNames()) expect(existsSync(join(folder, n)), `${point}: ${n}`).toBe(true);
      expect((await runCli(['expire', file])).code, point).toBe(0);
      expect(objectsThere(), point).toEqual(listedNames().sort());
      const st = jsonSummary<StatusJson>(await runCli(['status', file, '--json'])).tables[0]!.history;
      expect(st.runsKept, point).toBe(3);
      expect(manifest().keptFrom?.runId, point).toBe(st.oldestRun.runId);
      run++;
    }
    expect((await restore()).code).toBe(0);
    expect(await rowsOf(e.restored)).toEqual(await rowsOf(e.table));
  }, 180_000);

  afterAll(async () => {
    await e.sql(e.drop);
  });
});
