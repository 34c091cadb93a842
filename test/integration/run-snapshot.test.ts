import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openSource } from '../../src/source/open.js';
import type { SourceTable } from '../../src/source/columns.js';
import type { Source } from '../../src/source/source.js';
import type { MysqlSource } from '../../src/source/mysql/source.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import { readAll, readFirstBatch, tally } from '../helpers/source.js';

/**
 * One snapshot for a run (Source.openSnapshot): reads given it see the data as of its opening,
 * whatever commits between them, on PostgreSQL (an exported snapshot) and MySQL (snapshots opened
 * under a commit lock); without the privilege MySQL falls back to a snapshot per read and says so.
 */

const ROWS = 200;
const setup = `INSERT INTO tv_snap_a (id, v) SELECT n, 1 FROM tv_seq; INSERT INTO tv_snap_b (id, v) SELECT n, 1 FROM tv_seq`;

describe('run snapshot: PostgreSQL', () => {
  let source: Source;
  let a: SourceTable;
  let b: SourceTable;
  beforeAll(async () => {
    source = await openSource(PG_URL, { maxConnections: 4 });
  });
  afterAll(async () => {
    await source.close();
  });
  beforeEach(async () => {
    await withPg((c) =>
      c.query(`DROP TABLE IF EXISTS tv_snap_a, tv_snap_b, tv_seq;
        CREATE TABLE tv_snap_a (id int PRIMARY KEY, v int NOT NULL);
        CREATE TABLE tv_snap_b (id int PRIMARY KEY, v int NOT NULL);
        CREATE TABLE tv_seq AS SELECT generate_series(1, ${ROWS}) AS n; ${setup}; DROP TABLE tv_seq`),
    );
    a = await source.describe({ schema: 'public', name: 'tv_snap_a' });
    b = await source.describe({ schema: 'public', name: 'tv_snap_b' });
  });
  const move = () =>
    withPg((c) => c.query('BEGIN; UPDATE tv_snap_a SET v = v + 1; INSERT INTO tv_snap_b VALUES (0, 5); COMMIT'));

  it('two reads through one exported snapshot see the same data while a writer commits between them', async () => {
    const snapshot = await source.openSnapshot(2);
    expect(snapshot.kind).toBe('exported');
    expect(snapshot.warning).toBeUndefined();
    const first = tally(await readAll(source, a, { snapshot }), 'v');
    await move();
    expect(tally(await readAll(source, a, { snapshot }), 'v')).toEqual(first);
    expect(tally(await readAll(source, b, { snapshot }), 'v')).toEqual({ rows: ROWS, sum: ROWS });
    expect(await source.readKeys(b, ['id'], 'id < 2', { snapshot })).toEqual([['1']]);
    expect(tally(await readAll(source, a), 'v')).toEqual({ rows: ROWS, sum: 2 * ROWS }); // without it: now
    await snapshot.close();
  });

  it('reads at once through one snapshot each see it', async () => {
    const snapshot = await source.openSnapshot(3);
    await move();
    const all = await Promise.all([a, b, a].map((t) => readAll(source, t, { snapshot, batchRows: 7 })));
    expect(all.map((r) => tally(r, 'v'))).toEqual(Array(3).fill({ rows: ROWS, sum: ROWS }));
    await snapshot.close();
  });

  it('a read abandoned mid-stream leaves the snapshot whole for the next', async () => {
    const snapshot = await source.openSnapshot(1);
    await readFirstBatch(source, a, { snapshot });
    await move();
    expect(tally(await readAll(source, a, { snapshot }), 'v')).toEqual({ rows: ROWS, sum: ROWS });
    await snapshot.close();
  });

  it('refuses more readers than the connections leave room for, saying what to change', async () => {
    await expect(source.openSnapshot(4)).rejects.toThrow(/at most 3 or raise max_source_connections/);
  });

  it('a read after the coordinating connection died fails, saying the run must be run again', async () => {
    const snapshot = await source.openSnapshot(1);
    await withPg((c) =>
      c.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
               WHERE application_name = 'tablevault' AND state = 'idle in transaction' AND pid <> pg_backend_pid()
                 AND datname = current_database()`),
    );
    await expect(readAll(source, a, { snapshot })).rejects.toMatchObject({
      code: 'SOURCE_SNAPSHOT',
      message: expect.stringMatching(/snapshot .* is gone .* run the backup again/),
    });
    await snapshot.close();
  });

  it('a read given a closed snapshot fails', async () => {
    const snapshot = await source.openSnapshot(1);
    await snapshot.close();
    await expect(readAll(source, a, { snapshot })).rejects.toThrow(/closed snapshot/);
  });
});

describe('run snapshot: MySQL', () => {
  let source: MysqlSource;
  let a: SourceTable;
  let b: SourceTable;
  beforeAll(async () => {
    source = (await openSource(MYSQL_URL, { maxConnections: 4 })) as MysqlSource;
  });
  afterAll(async () => {
    await source.close();
  });
  beforeEach(async () => {
    await withMysql((c) =>
      c.query(`DROP TABLE IF EXISTS tv_snap_a, tv_snap_b, tv_seq;
        CREATE TABLE tv_snap_a (id int PRIMARY KEY, v int NOT NULL);
        CREATE TABLE tv_snap_b (id int PRIMARY KEY, v int NOT NULL);
        CREATE TABLE tv_seq AS SELECT seq AS n FROM seq_1_to_${ROWS}; ${setup}; DROP TABLE tv_seq`),
    );
    a = await source.describe({ schema: MYSQL_DB, name: 'tv_snap_a' });
    b = await source.describe({ schema: MYSQL_DB, name: 'tv_snap_b' });
  });
  const move = () =>
    withMysql((c) =>
      c.query('START TRANSACTION; UPDATE tv_snap_a SET v = v + 1; INSERT INTO tv_snap_b VALUES (0, 5); COMMIT'),
    );

  for (const lock of ['backup-stage', 'ftwrl'] as const) {
    it(`two reads through one snapshot see the same data while a writer commits between them (${lock})`, async () => {
      const snapshot = await source.openSnapshot(2, lock);
      expect(snapshot.kind).toBe('backup-lock');
      expect(snapshot.warning).toBeUndefined();
      const first = tally(await readAll(source, a, { snapshot }), 'v');
      await move(); // commits: the lock was let go
      expect(tally(await readAll(source, a, { snapshot }), 'v')).toEqual(first);
      expect(tally(await readAll(source, b, { snapshot }), 'v')).toEqual({ rows: ROWS, sum: ROWS });
      expect(await source.readKeys(b, ['id'], 'id < 2', { snapshot })).toEqual([['1']]);
      expect(tally(await readAll(source, a), 'v')).toEqual({ rows: ROWS, sum: 2 * ROWS });
      await snapshot.close();
    });
  }

  it('more reads at once than readers wait for a connection of the snapshot', async () => {
    const snapshot = await source.openSnapshot(2);
    await move();
    const all = await Promise.all([a, b, a, b].map((t) => readAll(source, t, { snapshot, batchRows: 7 })));
    expect(all.map((r) => tally(r, 'v'))).toEqual(Array(4).fill({ rows: ROWS, sum: ROWS }));
    expect(snapshot.warning).toBeUndefined();
    await snapshot.close();
  });

  it('after an abandoned read, later reads keep to the connections still in the snapshot', async () => {
    const snapshot = await source.openSnapshot(2);
    await readFirstBatch(source, a, { snapshot });
    await move();
    expect(tally(await readAll(source, a, { snapshot }), 'v')).toEqual({ rows: ROWS, sum: ROWS });
    expect(snapshot.warning).toBeUndefined();
    await snapshot.close();
  });

  it('once every connection of the snapshot is lost, a read takes its own snapshot and the warning says so', async () => {
    const snapshot = await source.openSnapshot(1);
    await readFirstBatch(source, a, { snapshot });
    await move();
    expect(tally(await readAll(source, a, { snapshot }), 'v')).toEqual({ rows: ROWS, sum: 2 * ROWS });
    expect(snapshot.kind).toBe('backup-lock');
    expect(snapshot.warning).toMatch(/1 read\(s\) had a snapshot of their own/);
    await snapshot.close();
  });

  it('refuses more readers than the connections leave room for, saying what to change', async () => {
    await expect(source.openSnapshot(4)).rejects.toThrow(/at most 3 or raise max_source_connections/);
  });

  describe('a user without RELOAD', () => {
    const user = 'tv_noreload';
    let weak: Source;
    beforeAll(async () => {
      await withMysql((c) =>
        c.query(`DROP USER IF EXISTS '${user}'@'%'; CREATE USER '${user}'@'%' IDENTIFIED BY 'pw';
          GRANT SELECT ON \`${MYSQL_DB}\`.* TO '${user}'@'%'`),
      );
      const u = new URL(MYSQL_URL);
      u.username = user;
      u.password = 'pw';
      weak = await openSource(u.href, { maxConnections: 4 });
    });
    afterAll(async () => {
      await weak.close();
      await withMysql((c) => c.query(`DROP USER IF EXISTS '${user}'@'%'`));
    });

    for (const lock of ['backup-stage', 'ftwrl'] as const) {
      it(`gets a snapshot per read, with a warning naming the grant (${lock})`, async () => {
        const snapshot = await (weak as MysqlSource).openSnapshot(2, lock);
        expect(snapshot.kind).toBe('per-read');
        expect(snapshot.warning).toMatch(/RELOAD privilege.*not with the others; GRANT RELOAD ON \*\.\*/);
        const t = await weak.describe({ schema: MYSQL_DB, name: 'tv_snap_a' });
        await move();
        expect(tally(await readAll(weak, t, { snapshot }), 'v')).toEqual({ rows: ROWS, sum: 2 * ROWS });
        await snapshot.close();
      });
    }
  });
});
