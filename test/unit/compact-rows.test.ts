import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Int32, Table, vectorFromArray } from 'apache-arrow';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
// the encoder's worker is a built file (dist/parquet/encode-worker.js): the test runs the build
import { ParquetEncoder } from '../../dist/parquet/encode.js';
import { LocalStore } from '../../dist/store/local-store.js';
import { chooseRows } from '../../dist/lifecycle/compact-rows.js';
import type { BackupFile, BackupManifest } from '../../src/manifest/view.js';

/**
 * compact-rows' choice of each live key's winning version, read from real Parquet objects (row
 * objects and tombstone objects of the key alone), against a model of the restore rule: the
 * greatest cursor, NULL lowest, the later version on a tie; a tombstone deletes what came before.
 * Passes over a share of the keys must together choose what one pass does.
 */

type Content = { rows: Array<{ key: number; cursor: number | null }> } | { deletes: number[] };

const encoder = new ParquetEncoder();
afterAll(() => encoder.close());

const m: BackupManifest = {
  format: 'tablevault.incremental.v1',
  source: { engine: 'postgres', schema: 's', table: 't' },
  columns: [
    { name: 'id', dbType: 'int4', nullable: false, kind: 'int32' },
    { name: 'at', dbType: 'int4', nullable: true, kind: 'int32' },
  ],
  primaryKey: ['id'],
  cursor: 'at',
  rows: 0,
  files: [],
};

async function put(store: LocalStore, key: string, c: Content): Promise<void> {
  const table =
    'rows' in c
      ? new Table({
          id: vectorFromArray(
            c.rows.map((r) => r.key),
            new Int32(),
          ),
          at: vectorFromArray(
            c.rows.map((r) => r.cursor),
            new Int32(),
          ),
        })
      : new Table({ id: vectorFromArray(c.deletes, new Int32()) });
  async function* batches() {
    yield* table.batches;
  }
  await store.put({ key, body: encoder.encode(batches(), { compression: 'zstd', rowGroupRows: 100 }) });
}

/** key → `file:row` of its winning version. */
function model(contents: Content[]): Map<number, string> {
  const live = new Map<number, { cursor: number | null; at: string }>();
  contents.forEach((c, file) => {
    if ('deletes' in c) return c.deletes.forEach((k) => live.delete(k));
    c.rows.forEach((r, row) => {
      const prev = live.get(r.key);
      if (!prev || prev.cursor === null || (r.cursor !== null && r.cursor >= prev.cursor))
        live.set(r.key, { cursor: r.cursor, at: `${file}:${row}` });
    });
  });
  return new Map([...live].map(([k, v]) => [k, v.at]));
}

const version = fc.record({
  key: fc.integer({ min: 0, max: 8 }),
  cursor: fc.option(fc.integer({ min: 0, max: 4 }), { nil: null }),
});
const content: fc.Arbitrary<Content> = fc.oneof(
  { weight: 3, arbitrary: fc.array(version, { minLength: 1, maxLength: 8 }).map((rows) => ({ rows })) },
  {
    weight: 1,
    arbitrary: fc.array(fc.integer({ min: 0, max: 8 }), { minLength: 1, maxLength: 4 }).map((deletes) => ({ deletes })),
  },
);

describe('chooseRows (compaction: the winning version of each live key)', () => {
  it('chooses what restore keeps, in one pass or in several', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(content, { minLength: 1, maxLength: 6 }), async (contents) => {
        const root = mkdtempSync(join(tmpdir(), 'tv-compact-rows-'));
        const store = new LocalStore(root);
        const files: BackupFile[] = [];
        for (const [i, c] of contents.entries()) {
          const name = `r${run}/f${i}.parquet`;
          await put(store, name, c);
          files.push({
            name,
            rows: 'rows' in c ? c.rows.length : c.deletes.length,
            bytes: 0,
            sha256: '',
            ...('deletes' in c ? { kind: 'deletes' as const } : {}),
          });
        }
        run++;
        const input = { store, keyOf: (f: BackupFile) => f.name, m, files, batchRows: 3, keysPerPass: 1 };
        const expected = [...model(contents).values()].sort();
        for (const passes of [1, 3]) {
          const got: string[] = [];
          for (let pass = 0; pass < passes; pass++)
            for (const [file, rows] of await chooseRows(input, pass, passes))
              got.push(...rows.map((r) => `${file}:${r}`));
          expect(got.sort(), `${passes} pass(es)`).toEqual(expected);
        }
      }),
      { numRuns: 40 },
    );
  }, 60_000);
});
