import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { restoreTable, type RestoreSummary } from '../../src/restore/restore.js';
import { backup, strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { fixturePath, MYSQL_DB, MYSQL_URL, PG_URL, withDatabase, withMysql, withPg } from '../helpers/db.js';

/**
 * Compaction end to end on real servers: a table with several incremental runs (updates, inserts,
 * an added column), compacted, then more runs; every as-of point restores as it did before, the
 * latest state equals the source and reads the generation and the runs after it only, and a
 * compaction killed midway leaves the backup as it was and is cleaned up by the next.
 */

type Row = Record<string, string | null>;
const STATE_DB = 'tv_compact_state';

const engines = [
  {
    name: 'PostgreSQL',
    url: PG_URL,
    table: 'public.tv_compact',
    sql: (q: string) => withPg(async (c) => (await c.query(q)).rows as Array<Record<string, unknown>>),
    freshState: () =>
      withPg(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${STATE_DB} WITH (FORCE)`);
        await c.query(`CREATE DATABASE ${STATE_DB}`);
      }),
    setup: `DROP TABLE IF EXISTS tv_compact, tv_compact_r;
      CREATE TABLE tv_compact (id int PRIMARY KEY, v text, n int, updated_at timestamp(6) NOT NULL);
      INSERT INTO tv_compact (id, v, n, updated_at) SELECT g, 'v' || g, g % 10, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, 1500) g`,
    change: (run: number) => `UPDATE tv_compact SET v = 'run${run}-' || id, n = n + ${run},
        updated_at = timestamp '2025-01-0${run}' + id * interval '1 microsecond' WHERE id % ${run + 5} = 1;
      INSERT INTO tv_compact (id, v, n, updated_at) SELECT g, 'new${run}', ${run}, timestamp '2025-01-0${run} 12:00' + g * interval '1 microsecond'
        FROM generate_series(${1500 + run * 100}, ${1500 + run * 100 + 59}) g`,
    addColumn: `ALTER TABLE tv_compact ADD COLUMN note text;
      UPDATE tv_compact SET note = 'noted', updated_at = timestamp '2025-01-03 06:00' + id * interval '1 microsecond' WHERE id % 11 = 3`,
    dropRestored: 'DROP TABLE IF EXISTS tv_compact_r',
    restored: 'public.tv_compact_r',
    types: { fixture: 'pg-types.sql', table: 'public.tv_ctypes' },
  },
  {
    name: 'MariaDB',
    url: MYSQL_URL,
    table: `${MYSQL_DB}.tv_compact`,
    sql: (q: string) => withMysql(async (c) => (await c.query(q))[0] as Array<Record<string, unknown>>),
    freshState: () =>
      withMysql(async (c) => {
        await c.query(`DROP DATABASE IF EXISTS ${STATE_DB}`);
        await c.query(`CREATE DATABASE ${STATE_DB}`);
      }),
    setup: `DROP TABLE IF EXISTS tv_compact, tv_compact_r;
      CREATE TABLE tv_compact (id INT PRIMARY KEY, v VARCHAR(40), n INT, updated_at DATETIME(6) NOT NULL);
      INSERT INTO tv_compact SELECT seq, CONCAT('v', seq), seq % 10, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_1500`,
    change: (run: number) => `UPDATE tv_compact SET v = CONCAT('run${run}-', id), n = n + ${run},
        updated_at = TIMESTAMP '2025-01-0${run} 00:00:00' + INTERVAL id MICROSECOND WHERE id % ${run + 5} = 1;
      INSERT INTO tv_compact (id, v, n, updated_at) SELECT seq, 'new${run}', ${run}, TIMESTAMP '2025-01-0${run} 12:00:00' + INTERVAL seq MICROSECOND
        FROM seq_${1500 + run * 100}_to_${1500 + run * 100 + 59}`,
    addColumn: `ALTER TABLE tv_compact ADD COLUMN note VARCHAR(20);
      UPDATE tv_compact SET note = 'noted', updated_at = TIMESTAMP '2025-01-03 06:00:00' + INTERVAL id MICROSECOND WHERE id % 11 = 3`,
    dropRestored: 'DROP TABLE IF EXISTS tv_compact_r',
    restored: `${MYSQL_DB}.tv_compact_r`,
    types: { fixture: 'mysql-types.sql', table: `${MYSQL_DB}.tv_ctypes` },
  },
];

const text = (v: unknown): string | null =>
  v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : String(v);

interface CompactSummary {
  tables: Array<{
    table: string;
    status: string;
    generation?: number;
    through: number;
    objects: number;
    removed: number;
    before: { objects: number; bytes: number };
    after: { objects: number; bytes: number };
  }>;
}
interface Manifest {
  files: Array<{ name: string; runId: string }>;
  generations?: Array<{ id: number; through: number; files: Array<{ name: string; schemaVersion: number }> }>;
}

describe.each(engines)('compact ($name)', (e) => {
  const { file, dir } = strategyFile(
    (dest) => `source: ${e.url}
state: ${withDatabase(e.url, STATE_DB)}
destination: ${dest}
defaults: { file_max_rows: 400, batch_rows: 150 }
tables:
  - table: ${e.table}
    strategy: incremental
    cursor: updated_at
`,
  );
  const folder = join(dir, e.table);
  const from = `${new URL(`file://${folder}`).href}`;
  const manifest = () => JSON.parse(readFileSync(join(folder, '_manifest.json'), 'utf8')) as Manifest;
  const rowsOf = async (table: string) =>
    (await e.sql(`SELECT * FROM ${table} ORDER BY id`)).map((r) =>
      Object.fromEntries(Object.entries(r).map(([k, v]) => [k, text(v)])),
    ) as Row[];
  const run = async (args: string[]): Promise<CliResult> => runCli(args);
  // in this process (restore.test.ts tests the command): a CLI process costs ~0.6 s apiece, and
  // this file restores each engine's table some thirty times
  const restore = async (asOf?: string): Promise<{ summary: RestoreSummary; rows: Row[] }> => {
    await e.sql(e.dropRestored);
    const summary = await restoreTable({ from, target: e.url, table: e.restored, create: true, asOf });
    return { summary, rows: await rowsOf(e.restored) };
  };
  const backupOk = async () => {
    const s = jsonSummary<{ tables: Array<{ status: string; error?: string }> }>(await backup(file, ['--json']));
    expect(s.tables[0]!.status, s.tables[0]!.error).toBe('ok');
  };
  const genObjects = (id: number) =>
    readdirSync(join(folder, `gen-${String(id).padStart(5, '0')}`))
      .filter((f) => !f.startsWith('.'))
      .sort();

  /** Run id → the rows restore --as-of it gave before any compaction. */
  const asOfBefore = new Map<string, Row[]>();
  let first: CompactSummary['tables'][number];
  let afterRuns: { summary: RestoreSummary; rows: Row[] };
  let source: Row[];
  let runs: string[];

  beforeAll(async () => {
    await e.freshState();
    await e.sql(e.setup);
    await backupOk();
    await e.sql(e.change(2));
    await backupOk();
    await e.sql(e.change(3));
    await e.sql(e.addColumn);
    await backupOk();
    runs = [...new Set(manifest().files.map((f) => f.runId))];
    for (const r of runs) asOfBefore.set(r, (await restore(r)).rows);
    first = jsonSummary<CompactSummary>(await run(['compact', file, '--json'])).tables[0]!;
    await e.sql(e.change(4));
    await backupOk();
    await e.sql(e.change(5));
    await backupOk();
    afterRuns = await restore();
    source = await rowsOf(e.table);
  }, 240_000);

  it('writes generation 1 covering every object so far, in more than one part', () => {
    expect(first.status).toBe('ok');
    expect(first.generation).toBe(1);
    expect(first.objects).toBeGreaterThan(1);
    expect(genObjects(1)).toHaveLength(first.objects);
    const g = manifest().generations![0]!;
    expect(g.through).toBe(first.through);
  });

  it('keeps each generation part to one schema version (the rows of both are there)', () => {
    const versions = new Set(manifest().generations![0]!.files.map((f) => f.schemaVersion));
    expect([...versions].sort()).toEqual([1, 2]);
  });

  it('restores the latest state equal to the source, after later runs', () => {
    expect(afterRuns.rows).toEqual(source);
  });

  it('reads the generation and the objects after it only for the latest state', () => {
    const m = manifest();
    const g = m.generations![0]!;
    expect(afterRuns.summary.generation).toBe(1);
    expect(afterRuns.summary.files).toBe(g.files.length + m.files.length - g.through);
    expect(afterRuns.summary.files).toBeLessThan(m.files.length);
  });

  it('restores every as-of point before the compaction as it did before', async () => {
    for (const [r, rows] of asOfBefore) expect((await restore(r)).rows, `--as-of ${r}`).toEqual(rows);
  }, 120_000);

  it('verifies equal against the source', async () => {
    const v = jsonSummary<{ equal: boolean }>(await run(['verify', file, '--json']));
    expect(v.equal).toBe(true);
  }, 60_000);

  it('reports a table with nothing after its newest generation as current', async () => {
    const once = jsonSummary<CompactSummary>(await run(['compact', file, '--json'])).tables[0]!;
    expect(once.generation).toBe(2);
    const again = jsonSummary<CompactSummary>(await run(['compact', file, '--json'])).tables[0]!;
    expect(again.status).toBe('current');
    expect(again.after).toEqual(again.before);
  }, 60_000);

  describe('killed while writing a generation', () => {
    let killed: CliResult;
    let during: Row[];
    let rerun: CompactSummary['tables'][number];
    let after: { summary: RestoreSummary; rows: Row[] };
    let now: Row[];

    beforeAll(async () => {
      await e.sql(e.change(6));
      await backupOk();
      killed = await runCli(['compact', file, '--json'], { TABLEVAULT_TEST_KILL_AT: 'compact-part:2' });
      during = (await restore()).rows;
      rerun = jsonSummary<CompactSummary>(await run(['compact', file, '--json'])).tables[0]!;
      after = await restore();
      now = await rowsOf(e.table);
    }, 180_000);

    it('is killed after two parts are durable', () => {
      expect(killed.signal).toBe('SIGKILL');
    });

    it('leaves the latest state restorable meanwhile, equal to the source', () => {
      expect(during).toEqual(now);
    });

    it('has the next compaction remove the unfinished objects and write the generation under the same number', () => {
      expect(rerun.status).toBe('ok');
      expect(rerun.generation).toBe(3);
      expect(rerun.removed).toBe(2);
      const g = manifest().generations!.at(-1)!;
      expect(genObjects(3)).toEqual(g.files.map((f) => f.name.split('/')[1]).sort());
    });

    it('restores the latest state from the generation alone, equal to the source', () => {
      expect(after.summary.generation).toBe(3);
      expect(after.summary.files).toBe(manifest().generations!.at(-1)!.files.length);
      expect(after.rows).toEqual(now);
    });

    it('still restores the as-of points before the first compaction as before', async () => {
      for (const [r, rows] of asOfBefore) expect((await restore(r)).rows, `--as-of ${r}`).toEqual(rows);
    }, 120_000);
  });

  it('compacts a table of every type to rows verify finds equal to the source', async () => {
    // the types fixture under a name of its own (other test files load tv_types itself)
    const ddl = readFileSync(fixturePath(e.types.fixture), 'utf8')
      .replaceAll('tv_types', 'tv_ctypes')
      .replaceAll('tv_mood', 'tv_cmood');
    await e.sql(ddl);
    const typed = strategyFile(
      (dest) => `source: ${e.url}
state: ${withDatabase(e.url, STATE_DB)}
destination: ${dest}
tables:
  - table: ${e.types.table}
    strategy: incremental
    cursor: id
`,
    );
    jsonSummary(await backup(typed.file, ['--json']));
    const c = jsonSummary<CompactSummary>(await run(['compact', typed.file, '--json'])).tables[0]!;
    expect(c.status).toBe('ok');
    const v = jsonSummary<{ equal: boolean }>(await run(['verify', typed.file, '--json']));
    expect(v.equal).toBe(true);
  }, 60_000);

  it('compacts after a run once compact_every runs have written since the last generation', async () => {
    const every = strategyFile(
      (dest) => `source: ${e.url}
state: ${withDatabase(e.url, STATE_DB)}
destination: ${dest}
defaults: { compact_every: 2, file_max_rows: 400 }
tables:
  - table: ${e.table}
    strategy: incremental
    cursor: updated_at
`,
    );
    type Backup = { tables: Array<{ status: string; compacted?: { generation: number } }> };
    const runs: Backup[] = [];
    runs.push(jsonSummary<Backup>(await backup(every.file, ['--json'])));
    await e.sql(e.change(7));
    runs.push(jsonSummary<Backup>(await backup(every.file, ['--json'])));
    await e.sql(e.change(8));
    runs.push(jsonSummary<Backup>(await backup(every.file, ['--json'])));
    expect(runs.map((r) => r.tables[0]!.status)).toEqual(['ok', 'ok', 'ok']);
    expect(runs.map((r) => r.tables[0]!.compacted?.generation)).toEqual([undefined, 1, undefined]);
    const v = jsonSummary<{ equal: boolean }>(await run(['verify', every.file, '--json']));
    expect(v.equal).toBe(true);
  }, 90_000);

  it('folds the tombstones a run recorded into the generation: the latest state and the as-of points restore as before', async () => {
    await e.sql(`${e.change(9)}; DELETE FROM tv_compact WHERE id IN (5, 6, 1700)`);
    type Backup = { tables: Array<{ status: string; runId: string; deletedKeys?: number }> };
    const deleting = jsonSummary<Backup>(await backup(file, ['--json'])).tables[0]!;
    expect(deleting.deletedKeys).toBe(3);
    const runId = deleting.runId;
    const wanted = await rowsOf(e.table);
    const before = await restore();
    const asOf = (await restore(runId)).rows;
    const c = jsonSummary<CompactSummary>(await run(['compact', file, '--json'])).tables[0]!;
    const after = await restore();
    expect(before.rows).toEqual(wanted);
    expect(c.status).toBe('ok');
    expect(after.rows).toEqual(wanted);
    expect(after.summary.files).toBe(c.objects);
    expect((await restore(runId)).rows).toEqual(asOf);
  }, 90_000);
});
