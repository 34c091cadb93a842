import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../src/source/columns.js';
import type { LoadBatch, LoadPlan } from '../../src/source/loader.js';
import { openLoader } from '../../src/source/postgres/loader.js';
import { PG_URL, withPg } from '../helpers/db.js';

/**
 * "Newest cursor wins" two ways: a new table loaded in one transaction (every version staged,
 * then the newest of each key in one INSERT) and an existing table merged batch by batch must
 * end with the same rows: the greatest cursor, and among equal cursors the later version. Tables
 * live in a schema of this file's own (tv_newest).
 */

const S = 'tv_newest';
const COLUMNS: ColumnSpec[] = [
  { name: 'id', dbType: 'integer', nullable: false, kind: 'int32' },
  { name: 'at', dbType: 'integer', nullable: false, kind: 'int32' },
  { name: 'v', dbType: 'text', nullable: true, kind: 'string' },
];

/** Versions in file order, [id, cursor, value], two batches. */
const BATCHES: Array<Array<[number, number, string]>> = [
  [
    [1, 5, 'one: newest, first'],
    [2, 4, 'two: tie, earlier'],
    [3, 1, 'three: old'],
  ],
  [
    [1, 3, 'one: older, later in the file'],
    [2, 4, 'two: tie, later'],
    [3, 2, 'three: newer'],
    [4, 7, 'four: once'],
  ],
];

async function* batches(): AsyncGenerator<LoadBatch> {
  for (const b of BATCHES) yield { numRows: b.length, cells: [0, 1, 2].map((c) => (r: number) => String(b[r]![c])) };
}

const plan = (name: string): LoadPlan => ({
  table: { schema: S, name },
  columns: COLUMNS,
  conflict: 'newest',
  primaryKey: ['id'],
  cursor: 'at',
});

const rows = (t: string) => withPg(async (c) => (await c.query(`SELECT id, at, v FROM ${S}.${t} ORDER BY id`)).rows);

describe('newest cursor wins, loaded in one transaction or merged batch by batch', () => {
  let fresh: unknown[];
  let merged: unknown[];
  beforeAll(async () => {
    await withPg((c) =>
      c.query(
        `DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}; CREATE TABLE ${S}.merged (id int PRIMARY KEY, at int NOT NULL, v text)`,
      ),
    );
    const loader = await openLoader(PG_URL);
    try {
      await loader.loadTable!(
        {
          plan: plan('fresh'),
          create: `CREATE TABLE ${S}.fresh (id int NOT NULL, at int NOT NULL, v text)`,
          after: [`ALTER TABLE ${S}.fresh ADD PRIMARY KEY (id)`],
        },
        batches(),
      );
      for await (const b of batches()) await loader.load(plan('merged'), b);
    } finally {
      await loader.close();
    }
    fresh = await rows('fresh');
    merged = await rows('merged');
  });
  afterAll(() => withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`)));

  it('keeps the greatest cursor of each key, the later version on a tie', () => {
    expect(fresh).toEqual([
      { id: 1, at: 5, v: 'one: newest, first' },
      { id: 2, at: 4, v: 'two: tie, later' },
      { id: 3, at: 2, v: 'three: newer' },
      { id: 4, at: 7, v: 'four: once' },
    ]);
  });

  it('ends with the rows a batch-by-batch merge leaves', () => {
    expect(fresh).toEqual(merged);
  });
});
