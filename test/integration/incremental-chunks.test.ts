import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeTableSegment } from '../../src/manifest/layout.js';
import { backup, strategyFile } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL, PG, manifestNames, type ChunkDb } from '../helpers/chunked.js';
import { withDatabase } from '../helpers/db.js';
import { sqlString, withDuckDB } from '../helpers/duckdb.js';

/**
 * Incremental tables read in chunks (issue 17): a first backup (backfill) and a later run with
 * more than chunk_rows new rows are split into ranges of the cursor read at once, each range's
 * objects named by the plan, and the watermark moves once, when every range is durable. A run
 * killed with SIGKILL part way resumes the same plan (same ranges, same end, same keys), skipping
 * the ranges that were done. Checked on what the objects hold (DuckDB), against the source.
 */

/**
 * Rows of the first backup (issue 17's size: 200,000, with TABLEVAULT_TEST_ICH_ROWS=200000); chunk_rows,
 * file_max_rows and the rows added scale with it, so the plans keep their shape: four chunks of five objects.
 */
const ROWS = Number(process.env.TABLEVAULT_TEST_ICH_ROWS ?? 20_000);
const TABLE = 'tv_ich';
const STATE_DB = 'tv_ich_state';
/** Four chunks of five objects each. */
const FLAGS = ['--json', '--parallel', '2'];

interface Summary {
  tables: Array<{
    status: string;
    rows: number;
    files: number;
    watermarkAfter: string[] | null;
    chunks?: number;
    resumedChunks?: number;
  }>;
}

interface Engine {
  db: ChunkDb;
  state: string;
  /** A table of `n` rows, ids 1..n, ts rising with the id three rows to a second (ties across ranges). */
  fill(n: number): string;
  /** Rows `from`..`to` added, in `year` (later than every row before). */
  add(from: number, to: number, year: number): string;
  /** Every `every`-th row of the first `upTo` updated: a new version, in 2026 (later than the rows added in 2025). */
  touch(every: number, upTo: number): string;
  stateQuery(sql: string): Promise<Array<Record<string, unknown>>>;
  resetState(): Promise<void>;
}

const pgEngine: Engine = {
  db: PG,
  state: withDatabase(PG.url, STATE_DB),
  fill: (n) => `DROP TABLE IF EXISTS ${TABLE};
    CREATE TABLE ${TABLE} (id int PRIMARY KEY, n int NOT NULL, ts timestamp(6) NOT NULL, pad text);
    INSERT INTO ${TABLE} SELECT i, i % 1000, timestamp '2024-01-01' + (i / 3) * interval '1 second', md5(i::text) FROM generate_series(1, ${n}) i;
    CREATE INDEX ON ${TABLE} (ts); ANALYZE ${TABLE};`,
  add: (from, to, year) =>
    `INSERT INTO ${TABLE} SELECT i, i % 1000, timestamp '${year}-01-01' + (i / 3) * interval '1 second', 'new' FROM generate_series(${from}, ${to}) i`,
  touch: (every, upTo) =>
    `UPDATE ${TABLE} SET pad = 'touched', ts = timestamp '2026-01-01' + id * interval '1 microsecond' WHERE id % ${every} = 0 AND id <= ${upTo}`,
  stateQuery: (sql) => PG.rows(sql, STATE_DB),
  resetState: async () => {
    await PG.dropDatabase(STATE_DB);
    await PG.exec(`CREATE DATABASE ${STATE_DB}`);
  },
};

