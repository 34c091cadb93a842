import { readdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backup } from '../helpers/backup.js';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import {
  DOOMED,
  EXCLUDED_ENTRY,
  EXCLUDED_TOP,
  MYSQL,
  PG,
  backedUp,
  folderOf,
  restoreAndCompare,
  wholeStrategy,
} from '../helpers/whole-db.js';

interface Result {
  table: string;
  strategy: string;
  status: string;
  rows: number;
  why?: string;
  new?: boolean;
}
interface Summary {
  tables: Result[];
  goneTables: Array<{ table: string; lastSeen: string }>;
}
interface StatusRow {
  table: string;
  strategy: string;
  files: number;
  rows: number;
  goneSince?: string;
}

const qualified = (names: string[]) => names.map((n) => `tv_whole.${n}`).sort();
const names = (s: Summary) => s.tables.map((t) => t.table).sort();
const LATE = 'late_arrival';
/** Entries beside tv_whole.*: a more specific pattern, and a view named exactly. */
const LAYERED = '  - table: tv_whole.small_*\n    strategy: full\n  - table: tv_whole.big_by_grp\n    strategy: full\n';

/**
 * A whole schema backed up through one `tv_whole.*` entry, strategy full: a dry run, a first run
 * restored table by table, then a table created and one dropped before a second run.
 */
