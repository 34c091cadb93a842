import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ColumnSpec } from '../../src/source/columns.js';
import type { LoadBatch, LoadPlan } from '../../src/source/loader.js';
import { openLoader } from '../../src/source/postgres/loader.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { bytesData, int32Data } from '../helpers/pg-copy.js';

/**
 * One table's batches in both wire formats (an object whose columns all have binary writers, then
 * one that goes as text): loaded in the table's one transaction, the COPY is cut where the format
 * changes and every row arrives. Tables live in a schema of this file's own (tv_formats).
 */

const S = 'tv_formats';
const COLUMNS: ColumnSpec[] = [
  { name: 'id', dbType: 'integer', nullable: false, kind: 'int32' },
  { name: 'v', dbType: 'text', nullable: true, kind: 'string' },
];
const plan: LoadPlan = { table: { schema: S, name: 't' }, columns: COLUMNS, conflict: 'insert', primaryKey: ['id'] };

/** Rows [from, to): binary batches carry their Arrow columns, text ones only cells. */
function batch(from: number, to: number, binary: boolean): LoadBatch {
  const ids = Array.from({ length: to - from }, (_, i) => from + i);
  const values = ids.map((i) => (i % 3 ? `v${i}` : null));
  return {
    numRows: ids.length,
    cells: [(r) => String(ids[r]), (r) => values[r]!],
    ...(binary
      ? {
          columns: [
            { data: int32Data(ids), written: COLUMNS[0]! },
            { data: bytesData(values), written: COLUMNS[1]! },
          ],
        }
      : {}),
  };
}

async function* batches(): AsyncGenerator<LoadBatch> {
  yield batch(0, 100, true);
  yield batch(100, 200, true);
  yield batch(200, 300, false);
  yield batch(300, 400, true);
}

describe('a table whose batches change wire format', () => {
  let formats: Record<string, number>;
  let rows: Array<{ n: number; nulls: number; sum: number }>;
  beforeAll(async () => {
    await withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${S} CASCADE; CREATE SCHEMA ${S}`));
    const loader = await openLoader(PG_URL);
    try {
      await loader.loadTable!(
        {
          plan,
          create: `CREATE TABLE ${S}.t (id int NOT NULL, v text)`,
          after: [`ALTER TABLE ${S}.t ADD PRIMARY KEY (id)`],
        },
        batches(),
      );
      formats = { ...loader.formats! };
    } finally {
      await loader.close();
    }
    rows = await withPg(
      async (c) =>
        (
          await c.query(
            `SELECT count(*)::int AS n, count(*) FILTER (WHERE v IS NULL)::int AS nulls, sum(id)::int AS sum FROM ${S}.t WHERE v IS NULL OR v = 'v' || id`,
          )
        ).rows,
    );
  });
  afterAll(() => withPg((c) => c.query(`DROP SCHEMA IF EXISTS ${S} CASCADE`)));

  it('loads each batch in its own format', () => {
    expect(formats).toEqual({ binary: 3, text: 1 });
  });

  it('loads every row with its value', () => {
    expect(rows).toEqual([{ n: 400, nulls: 134, sum: (399 * 400) / 2 }]);
  });
});
