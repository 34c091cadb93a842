import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../helpers/backup.js';
import { jsonSummary, runCli } from '../helpers/cli.js';
import {
  BIG_ROWS,
  DOOMED,
  MYSQL,
  PG,
  SMALL,
  backedUp,
  folderOf,
  restoreAndCompare,
  wholeStrategy,
  type WholeDb,
} from '../helpers/whole-db.js';

interface Result {
  table: string;
  strategy: string;
  status: string;
  rows: number;
  why?: string;
}
interface Summary {
  tables: Result[];
  goneTables: Array<{ table: string; lastSeen: string }>;
}
interface StatusRow {
  table: string;
  strategy: string;
  watermark: string[] | null;
  files: number;
  rows: number;
  goneSince?: string;
}

const ENTRY = '    strategy: incremental\n    cursor: [updated_at, modified_at]\n    when_no_cursor: full\n';

/** Tables with a candidate cursor (NOT NULL), by the one they get: pair_key's updated_at is nullable. */
const CURSORS: Record<string, string> = {
  ...Object.fromEntries(SMALL.filter((s) => s.cursor).map((s) => [s.name, s.cursor!])),
  big: 'updated_at',
  pair_key: 'modified_at',
  all_types: 'updated_at',
  events: 'updated_at',
  CamelCase: 'updated_at',
  [DOOMED]: 'updated_at',
};

/** What changes between the runs (and the doomed table is dropped), and how many rows of each incremental table the second run reads. */
const CHANGES = {
  pg: `INSERT INTO big SELECT g, 1, 1.5, 'new', timestamptz '2025-01-01 00:00:00+00' + g * interval '1 second'
         FROM generate_series(${BIG_ROWS + 1}, ${BIG_ROWS + 1000}) g;
       UPDATE big SET note = 'changed', updated_at = timestamptz '2025-06-01 00:00:00+00' + id * interval '1 second' WHERE id <= 500;
       UPDATE pair_key SET qty = -qty, modified_at = timestamptz '2025-01-01 00:00:00+00' WHERE tenant = 0;
       INSERT INTO small_00 VALUES (1, 'first', now()), (2, 'second', now());
       INSERT INTO small_02 VALUES (1000, 'full again');
       INSERT INTO events VALUES (5000, '2026-01-01', 'late', now());
       UPDATE events SET kind = 'moved', updated_at = now() WHERE id = 1;
       DROP TABLE ${DOOMED};`,
  mysql: `INSERT INTO big SELECT n + ${BIG_ROWS}, 1, 1.5, 'new', TIMESTAMP'2025-01-01 00:00:00' + INTERVAL n SECOND
         FROM tv_whole_back.numbers WHERE n <= 1000;
       UPDATE big SET note = 'changed', updated_at = TIMESTAMP'2025-06-01 00:00:00' + INTERVAL id SECOND WHERE id <= 500;
       UPDATE pair_key SET qty = -qty, modified_at = TIMESTAMP'2025-01-01 00:00:00' WHERE tenant = 0;
       INSERT INTO small_00 VALUES (1, 'first', NOW(6)), (2, 'second', NOW(6));
       INSERT INTO small_02 VALUES (1000, 'full again');
       INSERT INTO events VALUES (5000, '2026-01-01', 'late', NOW(6));
       UPDATE events SET kind = 'moved', updated_at = NOW(6) WHERE id = 1;
       DROP TABLE ${DOOMED};`,
};
/** The tables left for the second run. */
const remaining = (db: WholeDb) => backedUp(db).filter((n) => n !== DOOMED);
const qualified = (names: string[]) => names.map((n) => `tv_whole.${n}`).sort();

const SECOND_ROWS: Record<string, number> = { big: 1500, pair_key: 80, small_00: 2, events: 2 };

/**
 * A whole schema through one incremental `tv_whole.*` entry with a cursor candidate list and
 * `when_no_cursor: full`: a first run, inserts and updates, a second run, and a restore of every table.
 */
