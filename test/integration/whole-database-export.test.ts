import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli } from '../helpers/cli.js';
import { countParquetRows } from '../helpers/duckdb.js';
import { EXCLUDED_ENTRY, EXCLUDED_TOP, MYSQL, PG, backedUp, folderOf, type WholeDb } from '../helpers/whole-db.js';

interface ExportMany {
  tables: Array<{ table: string; rows: number }>;
  failed: Array<{ table: string; error: string }>;
  stopped: string[];
}

/** One export's outcome: its summary, its folders, and the rows its objects and its sources hold, by table. */
interface Exported {
  summary: ExportMany;
  folders: string[];
  objectRows: Map<string, number>;
  sourceRows: Map<string, number>;
}

async function exportInto(db: WholeDb, root: string, args: string[]): Promise<Exported> {
  const dir = mkdtempSync(join(root, 'dest-'));
  const summary = jsonSummary<ExportMany>(
    await runCli(['export', '--dest', pathToFileURL(dir).href, '--parallel', '2', '--json', ...args]),
  );
  const folders = readdirSync(dir).sort();
  const objectRows = new Map<string, number>();
  const sourceRows = new Map<string, number>();
  for (const t of summary.tables) {
    const name = t.table.slice('tv_whole.'.length);
    const folder = join(dir, folderOf(name));
    const parts = readdirSync(folder).filter((f) => f.endsWith('.parquet'));
    objectRows.set(name, await countParquetRows(parts.map((f) => join(folder, f))));
    sourceRows.set(name, await db.count(name));
  }
  return { summary, folders, objectRows, sourceRows };
}

const qualified = (names: string[]) => names.map((n) => `tv_whole.${n}`).sort();
const PATTERN = ['--table', 'tv_whole.*', '--exclude', 'tv_whole.tmp_*', `tv_whole.${EXCLUDED_ENTRY}`];

describe.each([PG, MYSQL].map((db) => [db.name, db] as const))(
  "export --table 'tv_whole.*' --exclude … (%s)",
  (_, db) => {
    const root = mkdtempSync(join(tmpdir(), 'tv-whole-export-'));
    let got: Exported;
    beforeAll(async () => {
      await db.create();
      got = await exportInto(db, root, ['--source', db.url, ...PATTERN]);
    });
    afterAll(async () => {
      await db.drop();
      rmSync(root, { recursive: true, force: true });
    });

    it('exports every base table the pattern matches but the excluded ones', () => {
      expect(got.summary.tables.map((t) => t.table).sort()).toEqual(qualified(backedUp(db)));
      expect([got.summary.failed, got.summary.stopped]).toEqual([[], []]);
    });

    it('writes one folder per table exported, none for a view, a partition or an excluded table', () => {
      expect(got.folders).toEqual(backedUp(db).map(folderOf).sort());
    });

    it("exports each table's rows, as many as its source holds", () => {
      expect(got.objectRows).toEqual(got.sourceRows);
    });
  },
);

describe('export with no --table, the MySQL URL naming database tv_whole', () => {
  const root = mkdtempSync(join(tmpdir(), 'tv-whole-export-'));
  const url = Object.assign(new URL(MYSQL.url), { pathname: '/tv_whole' }).href;
  let got: Exported;
  beforeAll(async () => {
    await MYSQL.create();
    got = await exportInto(MYSQL, root, ['--source', url]);
  });
  afterAll(async () => {
    await MYSQL.drop();
    rmSync(root, { recursive: true, force: true });
  });

  it('exports every base table of the database, and nothing for its view', () => {
    expect(got.summary.tables.map((t) => t.table).sort()).toEqual(qualified(MYSQL.tables));
    expect(got.folders).toEqual(MYSQL.tables.map(folderOf).sort());
  });

  it('exports no table of another database (tv_whole_back has some)', () => {
    expect(got.summary.tables.filter((t) => !t.table.startsWith('tv_whole.'))).toEqual([]);
  });

  it("exports each table's rows, as many as its source holds", () => {
    expect(got.objectRows).toEqual(got.sourceRows);
  });

  it('leaves out nothing without --exclude', () => {
    expect(got.summary.tables.map((t) => t.table)).toEqual(
      expect.arrayContaining([`tv_whole.${EXCLUDED_TOP}`, `tv_whole.${EXCLUDED_ENTRY}`]),
    );
  });
});
