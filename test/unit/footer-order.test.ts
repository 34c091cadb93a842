import { tableFromArrays, tableFromIPC, tableToIPC, type RecordBatch } from 'apache-arrow';
import fc from 'fast-check';
import * as wasm from 'parquet-wasm';
import { describe, expect, it } from 'vitest';
import { sortFooterMetadata } from '../../src/parquet/footer-order.js';

const rows = tableFromArrays({ id: Int32Array.from([3, 1, 2]), name: ['c', 'a', null] });

function write(metadata: Map<string, string>, rowGroupRows = 1024): Uint8Array {
  const props = new wasm.WriterPropertiesBuilder()
    .setMaxRowGroupSize(rowGroupRows)
    .setKeyValueMetadata(metadata)
    .build();
  return wasm.writeParquet(wasm.Table.fromIPCStream(tableToIPC(rows, 'stream')), props);
}

async function keyValues(file: Uint8Array): Promise<Array<[string, string]>> {
  const f = await wasm.ParquetFile.fromFile(new Blob([file]));
  return [...(f.metadata().fileMetadata().keyValueMetadata() as Map<string, string>).entries()];
}

function readRows(file: Uint8Array): unknown[] {
  return tableFromIPC(wasm.readParquet(file).intoIPCStream())
    .toArray()
    .map((r: ReturnType<RecordBatch['get']>) => r?.toJSON());
}

const utf8 = (s: string) => Buffer.from(s, 'utf8');
const byKeyBytes = (a: [string, string], b: [string, string]) => Buffer.compare(utf8(a[0]), utf8(b[0]));

describe('sortFooterMetadata', () => {
  it('lists the footer metadata in key order', async () => {
    const file = write(
      new Map([
        ['tablevault.version', '1'],
        ['b', '2'],
        ['a', '3'],
        ['tablevault.after', 'null'],
      ]),
    );
    expect(sortFooterMetadata(file)).toBe(true);
    expect((await keyValues(file)).map(([k]) => k)).toEqual([
      'ARROW:schema',
      'a',
      'b',
      'tablevault.after',
      'tablevault.version',
    ]);
  });

  it('leaves the rows, the length and every key and value as they were', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.tuple(fc.string({ unit: 'binary', minLength: 1 }), fc.string({ unit: 'binary' })), {
          selector: ([k]) => k,
          maxLength: 12,
        }),
        fc.integer({ min: 1, max: 3 }),
        async (pairs, rowGroupRows) => {
          const file = write(new Map(pairs.filter(([k]) => k !== 'ARROW:schema')), rowGroupRows);
          const before = { length: file.length, rows: readRows(file), kv: await keyValues(file) };
          expect(sortFooterMetadata(file)).toBe(true);
          const kv = await keyValues(file);
          expect(file.length).toBe(before.length);
          expect(readRows(file)).toEqual(before.rows);
          expect(kv).toEqual([...before.kv].sort(byKeyBytes));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives the same bytes whichever order the writer listed the keys in', () => {
    const entries: Array<[string, string]> = Array.from({ length: 8 }, (_, i) => [`key.${i}`, `value ${i}`]);
    const files = Array.from({ length: 6 }, () => write(new Map(entries)));
    expect(new Set(files.map((f) => Buffer.from(f).toString('base64'))).size).toBeGreaterThan(1); // the writer's order varies
    for (const f of files) sortFooterMetadata(f);
    for (const f of files.slice(1)) expect(Buffer.compare(f, files[0]!)).toBe(0);
  });

  it('changes nothing and says so when the bytes given do not hold the whole footer', () => {
    const file = write(
      new Map([
        ['z', '1'],
        ['a', '2'],
      ]),
    );
    const tail = file.slice(file.length - 20);
    const copy = tail.slice();
    expect(sortFooterMetadata(tail)).toBe(false);
    expect(tail).toEqual(copy);
  });

  it('changes nothing and says so when the bytes do not end a Parquet file', () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(sortFooterMetadata(bytes)).toBe(false);
    expect([...bytes]).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