const mysqlEngine: Engine = {
  db: MYSQL,
  state: withDatabase(MYSQL.url, STATE_DB),
  fill: (n) => `DROP TABLE IF EXISTS ${TABLE};
    CREATE TABLE ${TABLE} (id int PRIMARY KEY, n int NOT NULL, ts datetime(6) NOT NULL, pad text, KEY (ts));
    INSERT INTO ${TABLE} SELECT seq, seq % 1000, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (seq DIV 3) SECOND, MD5(seq) FROM seq_1_to_${n};
    ANALYZE TABLE ${TABLE};`,
  add: (from, to, year) =>
    `INSERT INTO ${TABLE} SELECT seq, seq % 1000, TIMESTAMP '${year}-01-01 00:00:00' + INTERVAL (seq DIV 3) SECOND, 'new' FROM seq_${from}_to_${to}`,
  touch: (every, upTo) =>
    `UPDATE ${TABLE} SET pad = 'touched', ts = TIMESTAMP '2026-01-01 00:00:00' + INTERVAL id MICROSECOND WHERE id % ${every} = 0 AND id <= ${upTo}`,
  stateQuery: (sql) => MYSQL.rows(sql, STATE_DB),
  resetState: async () => {
    await MYSQL.dropDatabase(STATE_DB);
    await MYSQL.exec(`CREATE DATABASE ${STATE_DB}`);
  },
};

const strategy = (e: Engine) => (dest: string) => `source: ${e.db.url}
destination: ${dest}
state: ${e.state}
defaults: { file_max_rows: ${ROWS / 20}, chunk_rows: ${ROWS / 4} }
tables:
  - table: ${TABLE}
    strategy: incremental
    cursor: ts
`;

/** What the objects of the table's manifest hold, newest version per id, beside the source's rows. */
interface Exactness {
  /** Row versions in the objects, and distinct (id, ts) among them: equal when none is there twice. */
  versions: number;
  distinct: number;
  /** The newest version per id, as `id|n|ts|pad` lines, sorted; and the source's the same way. */
  latest: string[];
  source: string[];
}

async function exactness(e: Engine, folder: string): Promise<Exactness> {
  const files = manifestNames(folder).map((n) => join(folder, n));
  const line = (ts: string) => `concat_ws('|', id, n, ${ts}, coalesce(pad, ''))`;
  const fromDuck = await withDuckDB(async (c) => {
    const all = `read_parquet([${files.map(sqlString).join(', ')}])`;
    const counts = (
      await c.runAndReadAll(`SELECT count(*)::INT AS v, count(DISTINCT (id, ts))::INT AS d FROM ${all}`)
    ).getRowObjects()[0]!;
    const latest = await c.runAndReadAll(
      `SELECT ${line(`strftime(ts, '%Y-%m-%d %H:%M:%S.%f')`)} AS l FROM ${all} QUALIFY row_number() OVER (PARTITION BY id ORDER BY ts DESC) = 1 ORDER BY l`,
    );
    return {
      versions: Number(counts.v),
      distinct: Number(counts.d),
      latest: latest.getRowObjects().map((r) => String(r.l)),
    };
  });
  const source = await sourceLines(e);
  return { ...fromDuck, source };
}

async function sourceLines(e: Engine): Promise<string[]> {
  const sql =
    e.db.name === 'PostgreSQL'
      ? `SELECT concat_ws('|', id, n, to_char(ts, 'YYYY-MM-DD HH24:MI:SS.US'), coalesce(pad, '')) AS l FROM ${TABLE}`
      : `SELECT CONCAT_WS('|', id, n, DATE_FORMAT(ts, '%Y-%m-%d %H:%i:%s.%f'), COALESCE(pad, '')) AS l FROM ${TABLE}`;
  return (await e.db.rows<{ l: string }>(sql)).map((r) => String(r.l)).sort();
}

/** The run id of each object the table folder's manifest lists. */
function manifestRuns(folder: string): string[] {
  const m = JSON.parse(readFileSync(join(folder, '_manifest.json'), 'utf8')) as { files: Array<{ runId: string }> };
  return m.files.map((f) => f.runId);
}

const CHUNKED = /^incr-(\d{8})-\d{5}-\d{5}\.parquet$/;
const SINGLE = /^incr-\d{8}\.parquet$/;