describe.each([PG, MYSQL].map((db) => [db.name, db] as const))('a whole database through tv_whole.* (%s)', (_, db) => {
  const { file, dir, dest } = wholeStrategy(db, '    strategy: full\n');
  const state = ['--state', db.stateUrl];
  let dryRun: Summary;
  let dryRunText: CliResult;
  let afterDryRun: string[];
  let first: Summary;
  let firstFolders: string[];
  let sourceRows: Map<string, number>;
  let restored: Awaited<ReturnType<typeof restoreAndCompare>>;
  let second: Summary;
  let secondFolders: string[];
  let status: StatusRow[];
  let layered: Summary;
  let viewRun: Summary;
  let viewFolders: string[];
  let oldStore: Summary;
  beforeAll(async () => {
    await db.create();
    dryRun = jsonSummary<Summary>(await backup(file, ['--dry-run', '--json', ...state]));
    dryRunText = await backup(file, ['--dry-run', ...state]);
    afterDryRun = readdirSync(dir);
    const other = wholeStrategy(db, '    strategy: full\n    partitions: each\n', LAYERED);
    layered = jsonSummary<Summary>(await backup(other.file, ['--dry-run', '--json', ...state]));
    viewRun = jsonSummary<Summary>(await backup(other.file, ['--only', 'tv_whole.big_by_grp', '--json', ...state]));
    viewFolders = readdirSync(other.dir);
    rmSync(dirname(other.dir), { recursive: true, force: true });
    first = jsonSummary<Summary>(await backup(file, ['--json', '--parallel', '2', ...state]));
    firstFolders = readdirSync(dir).sort();
    sourceRows = new Map();
    for (const t of db.tables) sourceRows.set(t, await db.count(t));
    // one table through the restore command: a name with a quote in its --table argument
    restored = await restoreAndCompare(db, dest, backedUp(db), ['quo"te']);
    await db.sql(
      `CREATE TABLE ${LATE} (id int PRIMARY KEY, v text); INSERT INTO ${LATE} VALUES (1, 'a'), (2, 'b'), (3, NULL); DROP TABLE ${DOOMED};`,
    );
    second = jsonSummary<Summary>(await backup(file, ['--json', ...state]));
    secondFolders = readdirSync(dir).sort();
    status = jsonSummary<{ tables: StatusRow[] }>(await runCli(['status', file, '--json', ...state])).tables;
    // the store as migration 0004 left it (a --dry-run does not migrate)
    await db.state(
      "ALTER TABLE tablevault_seen DROP COLUMN state_key; DELETE FROM tablevault_migration WHERE name = '0005_seen_state_key'",
    );
    oldStore = jsonSummary<Summary>(await backup(file, ['--dry-run', '--json', ...state]));
  });
  afterAll(async () => {
    await db.drop();
    rmSync(dirname(dir), { recursive: true, force: true });
  });

  it('--dry-run lists every base table of the schema but the excluded ones', () => {
    expect(names(dryRun)).toEqual(qualified(backedUp(db)));
  });

  it('--dry-run says each table got the tv_whole.* entry', () => {
    expect(new Set(dryRun.tables.map((t) => t.why))).toEqual(new Set(['pattern "tv_whole.*"']));
  });

  it("--dry-run's table has an entry column naming the pattern on every table's line", () => {
    const lines = dryRunText.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/\bentry$/);
    expect(lines.slice(1).filter((l) => l.endsWith('pattern "tv_whole.*"'))).toHaveLength(backedUp(db).length);
  });

  it('--dry-run writes nothing', () => {
    expect(afterDryRun).toEqual([]);
  });

  it('backs up every table the pattern matches', () => {
    expect(names(first)).toEqual(qualified(backedUp(db)));
    expect(first.tables.filter((t) => t.status !== 'ok')).toEqual([]);
  });

  it('backs up each table with as many rows as its source', () => {
    for (const t of first.tables)
      expect([t.table, t.rows]).toEqual([t.table, sourceRows.get(t.table.slice('tv_whole.'.length))]);
  });

  it('writes one folder per table backed up, and no other', () => {
    expect(firstFolders).toEqual(backedUp(db).map(folderOf).sort());
  });

  it('writes no folder for a view, a materialized view or a partition', () => {
    for (const r of db.notTables) expect(firstFolders).not.toContain(folderOf(r));
  });

  it('backs a partitioned table up once, through its parent, with the rows of all its partitions', () => {
    expect(firstFolders).toContain(folderOf('events'));
    expect(first.tables.find((t) => t.table === 'tv_whole.events')!.rows).toBe(900);
  });

  it('writes no folder for a table the top-level exclude names', () => {
    expect(firstFolders).not.toContain(folderOf(EXCLUDED_TOP));
  });

  it("writes no folder for a table the entry's exclude names", () => {
    expect(firstFolders).not.toContain(folderOf(EXCLUDED_ENTRY));
  });

  it('restores every table equal to its source', () => {
    const bad = [...restored].filter(([, r]) => r.error !== undefined || r.missing || r.extra);
    expect(bad.map(([n, r]) => [n, r.error, r.missing, r.extra])).toEqual([]);
    expect(restored.size).toBe(backedUp(db).length);
  });

  it('flags every table new on the first run', () => {
    expect(first.tables.filter((t) => !t.new)).toEqual([]);
  });

  it('backs up a table created between runs in the next run', () => {
    expect(second.tables.find((t) => t.table === `tv_whole.${LATE}`)).toMatchObject({ status: 'ok', rows: 3 });
    expect(secondFolders).toContain(folderOf(LATE));
  });

  it('flags only the table created between runs new on the second run', () => {
    expect(second.tables.filter((t) => t.new).map((t) => t.table)).toEqual([`tv_whole.${LATE}`]);
  });

  it('reports a table dropped between runs gone in the summary', () => {
    expect(second.goneTables).toEqual([{ table: `tv_whole.${DOOMED}`, lastSeen: expect.any(String) }]);
  });

  it('keeps the backup of a table dropped between runs', () => {
    expect(secondFolders).toContain(folderOf(DOOMED));
  });

  it('status lists the dropped table as gone since its last run, with what its backup holds', () => {
    expect(status.filter((r) => r.goneSince)).toEqual([
      expect.objectContaining({
        table: `tv_whole.${DOOMED}`,
        goneSince: second.goneTables[0]?.lastSeen,
        strategy: 'full',
        files: 1,
        rows: 2,
      }),
    ]);
  });

  it('backs up a view named exactly, as a full table', () => {
    expect(viewRun.tables).toEqual([
      expect.objectContaining({ table: 'tv_whole.big_by_grp', status: 'ok', rows: 97, why: 'named exactly' }),
    ]);
    expect(viewFolders).toEqual([folderOf('big_by_grp')]);
  });

  it('gives a table the most specific pattern that matches it, and --dry-run says which it beat', () => {
    const why = (n: string) => layered.tables.find((t) => t.table === `tv_whole.${n}`)?.why;
    expect([why('small_01'), why('big')]).toEqual([
      'pattern "tv_whole.small_*", more specific than "tv_whole.*"',
      'pattern "tv_whole.*"',
    ]);
  });

  it('with partitions: each, backs up each partition and not their parent', () => {
    const tables = db.partitions.length
      ? [...backedUp(db).filter((n) => n !== 'events'), ...db.partitions]
      : backedUp(db);
    expect(names(layered)).toEqual(qualified([...tables, 'big_by_grp']));
  });

  it('--dry-run on a state store from before migration 0005 still knows the tables seen, and those gone', () => {
    expect([oldStore.tables.filter((t) => t.new), oldStore.goneTables.map((g) => g.table)]).toEqual([
      [],
      [`tv_whole.${DOOMED}`],
    ]);
  });
});
