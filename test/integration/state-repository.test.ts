import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { openState, type ObjectCommit, type StateRepository } from '../../src/state/repository.js';

// keys of this file only: other test files own the rest of the shared state tables
const KEY = 'tv_repo_test.t@repository-test';
const clear = `DELETE FROM tablevault_files WHERE table_key = '${KEY}'; DELETE FROM tablevault_recent WHERE table_key = '${KEY}';
  DELETE FROM tablevault_schemas WHERE table_key = '${KEY}'; DELETE FROM tablevault_runs WHERE table_key = '${KEY}'; DELETE FROM tablevault_tables WHERE table_key = '${KEY}';`;

const columns: ColumnSpec[] = [{ name: 'id', dbType: 'integer', kind: 'int32', nullable: false }];

const engines = [
  { name: 'PostgreSQL', url: PG_URL, run: (q: string) => withPg((c) => c.query(q)) },
  { name: 'MySQL', url: MYSQL_URL, run: (q: string) => withMysql((c) => c.query(q)) },
];

function commit(seq: number, through: string[], recentVersions: string[] = []): ObjectCommit {
  return {
    tableKey: KEY,
    seq,
    objectKey: `t/incr-${String(seq).padStart(8, '0')}.parquet`,
    rows: 10,
    bytes: 100,
    sha256: 'a'.repeat(64),
    after: seq === 0 ? null : [String(seq * 10)],
    through,
    runId: '00000000-0000-0000-0000-000000000000',
    schemaVersion: 1,
    columns,
    recentVersions,
  };
}

const hashes = (from: number, n: number) =>
  Array.from({ length: n }, (_, i) => (from + i).toString(16).padStart(40, '0'));