function expectExact(x: Exactness): void {
  expect(x.distinct, 'a row version is in two objects').toBe(x.versions);
  expect(x.latest.length).toBe(x.source.length);
  expect(x.latest).toEqual(x.source);
}

describe.each([pgEngine, mysqlEngine])('incremental runs in chunks ($db.name)', (e) => {
  const { file, dir } = strategyFile(strategy(e));
  const folder = join(dir, encodeTableSegment({ schema: e.db.schema, name: TABLE }));
  let first: Summary['tables'][number];
  let firstNames: string[];
  let firstExact: Exactness;
  let second: Summary['tables'][number];
  let secondNames: string[];
  let secondExact: Exactness;
  let verified: CliResult;
  let third: Summary['tables'][number];
  let thirdNames: string[];
  let leftPlans: Array<Record<string, unknown>>;
  beforeAll(async () => {
    await e.resetState();
    await e.db.exec(e.fill(ROWS));
    first = jsonSummary<Summary>(await backup(file, FLAGS)).tables[0]!;
    firstNames = manifestNames(folder);
    firstExact = await exactness(e, folder);
    // 0.6 × ROWS new rows and 1% updated: more than chunk_rows new versions
    await e.db.exec(e.add(ROWS + 1, ROWS + (ROWS * 3) / 5, 2025));
    await e.db.exec(e.touch(100, ROWS));
    second = jsonSummary<Summary>(await backup(file, FLAGS)).tables[0]!;
    secondNames = manifestNames(folder);
    secondExact = await exactness(e, folder);
    verified = await runCli(['verify', file, '--json']);
    await e.db.exec(e.add(2 * ROWS + 1, 2 * ROWS + 10, 2027));
    third = jsonSummary<Summary>(await backup(file, FLAGS)).tables[0]!;
    thirdNames = manifestNames(folder);
    leftPlans = await e.stateQuery('SELECT * FROM tablevault_chunks');
  }, 240_000);
  afterAll(() => rmSync(dirname(dir), { recursive: true, force: true }));

  it('the first backup is read in several chunks', () => {
    expect(first.chunks).toBeGreaterThan(1);
  });

  it("the first backup's objects are named by its plan: sequence 0, chunk, part", () => {
    expect(firstNames.length).toBeGreaterThan(first.chunks!);
    expect(firstNames.every((n) => CHUNKED.exec(n)?.[1] === '00000000')).toBe(true);
  });

  it("the first backup's objects hold every source row once", () => {
    expectExact(firstExact);
  });

  it("the first backup's watermark is the source's greatest (cursor, id)", () => {
    expect(first.watermarkAfter?.[1]).toBe(String(ROWS));
  });

  it('a run with more than chunk_rows new rows is read in chunks too', () => {
    expect(second.chunks).toBeGreaterThan(1);
  });

  it("that run's objects are named by its own plan, after the first run's objects", () => {
    const added = secondNames.slice(firstNames.length);
    expect(secondNames.slice(0, firstNames.length)).toEqual(firstNames);
    expect(added.every((n) => CHUNKED.exec(n)?.[1] === String(firstNames.length).padStart(8, '0'))).toBe(true);
  });

  it('after it the newest version per key equals the source, no version twice', () => {
    expectExact(secondExact);
  });

  it('verify reads the chunked backup and finds it equal to the source', () => {
    expect(verified.code, verified.stderr).toBe(0);
  });

  it('a run with few new rows reads them in one stream, as one object', () => {
    expect(third.chunks).toBeUndefined();
    expect(thirdNames.slice(secondNames.length)).toEqual([expect.stringMatching(SINGLE)]);
    expect(third.rows).toBe(10);
  });

  it('no chunk plan is left in the state store once the runs are done', () => {
    expect(leftPlans).toEqual([]);
  });
});

const KILLS = [
  // 4 chunks of 5 objects, 2 at once: after 12 commits, two chunks are done and two have begun
  { at: 'after-commit:12', done: 'some' as const },
  // every chunk durable, the plan not finished: the rerun only finishes it
  { at: 'before-plan-finish:1', done: 'all' as const },
];