describe.each([
  [PG.name, PG, CHANGES.pg],
  [MYSQL.name, MYSQL, CHANGES.mysql],
] as const)('a whole database through an incremental tv_whole.* (%s)', (_, db, changes) => {
  const { file, dir, dest } = wholeStrategy(db, ENTRY);
  const state = ['--state', db.stateUrl];
  let first: Summary;
  let second: Summary;
  let status: StatusRow[];
  let sourceRows: Map<string, number>;
  let restored: Awaited<ReturnType<typeof restoreAndCompare>>;
  let folders: string[];
  const firstOf = (name: string) => first.tables.find((t) => t.table === `tv_whole.${name}`)!;
  const keyColumns = (name: string) =>
    (JSON.parse(readFileSync(join(dir, folderOf(name), '_manifest.json'), 'utf8')) as { keyColumns: string[] })
      .keyColumns;
  beforeAll(async () => {
    await db.create();
    first = jsonSummary<Summary>(await backup(file, ['--json', ...state]));
    await db.sql(changes);
    second = jsonSummary<Summary>(await backup(file, ['--json', ...state]));
    status = jsonSummary<{ tables: StatusRow[] }>(await runCli(['status', file, '--json', ...state])).tables;
    sourceRows = new Map();
    for (const t of remaining(db)) sourceRows.set(t, await db.count(t));
    // one incremental table through the restore command, the others in-process
    restored = await restoreAndCompare(db, dest, remaining(db), ['CamelCase']);
    folders = readdirSync(dir);
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dirname(dir), { recursive: true, force: true });
  });

  it('backs up every table the pattern matches, on both runs', () => {
    expect(first.tables.map((t) => t.table).sort()).toEqual(qualified(backedUp(db)));
    expect(second.tables.map((t) => t.table).sort()).toEqual(qualified(remaining(db)));
    expect([...first.tables, ...second.tables].filter((t) => t.status !== 'ok')).toEqual([]);
  });

  it('backs up each table with a candidate cursor incrementally', () => {
    for (const name of Object.keys(CURSORS)) expect([name, firstOf(name).strategy]).toEqual([name, 'incremental']);
  });

  it('keys each incremental table by the first candidate it has that is NOT NULL', () => {
    for (const [name, cursor] of Object.entries(CURSORS)) expect([name, keyColumns(name)[0]]).toEqual([name, cursor]);
  });

  it('backs up each table without a candidate cursor in full, saying why', () => {
    const full = backedUp(db).filter((n) => !(n in CURSORS) && !n.startsWith('no_key'));
    for (const name of full)
      expect([name, firstOf(name).strategy, firstOf(name).why]).toEqual([
        name,
        'full',
        expect.stringMatching(/no cursor: none of updated_at, modified_at is a non-null orderable column.*, so full$/),
      ]);
  });

  it('backs up a table without a primary key in full, though it has a cursor column', () => {
    expect(firstOf('no_key')).toMatchObject({
      strategy: 'full',
      why: expect.stringMatching(/no primary key: .*, so full$/),
    });
  });

  it('backs up every row on the first run', () => {
    expect(firstOf('big').rows).toBe(BIG_ROWS);
  });

  it('reads only the rows inserted or changed since on the second run', () => {
    const incremental = second.tables.filter((t) => t.strategy === 'incremental');
    const got = Object.fromEntries(
      incremental.filter((t) => t.rows).map((t) => [t.table.slice('tv_whole.'.length), t.rows]),
    );
    expect(got).toEqual(SECOND_ROWS);
  });

  it('reads every row of a full table again on the second run', () => {
    const small02 = second.tables.find((t) => t.table === 'tv_whole.small_02')!;
    expect([small02.strategy, small02.rows]).toEqual(['full', sourceRows.get('small_02')]);
  });

  it('backs a partitioned table up once, through its parent', () => {
    expect(folders).toContain(folderOf('events'));
    for (const r of db.notTables) expect(folders).not.toContain(folderOf(r));
  });

  it('restores every table equal to its source after both runs', () => {
    const bad = [...restored].filter(([, r]) => r.error !== undefined || r.missing || r.extra);
    expect(bad.map(([n, r]) => [n, r.error, r.missing, r.extra])).toEqual([]);
    expect(restored.size).toBe(remaining(db).length);
  });

  it('reports a dropped incremental table gone in the summary', () => {
    expect(second.goneTables.map((g) => g.table)).toEqual([`tv_whole.${DOOMED}`]);
  });

  it("status shows a dropped incremental table's watermark, files and rows, gone since its last run", () => {
    expect(status.filter((r) => r.goneSince)).toEqual([
      expect.objectContaining({
        table: `tv_whole.${DOOMED}`,
        strategy: 'incremental',
        watermark: [expect.any(String), '2'],
        files: 1,
        rows: 2,
        goneSince: second.goneTables[0]?.lastSeen,
      }),
    ]);
  });
});
