import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromArrays, tableToIPC } from 'apache-arrow';
import fc from 'fast-check';
import * as wasm from 'parquet-wasm';
import { afterAll, describe, expect, it } from 'vitest';
import { pickRows } from '../../src/lifecycle/compact-rows.js';
import { keyDigest, keyPlace, liveKeys, passOf } from '../../src/lifecycle/live-keys.js';
import { hashes } from '../../src/checksum/canon.js';
import type { BackupManifest } from '../../src/manifest/view.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { LocalStore } from '../../src/store/local-store.js';

const root = mkdtempSync(join(tmpdir(), 'tv-live-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store = new LocalStore(root);

/** An object of rows (id, name) written as Parquet with row groups of `groupRows`. */
function writeObject(name: string, ids: number[], groupRows = 1000): string {
  const t = tableFromArrays({ id: Int32Array.from(ids), name: ids.map((i) => `n${i}`) });
  const props = new wasm.WriterPropertiesBuilder().setMaxRowGroupSize(groupRows).build();
  writeFileSync(join(root, name), wasm.writeParquet(wasm.Table.fromIPCStream(tableToIPC(t, 'stream')), props));
  return name;
}

const id: ColumnSpec = { name: 'id', dbType: 'int4', nullable: false, kind: 'int32' };
const manifest = (files: BackupManifest['files']): BackupManifest => ({
  format: 'tablevault.incremental.v1',
  source: { engine: 'postgres', schema: 's', table: 't' },
  columns: [id, { name: 'name', dbType: 'text', nullable: true, kind: 'string' }],
  primaryKey: ['id'],
  cursor: 'id',
  rows: 0,
  files,
});
const file = (name: string, kind?: 'deletes') => ({ name, rows: 0, bytes: 0, sha256: '', ...(kind ? { kind } : {}) });

describe('pickRows with a column list', () => {
  it('gives exactly the rows asked for, in order, whatever the batch size and row groups', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 97 }),
        fc.integer({ min: 1, max: 120 }),
        fc.func(fc.boolean()),
        async (count, batchRows, groupRows, pick) => {
          const ids = Array.from({ length: count }, (_, i) => i * 10);
          const name = writeObject(`o${n++}.parquet`, ids, groupRows);
          const rows = ids.map((_, i) => i).filter((i) => pick(i));
          const got: number[] = [];
          for await (const b of pickRows(store, name, rows, batchRows, ['id'])) {
            expect(b.schema.fields.map((f) => f.name)).toEqual(['id']);
            for (const r of b.toArray()) got.push(r.id as number);
          }
          expect(got).toEqual(rows.map((i) => ids[i]));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('keyDigest', () => {
  it('is the bucket and the two sums verify computes for a row whose text is its key', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (k) => {
        const h = hashes(k, k);
        expect(keyDigest(k)).toEqual({ bucket: h.bucket, a: h.a, b: h.b });
      }),
    );
  });
});

describe('passOf', () => {
  it('puts every key in one of the passes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.maxSafeInteger()), fc.integer({ min: 1, max: 9 }), (k, n) => {
        const p = passOf(k, n);
        expect(Number.isInteger(p) && p >= 0 && p < n).toBe(true);
      }),
    );
  });
});

describe('liveKeys', () => {
  it('a tombstone removes the keys of the objects before it; a later object brings a key back', async () => {
    const m = manifest([
      file(writeObject('a.parquet', [1, 2, 3, 4])),
      file(writeObject('b.parquet', [2, 5])),
      file(writeObject('d.deletes', [2, 3]), 'deletes'),
      file(writeObject('c.parquet', [3])),
    ]);
    const live = await liveKeys(store, (f) => f.name, m, m.files, [id], undefined, 2);
    expect([...live.keys()].sort()).toEqual([1, 3, 4, 5]);
    expect(live.get(3)).toBe(keyPlace(3, 0));
    expect(live.get(5)).toBe(keyPlace(1, 1));
  });

  it('keeps only the keys of its pass', async () => {
    const m = manifest([
      file(
        writeObject(
          'e.parquet',
          Array.from({ length: 200 }, (_, i) => i),
        ),
      ),
    ]);
    const all = await liveKeys(store, (f) => f.name, m, m.files, [id], undefined, 64);
    const even = await liveKeys(
      store,
      (f) => f.name,
      m,
      m.files,
      [id],
      (k) => passOf(k, 2) === 0,
      64,
    );
    expect(even.size).toBeGreaterThan(0);
    expect([...even.keys()].every((k) => passOf(k, 2) === 0)).toBe(true);
    expect(even.size).toBe([...all.keys()].filter((k) => passOf(k, 2) === 0).length);
  });
});