describe.each(engines)('state repository on $name', ({ url, run }) => {
  let state: StateRepository;
  beforeAll(async () => {
    state = await openState(url);
    await state.migrate();
  });
  afterAll(async () => {
    await state.close();
  });
  beforeEach(async () => {
    await run(clear);
  });

  it('creates a table row once and returns it as stored', async () => {
    const first = await state.ensureTable({
      tableKey: KEY,
      destination: 'file:///tmp/x',
      sourceTable: 'tv_repo_test.t',
    });
    await state.commitObject(commit(0, ['10']));
    const again = await state.ensureTable({
      tableKey: KEY,
      destination: 'file:///tmp/x',
      sourceTable: 'tv_repo_test.t',
    });
    expect(first).toMatchObject({ watermark: null, files: 0 });
    expect(again).toMatchObject({ watermark: '["10"]', files: 1 });
  });

  it('commits an object: the file row, the watermark and the counters together', async () => {
    await state.ensureTable({ tableKey: KEY, destination: 'd', sourceTable: 'tv_repo_test.t' });
    await state.commitObject(commit(0, ['10']));
    await state.commitObject(commit(1, ['20']));
    const m = await state.manifestState(KEY);
    expect({
      watermark: m.table.watermark,
      files: m.table.files,
      rows: Number(m.table.rows),
      bytes: Number(m.table.bytes),
    }).toEqual({ watermark: '["20"]', files: 2, rows: 20, bytes: 200 });
    expect(m.files.map((f) => [f.seq, f.key_from, f.key_to])).toEqual([
      [0, null, '["10"]'],
      [1, '["10"]', '["20"]'],
    ]);
  });

  it('refuses a commit whose seq is stale (another writer got there first) and keeps none of it', async () => {
    await state.ensureTable({ tableKey: KEY, destination: 'd', sourceTable: 'tv_repo_test.t' });
    await state.commitObject(commit(0, ['10']));
    const stale = { ...commit(0, ['99'], hashes(0, 3)), objectKey: 't/other.parquet' };
    // the file row's primary key (table_key, seq) refuses it too; the guard covers a writer whose file row went in first
    await run(`DELETE FROM tablevault_files WHERE table_key = '${KEY}'`);
    await expect(state.commitObject(stale)).rejects.toThrow(/changed under this run/);
    const m = await state.manifestState(KEY);
    expect({ watermark: m.table.watermark, files: m.files.length, recent: await state.recentVersions(KEY) }).toEqual({
      watermark: '["10"]',
      files: 0,
      recent: [],
    });
  });

  it('records each recent version once, across commits and chunks of 500', async () => {
    await state.ensureTable({ tableKey: KEY, destination: 'd', sourceTable: 'tv_repo_test.t' });
    await state.commitObject(commit(0, ['10'], hashes(0, 700)));
    await state.commitObject(commit(1, ['10'], hashes(600, 700)));
    expect((await state.recentVersions(KEY)).sort()).toEqual(hashes(0, 1300));
  });

  it('prunes only the recent versions it is given', async () => {
    await state.ensureTable({ tableKey: KEY, destination: 'd', sourceTable: 'tv_repo_test.t' });
    await state.commitObject(commit(0, ['10'], hashes(0, 1200)));
    await state.pruneRecentVersions(KEY, hashes(0, 1100));
    expect((await state.recentVersions(KEY)).sort()).toEqual(hashes(1100, 100));
  });

  it('a reset schema version becomes current and clears the watermark', async () => {
    await state.ensureTable({ tableKey: KEY, destination: 'd', sourceTable: 'tv_repo_test.t' });
    await state.addSchemaVersion({
      tableKey: KEY,
      version: 1,
      columns,
      keyColumns: ['id'],
      changes: null,
      reset: false,
    });
    await state.commitObject(commit(0, ['10']));
    await state.addSchemaVersion({
      tableKey: KEY,
      version: 2,
      columns,
      keyColumns: ['id'],
      changes: ['reset: a new full backup'],
      reset: true,
    });
    const s = await state.tableState(KEY, { schemaChanges: true });
    expect({
      latest: (await state.latestSchema(KEY))?.version,
      schema: s.table?.schema_version,
      watermark: s.table?.watermark,
      changes: s.schemaChanges?.map((v) => v.version),
    }).toEqual({ latest: 2, schema: 2, watermark: null, changes: [2] });
  });

  it('records a run from start to finish', async () => {
    await state.startRun('00000000-0000-0000-0000-00000000000a', KEY);
    await state.finishRunOk('00000000-0000-0000-0000-00000000000a', {
      rows: 5,
      files: 1,
      bytes: 50,
      watermarkBefore: null,
      watermarkAfter: ['5'],
    });
    const { lastRun } = await state.tableState(KEY, { schemaChanges: false });
    expect(lastRun).toMatchObject({
      status: 'ok',
      files: 1,
      watermark_before: null,
      watermark_after: '["5"]',
      error: null,
    });
    expect(lastRun?.finished_at).toBeTruthy();
  });

  it('records a failed run with its error', async () => {
    await state.startRun('00000000-0000-0000-0000-00000000000b', KEY);
    await state.finishRunFailed('00000000-0000-0000-0000-00000000000b', 'boom');
    expect((await state.tableState(KEY, { schemaChanges: false })).lastRun).toMatchObject({
      status: 'failed',
      error: 'boom',
    });
  });

  it('a locked run is recorded as running while it holds its lock, then with its totals', async () => {
    const other = await openState(url);
    const totals = { rows: 5, files: 1, bytes: 50, watermarkBefore: null, watermarkAfter: ['5'] };
    try {
      let during: unknown;
      const outcome = await state.withRun(
        '00000000-0000-0000-0000-00000000000c',
        KEY,
        async () => {
          during = {
            status: (await state.tableState(KEY, { schemaChanges: false })).lastRun?.status,
            other: await other.withLock(KEY, async () => 'got it'),
          };
          return totals;
        },
        String,
      );
      const after = await other.withLock(KEY, async () => 'got it');
      const { lastRun } = await state.tableState(KEY, { schemaChanges: false });
      expect({ outcome, during, after, status: lastRun?.status, files: lastRun?.files }).toEqual({
        outcome: totals,
        during: { status: 'running', other: 'busy' },
        after: 'got it',
        status: 'ok',
        files: 1,
      });
    } finally {
      await other.close();
    }
  });

  it('a run whose lock another process holds is busy and records nothing', async () => {
    const other = await openState(url);
    try {
      let inner: unknown;
      await other.withLock(KEY, async () => {
        inner = await state.withRun(
          '00000000-0000-0000-0000-00000000000d',
          KEY,
          async () => {
            throw new Error('must not run');
          },
          String,
        );
      });
      const { lastRun } = await state.tableState(KEY, { schemaChanges: false });
      expect({ inner, lastRun }).toEqual({ inner: 'busy', lastRun: undefined });
    } finally {
      await other.close();
    }
  });

  it('a locked run that fails is recorded with its error and frees its lock', async () => {
    const other = await openState(url);
    try {
      const failed = await state
        .withRun(
          '00000000-0000-0000-0000-00000000000e',
          KEY,
          async () => {
            throw new Error('boom');
          },
          (e) => `said: ${(e as Error).message}`,
        )
        .catch((e: Error) => e.message);
      const after = await other.withLock(KEY, async () => 'got it');
      const { lastRun } = await state.tableState(KEY, { schemaChanges: false });
      expect({ failed, after, status: lastRun?.status, error: lastRun?.error }).toEqual({
        failed: 'boom',
        after: 'got it',
        status: 'failed',
        error: 'said: boom',
      });
    } finally {
      await other.close();
    }
  });

  it('peeks at the watermark without creating the table row', async () => {
    expect(await state.peekWatermark(KEY)).toBeNull();
    await state.ensureTable({ tableKey: KEY, destination: 'd', sourceTable: 'tv_repo_test.t' });
    await state.commitObject(commit(0, ['10', '3']));
    expect(await state.peekWatermark(KEY)).toEqual(['10', '3']);
  });

  it('reports the lock busy while another process holds it, and free after', async () => {
    const other = await openState(url);
    try {
      let inner: unknown;
      const outer = await state.withLock(`${KEY}:lock`, async () => {
        inner = await other.withLock(`${KEY}:lock`, async () => 'got it');
        return 'held';
      });
      const after = await other.withLock(`${KEY}:lock`, async () => 'got it');
      expect({ outer, inner, after }).toEqual({ outer: 'held', inner: 'busy', after: 'got it' });
    } finally {
      await other.close();
    }
  });
});
