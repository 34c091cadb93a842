import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { joinPlanKey } from '../../src/backup/join.js';
import { encodeTableSegment } from '../../src/manifest/layout.js';
import type { TasksRow } from '../../src/state/db.js';
import { openState } from '../../src/state/repository.js';
import { strategyFile } from '../helpers/backup.js';
import { MYSQL, PG, parquetObjects, manifestNames, parquetFingerprint, type ChunkDb } from '../helpers/chunked.js';
import { jsonSummary, runCli, startCli, type CliResult } from '../helpers/cli.js';
import { withDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';

/**
 * Shared runs across processes (issue 20), on each engine as source and state store: real
 * `backup --join` processes killed with SIGKILL and paused with SIGSTOP at named points.
 * (1) Three workers share a run of a chunked table and four small ones; one dies mid-task and a
 * fourth joins late: the tables equal the source, each object once, as a run of one process
 * writes them. (2) A worker paused past its lease: another takes the task over, and the paused
 * one, continued, commits nothing. (3) A crash between the last chunk and the table's commit:
 * the next worker finishes the table.
 */

const BIG = 'tv_sr_big';
const SMALL = ['tv_sr_s1', 'tv_sr_s2', 'tv_sr_s3', 'tv_sr_s4'];
const BIG_ROWS = 20_000;
const SMALL_ROWS = 1_500;
const STATE_DB = 'tv_sr_state';
const COLUMNS = ['id', 'n', 'pad'];

const fill = (db: ChunkDb, table: string, rows: number) => {
  const ts =
    db.name === 'PostgreSQL'
      ? `timestamp '2024-01-01' + (i / 3) * interval '1 second'`
      : `TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (i DIV 3) SECOND`;
  const type = db.name === 'PostgreSQL' ? 'timestamp(6)' : 'datetime(6)';
  return [
    `DROP TABLE IF EXISTS ${table}`,
    `CREATE TABLE ${table} (id int PRIMARY KEY, n int NOT NULL, ts ${type} NOT NULL, pad text)`,
    `INSERT INTO ${table} SELECT i, i % 1000, ${ts}, ${db.md5('i')} FROM ${db.series(rows)}`,
    `CREATE INDEX ${table}_ts ON ${table} (ts)`,
    db.analyze(table),
  ];
};

const stateUrl = (db: ChunkDb) => withDatabase(db.url, STATE_DB);

const strategy = (db: ChunkDb, tables: string[]) => (dest: string) => `source: ${db.url}
destination: ${dest}
state: ${stateUrl(db)}
defaults: { file_max_rows: 1000, chunk_rows: ${BIG_ROWS / 4} }
tables:
${tables.map((t) => `  - table: ${t}\n    strategy: incremental\n    cursor: ts\n`).join('')}`;

interface Summary {
  runId: string;
  tables: Array<{
    table: string;
    status: string;
    rows: number;
    watermarkAfter?: string[] | null;
    chunks?: number;
    resumedChunks?: number;
  }>;
}

const folderOf = (db: ChunkDb, dir: string, table: string) =>
  join(dir, encodeTableSegment({ schema: db.schema, name: table }));

/** The objects of a table's manifest as DuckDB reads them, and the source's rows, fingerprinted alike. */
async function fingerprints(db: ChunkDb, dir: string, table: string) {
  const folder = folderOf(db, dir, table);
  const backedUp = await parquetFingerprint(
    manifestNames(folder).map((n) => join(folder, n)),
    COLUMNS,
  );
  return { backedUp, source: await db.fingerprint(table, COLUMNS) };
}

async function tasksOf(db: ChunkDb, planKey: string): Promise<TasksRow[]> {
  const state = await openState(stateUrl(db));
  try {
    return await state.planTasks(planKey);
  } finally {
    await state.close();
  }
}

const destinationOf = (file: string) => /^destination: (.*)$/m.exec(readFileSync(file, 'utf8'))![1]!;
const join_ = (key: string, id: string, lease: string) => ['--join', key, '--lease', lease, '--worker-id', id];
/** A process's state (R, S, T for stopped...), from /proc. */
const procState = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[0];

describe.each([PG, MYSQL])('shared runs across processes ($name)', (db) => {
  const all = [BIG, ...SMALL];
  const shared = strategyFile(strategy(db, all));
  const plain = strategyFile(strategy(db, all));
  const sharedKey = joinPlanKey('r1', destinationOf(shared.file));
  let killed: CliResult;
  let workers: CliResult[];
  let late: CliResult;
  let single: Summary;
  let tasks: TasksRow[];

  beforeAll(async () => {
    await db.dropDatabase(STATE_DB);
    await db.exec(`CREATE DATABASE ${STATE_DB}`);
    for (const sql of [...fill(db, BIG, BIG_ROWS), ...SMALL.flatMap((t) => fill(db, t, SMALL_ROWS))])
      await db.exec(sql);
    const args = (id: string) => ['backup', shared.file, ...join_('r1', id, '3s'), '--parallel', '2', '--json'];
    // the worker to be killed plans the run; the other two join it; it dies after its second commit, mid-task
    const c = startCli(args('c'), { TABLEVAULT_TEST_KILL_AT: 'after-commit:2' });
    await until('the run to be planned', async () => (await tasksOf(db, sharedKey)).length > 0);
    const ab = [runCli(args('a')), runCli(args('b'))];
    killed = await c.done;
    late = await runCli(args('d'));
    workers = await Promise.all(ab);
    tasks = await tasksOf(db, sharedKey);
    single = jsonSummary<Summary>(await runCli(['backup', plain.file, '--parallel', '2', '--json']));
  }, 240_000);

  afterAll(async () => {
    for (const s of [shared, plain]) rmSync(dirname(s.dir), { recursive: true, force: true });
    await db.exec(`DROP TABLE IF EXISTS ${all.join(', ')}, ${BIG}_back`);
    await db.dropDatabase(STATE_DB);
  });

  it('the worker killed mid-task died by SIGKILL', () => {
    expect(killed.signal).toBe('SIGKILL');
  });

  it("every other worker, the late one too, exits 0 with every table of the run's plan ok", () => {
    for (const w of [...workers, late]) {
      const s = jsonSummary<Summary>(w);
      expect(s.tables.map((t) => [t.table, t.status])).toEqual(all.map((t) => [t, 'ok']));
    }
  });

  it('every worker reports the one backup run id of the plan', () => {
    const ids = [...workers, late].map((w) => jsonSummary<Summary>(w).runId);
    expect(new Set(ids).size).toBe(1);
  });

  it('the chunked table was split into chunk tasks, every task of the plan done', () => {
    expect(tasks.filter((t) => t.name.includes(' chunk ')).length).toBe(4);
    expect(tasks.every((t) => t.status === 'done')).toBe(true);
  });

  it('a task the killed worker held was taken over under a new fencing token', () => {
    expect(Math.max(...tasks.map((t) => Number(t.token)))).toBeGreaterThanOrEqual(2);
  });

  it.each(all)('%s: its objects hold every source row once', async (table) => {
    const f = await fingerprints(db, shared.dir, table);
    expect(f.backedUp).toEqual(f.source);
  });

  it.each(all)('%s: its folder holds exactly the objects its manifest lists, as a run of one process', (table) => {
    const names = manifestNames(folderOf(db, shared.dir, table));
    expect(new Set(names).size).toBe(names.length);
    expect(parquetObjects(folderOf(db, shared.dir, table))).toEqual([...names].sort());
    expect(names).toEqual(manifestNames(folderOf(db, plain.dir, table)));
  });

  it("each table's watermark after the shared run is the one a run of one process reaches", () => {
    const marks = (s: Summary) => s.tables.map((t) => [t.table, t.watermarkAfter]);
    expect(marks(jsonSummary<Summary>(workers[0]!))).toEqual(marks(single));
  });

  it('the chunked table restores from the shared run equal to the source', async () => {
    await db.exec(`DROP TABLE IF EXISTS ${BIG}_back`);
    const from = pathToFileURL(folderOf(db, shared.dir, BIG)).href;
    const r = await runCli(['restore', from, '--target', db.url, '--table', `${BIG}_back`, '--create', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(await db.fingerprint(`${BIG}_back`, COLUMNS)).toEqual(await db.fingerprint(BIG, COLUMNS));
  });

  describe('a worker paused past its lease', () => {
    const s = strategyFile(strategy(db, [SMALL[0]!]));
    const planKey = joinPlanKey('r2', destinationOf(s.file));
    let paused: CliResult;
    let other: CliResult;
    let tasks2: TasksRow[];
    let a: ReturnType<typeof startCli> | undefined;

    beforeAll(async () => {
      const args = (id: string) => ['backup', s.file, ...join_('r2', id, '2s'), '--json'];
      // stopped once its first object is uploaded, before that object's commit
      const w = (a = startCli(args('a'), { TABLEVAULT_TEST_STOP_AT: 'after-upload:1' }));
      const pid = w.child.pid!;
      await until('worker a to stop', () => procState(pid) === 'T');
      const state = await openState(stateUrl(db));
      try {
        await until('its lease to run out', async () => (await state.planProgress(planKey)).expired === 1);
      } finally {
        await state.close();
      }
      const b = runCli(args('b'));
      await until(
        'worker b to take the task over',
        async () => (await tasksOf(db, planKey))[0]?.owner?.startsWith('b/') === true,
      );
      w.child.kill('SIGCONT');
      [paused, other] = await Promise.all([w.done, b]);
      tasks2 = await tasksOf(db, planKey);
    }, 120_000);
    afterAll(() => {
      // a failed wait must not leave the paused worker stopped, holding its connections
      if (a?.child.exitCode === null) a.child.kill('SIGKILL');
      rmSync(dirname(s.dir), { recursive: true, force: true });
    });

    it('the paused worker, continued, finds its lease lost and exits 0 once the run is done', () => {
      expect(paused.code, paused.stderr).toBe(0);
      expect(paused.stderr).toMatch(/lease lost/);
    });

    it('the worker that took the task over finished it, under the second fencing token', () => {
      expect(jsonSummary<Summary>(other).tables[0]).toMatchObject({ status: 'ok', rows: SMALL_ROWS });
      expect(tasks2.map((t) => [t.status, t.owner, Number(t.token)])).toEqual([
        ['done', expect.stringMatching(/^b\//), 2],
      ]);
    });

    it('the table holds every source row once: the paused worker committed nothing stale', async () => {
      const f = await fingerprints(db, s.dir, SMALL[0]!);
      expect(f.backedUp).toEqual(f.source);
      const folder = folderOf(db, s.dir, SMALL[0]!);
      expect(parquetObjects(folder)).toEqual([...manifestNames(folder)].sort());
    });
  });

  describe("a crash between the last chunk and the table's commit", () => {
    const s = strategyFile(strategy(db, [BIG]));
    let crashed: CliResult;
    let next: Summary;

    beforeAll(async () => {
      const args = (id: string) => ['backup', s.file, ...join_('r3', id, '2s'), '--parallel', '2', '--json'];
      // alone and --exit-when-idle: its other workers read the chunks its table's worker offered
      crashed = await runCli([...args('a'), '--exit-when-idle'], { TABLEVAULT_TEST_KILL_AT: 'before-plan-finish:1' });
      next = jsonSummary<Summary>(await runCli(args('b')));
    }, 120_000);
    afterAll(() => rmSync(dirname(s.dir), { recursive: true, force: true }));

    it('the worker, alone, read every chunk and died before the commit', () => {
      expect(crashed.signal).toBe('SIGKILL');
    });

    it('the next worker finishes the table from the same plan, every chunk already done', () => {
      expect(next.tables[0]).toMatchObject({ status: 'ok', chunks: 4, resumedChunks: 4 });
    });

    it('the table holds every source row once, its manifest listing exactly its objects', async () => {
      const f = await fingerprints(db, s.dir, BIG);
      expect(f.backedUp).toEqual(f.source);
      const folder = folderOf(db, s.dir, BIG);
      expect(parquetObjects(folder)).toEqual([...manifestNames(folder)].sort());
    });
  });
});
