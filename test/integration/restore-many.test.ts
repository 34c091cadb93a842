import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tableUrl } from '../../src/manifest/layout.js';
import { quotedName } from '../../src/source/columns.js';
import { backup } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { MYSQL, PG, backedUp, wholeStrategy, type WholeDb } from '../helpers/whole-db.js';

/**
 * `restore <destination>` with no --table: every table of a whole-database backup (tv_whole.*,
 * incremental where a cursor exists, full otherwise; names with spaces, quotes, capitals and
 * emoji; a partitioned table) into one target schema, two tables at once; a pattern's tables
 * only; a table that fails beside others that do not; a pattern matching nothing; one table's
 * folder without --table.
 */

interface Restored {
  table: string;
  target: string;
  status: string;
  format?: string;
  rows: number;
  error?: string;
}
interface Summary {
  jobs: number;
  tables: Restored[];
  rows: number;
  failed: number;
}

const ENTRY = '    strategy: incremental\n    cursor: [updated_at, modified_at]\n    when_no_cursor: full\n';
const BACK = 'tv_whole_all';
const PICK = 'tv_whole_pick';
const BAD = 'tv_whole_bad';
const ONE = 'tv_whole_one';
const ASOF = 'tv_whole_asof';
const SCHEMAS = [BACK, PICK, BAD, ONE, ASOF];

const restore = (dest: string, db: WholeDb, args: string[]) => runCli(['restore', dest, '--target', db.url, ...args]);
const tablesOf = (s: Summary) => s.tables.map((t) => t.table).sort();