describe.each([pgEngine, mysqlEngine].flatMap((e) => KILLS.map((k) => [e.db.name, k.at, e, k] as const)))(
  'an incremental run in chunks killed and rerun (%s, killed at %s)',
  (_name, _at, e, kill) => {
    const { file, dir } = strategyFile(strategy(e));
    const folder = join(dir, encodeTableSegment({ schema: e.db.schema, name: TABLE }));
    let killed: CliResult;
    let watermarkAfterKill: Array<Record<string, unknown>>;
    let planAfterKill: Array<Record<string, unknown>>;
    let folderAfterKill: string[];
    let rerun: Summary['tables'][number];
    let rerunExact: Exactness;
    let rerunRuns: string[];
    let last: Summary['tables'][number];
    let lastExact: Exactness;
    beforeAll(async () => {
      await e.resetState();
      await e.db.exec(e.fill(ROWS));
      killed = await backup(file, FLAGS, { TABLEVAULT_TEST_KILL_AT: kill.at });
      watermarkAfterKill = await e.stateQuery('SELECT watermark, files FROM tablevault_tables');
      planAfterKill = await e.stateQuery(
        'SELECT chunk, key_through, parts, done FROM tablevault_chunks ORDER BY chunk',
      );
      folderAfterKill = readdirSync(folder);
      // rows added after the plan: past its end, so the resumed run leaves them for the next
      await e.db.exec(e.add(ROWS + 1, ROWS + 30, 2025));
      rerun = jsonSummary<Summary>(await backup(file, FLAGS)).tables[0]!;
      rerunExact = await exactness(e, folder);
      rerunRuns = manifestRuns(folder);
      last = jsonSummary<Summary>(await backup(file, FLAGS)).tables[0]!;
      lastExact = await exactness(e, folder);
    }, 240_000);
    afterAll(() => rmSync(dirname(dir), { recursive: true, force: true }));

    it('the backup dies by SIGKILL', () => {
      expect(killed.signal).toBe('SIGKILL');
    });

    it('the killed run leaves the watermark where it was and no file committed to the table', () => {
      expect(watermarkAfterKill).toEqual([{ watermark: null, files: 0 }]);
    });

    it(`the killed run leaves its plan, ${kill.done === 'all' ? 'every chunk done' : 'some chunks done and some not'}`, () => {
      const done = planAfterKill.filter((c) => Number(c.done) === 1).length;
      expect(done).toBeGreaterThan(0);
      if (kill.done === 'all') expect(done).toBe(planAfterKill.length);
      else expect(done).toBeLessThan(planAfterKill.length);
    });

    it('the killed run leaves no manifest', () => {
      expect(folderAfterKill).not.toContain('_manifest.json');
    });

    it('the rerun resumes the plan: the same chunks, those done skipped', () => {
      expect(rerun.chunks).toBe(planAfterKill.length);
      expect(rerun.resumedChunks).toBe(planAfterKill.filter((c) => Number(c.done) === 1).length);
    });

    it("the plan's objects are all the rerun's in the manifest, so --as-of the killed run holds none of them", () => {
      expect(new Set(rerunRuns).size).toBe(1);
    });

    it("the rerun ends at the plan's end, not at rows added since", () => {
      expect(JSON.stringify(rerun.watermarkAfter)).toBe(String(planAfterKill[0]!.key_through));
    });

    it('after the rerun the objects hold every row up to the plan’s end once', () => {
      expect(rerunExact.distinct).toBe(rerunExact.versions);
      expect(rerunExact.latest).toEqual(rerunExact.source.filter((l) => Number(l.split('|')[0]) <= ROWS));
    });

    it('the next run backs up the rows added after the plan, and the backup equals the source', () => {
      expect(last.rows).toBe(30);
      expectExact(lastExact);
    });
  },
);
