import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup, strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL_DB, MYSQL_URL, PG_URL, withMysql, withPg } from '../helpers/db.js';
import { commitTombstone } from '../helpers/tombstone.js';
import { restoreTable, type RestoreSummary } from '../../src/restore/restore.js';
import { openLoader } from '../../src/source/mysql/loader.js';
import { silentLogger } from '../../src/log.js';

// Tombstones (issue 19) made by the test between two real backup runs: keys deleted, one deleted
// and inserted again with a cursor older than its deleted version (a late row, found by the lag
// window), and a composite key. Restore applies them on every path: --create (PostgreSQL: one
// transaction through a staging table), --as-of before them, and into an existing table.

type Row = Record<string, unknown>;
type Backup = { tables: Array<{ table: string; runId: string }> };
type Manifest = { files: Array<{ kind?: string; late?: boolean }> };

const quiet = silentLogger();

// a state store of the test's own (a database), so other tests' state and migrations never meet it
const STATE = 'tv_rdel_state';
const stateUrl = (url: string) => Object.assign(new URL(url), { pathname: `/${STATE}` }).href;

const engines = [
  {
    name: 'PostgreSQL',
    url: PG_URL,
    state: stateUrl(PG_URL),
    // one statement at a time: CREATE DATABASE cannot run in the implicit transaction of a list
    stateSetup: [`DROP DATABASE IF EXISTS ${STATE}`, `CREATE DATABASE ${STATE}`],
    schema: 'public',
    query: (s: string) => withPg(async (c) => (await c.query(s)).rows as Row[]),
    setup: `DROP TABLE IF EXISTS tv_rdel, tv_rdel2, tv_rdel_back, tv_rdel_asof, tv_rdel_merge, tv_rdel2_back;
      CREATE TABLE tv_rdel (id int PRIMARY KEY, v text, at timestamp(6) NOT NULL);
      INSERT INTO tv_rdel SELECT g, 'v' || g, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, 300) g;
      CREATE TABLE tv_rdel2 (a int, b varchar(20), v text, at timestamp(6) NOT NULL, PRIMARY KEY (a, b));
      INSERT INTO tv_rdel2 SELECT g, s, s || g, timestamp '2024-01-01' + g * interval '1 second' FROM generate_series(1, 20) g, (VALUES ('x'), ('y')) t(s)`,
    // 299 again, 2 minutes before the watermark (00:05:00): older than its deleted version (00:04:59)
    change: `DELETE FROM tv_rdel WHERE id IN (5, 150, 299); DELETE FROM tv_rdel2 WHERE (a, b) IN ((3, 'x'), (7, 'y'));
      INSERT INTO tv_rdel VALUES (299, 'again', timestamp '2024-01-01 00:03:00'), (301, 'new', timestamp '2024-02-01');
      UPDATE tv_rdel SET v = 'updated', at = timestamp '2024-02-02' WHERE id = 10;
      INSERT INTO tv_rdel2 VALUES (3, 'x', 'again', timestamp '2024-02-01')`,
    drop: `DROP TABLE IF EXISTS tv_rdel, tv_rdel2, tv_rdel_back, tv_rdel_asof, tv_rdel_merge, tv_rdel2_back`,
  },
  {
    name: 'MariaDB',
    url: MYSQL_URL,
    state: stateUrl(MYSQL_URL),
    stateSetup: [`DROP DATABASE IF EXISTS ${STATE}`, `CREATE DATABASE ${STATE}`],
    schema: MYSQL_DB,
    query: (s: string) => withMysql(async (c) => (await c.query(s))[0] as Row[]),
    setup: `DROP TABLE IF EXISTS tv_rdel, tv_rdel2, tv_rdel_back, tv_rdel_asof, tv_rdel_merge, tv_rdel2_back, tv_rdel_ins, tv_rdel2_ins;
      CREATE TABLE tv_rdel (id INT PRIMARY KEY, v VARCHAR(40), at DATETIME(6) NOT NULL);
      INSERT INTO tv_rdel SELECT seq, CONCAT('v', seq), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_300;
      CREATE TABLE tv_rdel2 (a INT, b VARCHAR(20), v VARCHAR(40), at DATETIME(6) NOT NULL, PRIMARY KEY (a, b));
      INSERT INTO tv_rdel2 SELECT seq, s, CONCAT(s, seq), TIMESTAMP '2024-01-01 00:00:00' + INTERVAL seq SECOND FROM seq_1_to_20, (SELECT 'x' AS s UNION ALL SELECT 'y') t`,
    change: `DELETE FROM tv_rdel WHERE id IN (5, 150, 299); DELETE FROM tv_rdel2 WHERE (a, b) IN ((3, 'x'), (7, 'y'));
      INSERT INTO tv_rdel VALUES (299, 'again', '2024-01-01 00:03:00'), (301, 'new', '2024-02-01');
      UPDATE tv_rdel SET v = 'updated', at = '2024-02-02' WHERE id = 10;
      INSERT INTO tv_rdel2 VALUES (3, 'x', 'again', '2024-02-01')`,
    drop: `DROP TABLE IF EXISTS tv_rdel, tv_rdel2, tv_rdel_back, tv_rdel_asof, tv_rdel_merge, tv_rdel2_back, tv_rdel_ins, tv_rdel2_ins`,
  },
];