describe.each([PG, MYSQL].map((db) => [db.name, db] as const))('restore of a whole backup (%s)', (_, db) => {
  const { file, dir, dest } = wholeStrategy(db, ENTRY);
  const sourceRows = new Map<string, number>();
  const restoredRows = new Map<string, number>();
  let all: CliResult;
  let verified: CliResult;
  let picked: Summary;
  let partial: CliResult;
  let none: CliResult;
  let single: Summary;
  let singleRows: number;
  let asOf: Summary;
  let asOfRows: number;
  beforeAll(async () => {
    await db.create();
    for (const s of SCHEMAS) await db.dropSchema(s);
    const firstRun = jsonSummary<{ runId: string }>(
      await backup(file, ['--parallel', '2', '--json', '--state', db.stateUrl]),
    ).runId;
    all = await restore(dest, db, ['--target-schema', BACK, '--create', '--jobs', '2', '--json']);
    for (const t of backedUp(db)) {
      sourceRows.set(t, await db.count(t));
      restoredRows.set(t, await db.countIn(BACK, t));
    }
    verified = await runCli(['verify', '--source', db.url, '--dest', dest, '--target-schema', BACK, '--json']);
    picked = jsonSummary<Summary>(
      await restore(dest, db, [
        '--tables',
        'tv_whole.small_*',
        '--exclude',
        'small_01',
        '--target-schema',
        PICK,
        '--create',
        '--json',
      ]),
    );
    // small_00 exists in BAD and takes the rows; small_02 does not, and without --create fails
    await db.sql(`CREATE ${db === PG ? 'SCHEMA' : 'DATABASE'} ${BAD}`);
    await db.sql(
      db === PG
        ? `CREATE TABLE ${BAD}.small_00 (LIKE tv_whole.small_00 INCLUDING ALL)`
        : `CREATE TABLE ${BAD}.small_00 LIKE tv_whole.small_00`,
    );
    partial = await restore(dest, db, [
      '--tables',
      'tv_whole.small_00',
      'tv_whole.small_02',
      '--target-schema',
      BAD,
      '--json',
    ]);
    none = await restore(dest, db, ['--tables', 'nope.*', '--target-schema', PICK]);
    single = jsonSummary<Summary>(
      await restore(tableUrl(dest, { schema: 'tv_whole', name: 'small_03' }), db, [
        '--target-schema',
        ONE,
        '--create',
        '--json',
      ]),
    );
    singleRows = await db.countIn(ONE, 'small_03');
    // a second backup run after rows were added: --as-of the first takes every table back to it
    await db.sql("INSERT INTO small_01 (id, label, modified_at) VALUES (1000, 'later', now())");
    await db.sql("INSERT INTO small_02 (id, label) VALUES (1000, 'later')");
    jsonSummary(await backup(file, ['--json', '--state', db.stateUrl]));
    asOf = JSON.parse(
      (
        await restore(dest, db, [
          ...['--as-of', firstRun, '--tables', 'tv_whole.small_01', 'tv_whole.small_02'],
          ...['--target-schema', ASOF, '--create', '--json'],
        ])
      ).stdout,
    ) as Summary;
    asOfRows = await db.countIn(ASOF, 'small_01');
  }, 300_000);
  afterAll(async () => {
    for (const s of SCHEMAS) await db.dropSchema(s);
    await db.drop();
    rmSync(dirname(dir), { recursive: true, force: true });
  });

  it('restores every table the backup holds, in one command', () => {
    expect(all.code, all.stderr).toBe(0);
    expect(tablesOf(jsonSummary<Summary>(all))).toEqual(
      backedUp(db)
        .map((t) => `tv_whole.${t}`)
        .sort(),
    );
  });

  it('each table goes into the target schema under its own name', () => {
    for (const t of jsonSummary<Summary>(all).tables)
      expect(t.target).toBe(`${BACK}.${t.table.slice('tv_whole.'.length)}`);
  });

  it('every restored table holds as many rows as its source', () => {
    expect(Object.fromEntries(restoredRows)).toEqual(Object.fromEntries(sourceRows));
  });

  it('the summary counts each table’s rows and says which were incremental and which full', () => {
    const s = jsonSummary<Summary>(all);
    for (const t of s.tables) expect(t.rows).toBe(sourceRows.get(t.table.slice('tv_whole.'.length)));
    expect(new Set(s.tables.map((t) => t.format))).toEqual(
      new Set(['tablevault.incremental.v1', 'tablevault.export.v1']),
    );
    expect(s.jobs).toBe(2);
  });

  it('verify of the restore target against the backup is one command, and finds every table equal', () => {
    const v = JSON.parse(verified.stdout) as {
      equal: boolean;
      tables: Array<{ table: string; equal: boolean; error?: string; skipped?: string }>;
    };
    expect(v.tables.filter((t) => !t.equal)).toEqual([]);
    // a table without a primary key cannot be compared by key: listed as not compared, and why
    expect(v.tables.filter((t) => t.skipped).map((t) => t.table)).toEqual(
      ['no_key', 'no_key_empty'].map((name) => quotedName({ schema: BACK, name })),
    );
    expect(v.tables).toHaveLength(backedUp(db).length);
    expect(verified.code).toBe(0);
  });

  it('--tables and --exclude pick tables by pattern; a pattern without a schema matches in any', () => {
    expect(tablesOf(picked)).toEqual(
      backedUp(db)
        .filter((t) => t.startsWith('small_') && t !== 'small_01')
        .map((t) => `tv_whole.${t}`)
        .sort(),
    );
  });

  it('a table that fails is reported with its error, the others are restored, and the exit code is 3', () => {
    const s = JSON.parse(partial.stdout) as Summary;
    expect(partial.code).toBe(3);
    expect(s.tables.find((t) => t.table === 'tv_whole.small_00')?.status).toBe('ok');
    expect(s.tables.find((t) => t.table === 'tv_whole.small_02')).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('--create'),
    });
  });

  it('patterns that match no table are bad input (exit 2) naming what the backup holds', () => {
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/no table of .* matches --tables nope\.\*; it holds \d+/);
  });

  it('--as-of the first backup run restores an incremental table as that run left it', () => {
    expect(asOf.tables.find((t) => t.table === 'tv_whole.small_01')?.status).toBe('ok');
    expect(asOfRows).toBe(sourceRows.get('small_01'));
  });

  it('--as-of an earlier run fails a full table, which keeps only its latest export, saying so', () => {
    expect(asOf.tables.find((t) => t.table === 'tv_whole.small_02')).toMatchObject({
      status: 'failed',
      error: expect.stringContaining('keeps only its latest copy'),
    });
  });

  it("one table's folder without --table restores that table under its own name", () => {
    expect(single.tables.map((t) => t.target)).toEqual([`${ONE}.small_03`]);
    expect(singleRows).toBe(sourceRows.get('small_03'));
  });
});
