import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';

/**
 * Two backed-up tables of one name, from two schemas, restored into one --target-schema one at a
 * time: the first creates the table and the second adds its rows to it. A whole-backup restore
 * reads the next table's manifest and target while one loads; where two tables go to one target
 * it must not, or the second would see no table and fail creating it.
 */

const A = 'tv_rsame_a';
const B = 'tv_rsame_b';
const INTO = 'tv_rsame_into';

interface Summary {
  failed: number;
  tables: Array<{ table: string; status: string; rows: number; error?: string }>;
}

describe('restore of a whole backup whose tables share a name, into one target schema (postgres)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tv-rsame-'));
  const dest = pathToFileURL(dir).href;
  let summary: Summary;
  let rows: number;
  beforeAll(async () => {
    await withPg(async (c) => {
      for (const s of [A, B, INTO]) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
      for (const [s, ids] of [
        [A, '1, 2, 3'],
        [B, '4, 5'],
      ] as const) {
        await c.query(`CREATE SCHEMA ${s}`);
        await c.query(`CREATE TABLE ${s}.t (id int PRIMARY KEY, v text)`);
        await c.query(`INSERT INTO ${s}.t SELECT i, 'row ' || i FROM unnest(ARRAY[${ids}]) AS i`);
      }
    });
    for (const s of [A, B]) {
      const ex = await runCli(['export', '--source', PG_URL, '--table', `${s}.t`, '--dest', dest]);
      if (ex.code !== 0) throw new Error(ex.stderr);
    }
    // exit 3 when a table fails: the summary says which
    const restored = await runCli([
      'restore',
      dest,
      '--target',
      PG_URL,
      '--target-schema',
      INTO,
      '--create',
      '--jobs',
      '1',
      '--json',
    ]);
    summary = JSON.parse(restored.stdout) as Summary;
    rows = await withPg(async (c) => Number((await c.query(`SELECT count(*) AS n FROM ${INTO}.t`)).rows[0].n));
  }, 120_000);
  afterAll(async () => {
    await withPg(async (c) => {
      for (const s of [A, B, INTO]) await c.query(`DROP SCHEMA IF EXISTS ${s} CASCADE`);
    });
    rmSync(dir, { recursive: true, force: true });
  });

  it('the second table loads into the table the first created, neither failing', () => {
    expect(summary.tables.map((t) => [t.status, t.error ?? ''])).toEqual([
      ['ok', ''],
      ['ok', ''],
    ]);
    expect(rows).toBe(5);
  });
});