describe.each(engines)('restore applies tombstones ($name)', (e) => {
  const restore = (from: string, table: string, extra: string[] = []) =>
    runCli(['restore', from, '--target', e.url, '--table', table, '--json', '--batch-rows', '100', ...extra]);
  const rows = (table: string, key = 'id') => e.query(`SELECT * FROM ${table} ORDER BY ${key}`);
  let runs: CliResult[];
  let source: Row[];
  let source2: Row[];
  let created: CliResult;
  let asOf: CliResult;
  let merged: CliResult;
  let composite: CliResult;
  let back: { created: Row[]; asOf: Row[]; merged: Row[]; composite: Row[] };
  let first: Row[];
  let manifest: Manifest;
  let from: (table: string) => string;
  afterAll(async () => {
    await e.query(e.drop);
    await e.query(e.stateSetup[0]!);
  });
  beforeAll(async () => {
    for (const q of e.stateSetup) await e.query(q);
    await e.query(e.setup);
    first = await rows('tv_rdel');
    const { file, dir } = strategyFile(
      (d) =>
        `source: ${e.url}\nstate: ${e.state}\ndestination: ${d}\ntables:\n${['tv_rdel', 'tv_rdel2'].map((t) => `  - table: ${t}\n    strategy: incremental\n    cursor: at\n    lag: 10m\n    file_max_rows: 120\n`).join('')}`,
    );
    from = (t) => `${pathToFileURL(dir).href}/${e.schema}.${t}`;
    runs = [await backup(file, ['--json'])];
    const runOf = (t: string) => jsonSummary<Backup>(runs[0]!).tables.find((x) => x.table === t)!.runId;
    await e.query(e.change);
    const tomb = (folder: string, lastRunId: string, keys: Row[]) =>
      commitTombstone({ dir, stateUrl: e.state, folder, lastRunId, keys, runId: `tombstones-${folder}` });
    await tomb(`${e.schema}.tv_rdel`, runOf('tv_rdel'), [{ id: 5 }, { id: 150 }, { id: 299 }]);
    await tomb(`${e.schema}.tv_rdel2`, runOf('tv_rdel2'), [
      { a: 3, b: 'x' },
      { a: 7, b: 'y' },
    ]);
    runs.push(await backup(file, ['--json']));
    source = await rows('tv_rdel');
    source2 = await rows('tv_rdel2', 'a, b');

    manifest = JSON.parse(readFileSync(join(dir, `${e.schema}.tv_rdel`, '_manifest.json'), 'utf8')) as Manifest;
    created = await restore(from('tv_rdel'), 'tv_rdel_back', ['--create']);
    asOf = await restore(from('tv_rdel'), 'tv_rdel_asof', ['--create', '--as-of', runOf('tv_rdel')]);
    // into an existing table holding the rows as of the first run: a tombstone deletes from it
    await restore(from('tv_rdel'), 'tv_rdel_merge', ['--create', '--as-of', runOf('tv_rdel')]);
    merged = await restore(from('tv_rdel'), 'tv_rdel_merge');
    composite = await restore(from('tv_rdel2'), 'tv_rdel2_back', ['--create']);
    back = {
      created: await rows('tv_rdel_back'),
      asOf: await rows('tv_rdel_asof'),
      merged: await rows('tv_rdel_merge'),
      composite: await rows('tv_rdel2_back', 'a, b'),
    };
  });

  it('both backup runs succeed and the manifest lists the tombstone between them', () => {
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    const kinds = manifest.files.map((f) => f.kind ?? (f.late ? 'late' : 'rows'));
    expect(kinds).toEqual(['rows', 'rows', 'rows', 'deletes', ...kinds.slice(4)]);
    expect(kinds.slice(4).sort()).toEqual(['late', 'rows']);
  });

  it('a deleted key is absent after restore --create', () => {
    expect(back.created.map((r) => r.id)).not.toContain(5);
    expect(back.created.map((r) => r.id)).not.toContain(150);
    expect(back.created).toEqual(source);
  });

  it('a key deleted, then inserted again with an older cursor, comes back as inserted again', () => {
    expect(back.created.find((r) => r.id === 299)).toMatchObject({ v: 'again' });
  });

  it('the summary counts the deleted keys applied, apart from the rows', () => {
    const s = jsonSummary<RestoreSummary>(created);
    expect(s.deletedKeys).toBe(3);
    expect(s.rows).toBe(303); // 300, then 301, 10 and the late 299; no key of a tombstone is loaded as a row
  });

  it('--as-of a run before the tombstone still has the deleted keys', () => {
    expect(jsonSummary<RestoreSummary>(asOf).deletedKeys).toBe(0);
    expect(back.asOf).toEqual(first);
  });

  it('into an existing table (the merge path) a tombstone deletes its keys', () => {
    expect(jsonSummary<RestoreSummary>(merged).created).toBe(false);
    expect(back.merged).toEqual(source);
  });

  it('a composite primary key: deleted keys absent, one inserted again present', () => {
    expect(jsonSummary<RestoreSummary>(composite).deletedKeys).toBe(2);
    expect(back.composite).toEqual(source2);
  });

  it.runIf(e.name === 'MariaDB')('without LOAD DATA (INSERT, and DELETE … WHERE key IN), the same', async () => {
    const loader = await openLoader(e.url, { localInfile: false, logger: quiet });
    const into = (t: string, table: string) =>
      restoreTable({ from: from(t), target: e.url, table, create: true }, { loader });
    try {
      expect((await into('tv_rdel', 'tv_rdel_ins')).deletedKeys).toBe(3);
      expect((await into('tv_rdel2', 'tv_rdel2_ins')).deletedKeys).toBe(2);
    } finally {
      await loader.close();
    }
    expect(await rows('tv_rdel_ins')).toEqual(source);
    expect(await rows('tv_rdel2_ins', 'a, b')).toEqual(source2);
  });
});
