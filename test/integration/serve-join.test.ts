import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTableSegment } from '../../src/manifest/layout.js';
import { strategyFile } from '../helpers/backup.js';
import { MYSQL, PG, parquetObjects, manifestNames, parquetFingerprint, type ChunkDb } from '../helpers/chunked.js';
import { startCli, type CliResult } from '../helpers/cli.js';
import { withDatabase } from '../helpers/db.js';
import { until } from '../helpers/until.js';

/**
 * `serve --join` replicas (issue 20), on each engine as source and state store: two replicas on
 * a schedule of every second share each tick's run (one plan per tick, keyed by the tick's
 * time), their tasks done once each, and the tables equal the source. The rows arrive once both
 * replicas are up, and each commit pauses, so a tick's tables are more than one replica takes at once.
 */

const TABLES = ['tv_sj_1', 'tv_sj_2', 'tv_sj_3', 'tv_sj_4'];
const ROWS = 500;
const STATE_DB = 'tv_sj_state';
const COLUMNS = ['id', 'n', 'pad'];

const ts = (db: ChunkDb) =>
  db.name === 'PostgreSQL'
    ? `timestamp '2024-01-01' + i * interval '1 second'`
    : `TIMESTAMP '2024-01-01 00:00:00' + INTERVAL i SECOND`;

const stateUrl = (db: ChunkDb) => withDatabase(db.url, STATE_DB);
interface Task {
  plan_key: string;
  name: string;
  status: string;
  owner: string;
  token: string | number;
}

describe.each([PG, MYSQL])('serve --join replicas ($name)', (db) => {
  const s = strategyFile(
    (dest) => `source: ${db.url}
destination: ${dest}
state: ${stateUrl(db)}
schedule: "* * * * * *"
defaults: { file_max_rows: 200 }
tables:
${TABLES.map((t) => `  - table: ${t}\n    strategy: incremental\n    cursor: ts\n`).join('')}`,
  );
  let exits: CliResult[];
  let plans: Array<{ plan_key: string; status: string }>;
  let tasks: Task[];

  beforeAll(async () => {
    await db.dropDatabase(STATE_DB);
    await db.exec(`CREATE DATABASE ${STATE_DB}`);
    for (const t of TABLES) {
      await db.exec(`DROP TABLE IF EXISTS ${t}`);
      await db.exec(
        `CREATE TABLE ${t} (id int PRIMARY KEY, n int NOT NULL, ts ${db.name === 'PostgreSQL' ? 'timestamp(6)' : 'datetime(6)'} NOT NULL, pad text)`,
      );
    }
    const replica = (id: string) =>
      startCli(['serve', s.file, '--listen', '127.0.0.1:0', '--join', '--lease', '5s', '--worker-id', id], {
        TABLEVAULT_LOG_LEVEL: 'info',
        TABLEVAULT_TEST_PAUSE_AT: 'after-commit:300',
      });
    const replicas = [replica('A'), replica('B')];
    // the "serving" line, however the pipe cuts stderr into chunks
    const up = (r: (typeof replicas)[number]) =>
      new Promise<void>((ok) => {
        let err = '';
        r.child.stderr!.on('data', (d: Buffer) => (err += d.toString()).includes('"listen"') && ok());
      });
    await Promise.all(replicas.map(up));
    for (const t of TABLES)
      await db.exec(`INSERT INTO ${t} SELECT i, i % 1000, ${ts(db)}, ${db.md5('i')} FROM ${db.series(ROWS)}`);
    const backedUp = async () =>
      Number(
        (
          await db.rows<{ n: string }>(
            `SELECT COALESCE(SUM(${db.name === 'PostgreSQL' ? 'rows' : '`rows`'}), 0) AS n FROM tablevault_tables`,
            STATE_DB,
          )
        )[0]!.n,
      ) ===
      ROWS * TABLES.length;
    await until('every row to be backed up', backedUp, { everyMs: 200 });
    const done = async () =>
      (await db.rows("SELECT plan_key FROM tablevault_plans WHERE status = 'done'", STATE_DB)).length >= 3;
    await until('three ticks to be done', done, { everyMs: 200 });
    for (const r of replicas) r.child.kill('SIGTERM');
    exits = await Promise.all(replicas.map((r) => r.done));
    plans = await db.rows('SELECT plan_key, status FROM tablevault_plans ORDER BY plan_key', STATE_DB);
    tasks = await db.rows('SELECT plan_key, name, status, owner, token FROM tablevault_tasks', STATE_DB);
  }, 120_000);

  afterAll(async () => {
    rmSync(dirname(s.dir), { recursive: true, force: true });
    for (const t of TABLES) await db.exec(`DROP TABLE IF EXISTS ${t}`);
    await db.dropDatabase(STATE_DB);
  });

  it('both replicas exit 0 on SIGTERM', () => {
    expect(exits.map((e) => [e.code, e.signal])).toEqual([
      [0, null],
      [0, null],
    ]);
  });

  it("each tick's run is one plan, keyed by the tick's time", () => {
    for (const p of plans) expect(p.plan_key).toMatch(/^serve-\d{4}-\d\d-\d\dT\d{6}Z@[0-9a-f]{12}$/);
    expect(new Set(plans.map((p) => p.plan_key.split('@')[0])).size).toBe(plans.length);
  });

  it("every task of a finished tick's run was done once, under its first claim", () => {
    const finished = new Set(plans.filter((p) => p.status === 'done').map((p) => p.plan_key));
    const ofFinished = tasks.filter((t) => finished.has(t.plan_key));
    expect(ofFinished.length).toBe(finished.size * TABLES.length);
    expect(ofFinished.every((t) => t.status === 'done' && Number(t.token) === 1)).toBe(true);
  });

  it('both replicas worked the shared runs', () => {
    expect(new Set(tasks.filter((t) => t.owner).map((t) => t.owner.split('/')[0]))).toEqual(new Set(['A', 'B']));
  });

  it.each(TABLES)('%s: every source row is backed up once, the folder holding just its manifest', async (t) => {
    const folder = join(s.dir, encodeTableSegment({ schema: db.schema, name: t }));
    const names = manifestNames(folder);
    expect(
      await parquetFingerprint(
        names.map((n) => join(folder, n)),
        COLUMNS,
      ),
    ).toEqual(await db.fingerprint(t, COLUMNS));
    expect(parquetObjects(folder)).toEqual([...names].sort());
  });
});
