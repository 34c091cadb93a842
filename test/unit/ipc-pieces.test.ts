import fc from 'fast-check';
import { tableToIPC, Table, type Data, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { BatchAssembler, releaseBatch } from '../../src/arrow/batch.js';
import { ipcMessage } from '../../src/parquet/ipc-pieces.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { readText } from '../../src/source/postgres/text.js';

const cols: ColumnSpec[] = [
  { name: 'id', dbType: 'int8', nullable: false, kind: 'int64' },
  { name: 'name', dbType: 'text', nullable: true, kind: 'string' },
  { name: 'amount', dbType: 'numeric', nullable: true, kind: 'decimal', precision: 12, scale: 2 },
  { name: 'ok', dbType: 'bool', nullable: true, kind: 'bool' },
  { name: 'tags', dbType: '_text', nullable: true, kind: 'list', element: { kind: 'string' } } as ColumnSpec,
];

type Row = [bigint, string | null, string | null, boolean | null, string[] | null];

function batchOf(rows: Row[]): RecordBatch {
  const asm = new BatchAssembler(cols, readText, 4);
  for (const row of rows) {
    row.forEach((v, i) => {
      if (v === null) return asm.builders[i]!.appendNull();
      const text = Array.isArray(v)
        ? `{${v.map((s) => `"${s}"`).join(',')}}`
        : typeof v === 'boolean'
          ? v
            ? 't'
            : 'f'
          : String(v);
      const b = Buffer.from(text);
      asm.builders[i]!.append(b, 0, b.length);
    });
    asm.endRow();
  }
  return asm.flush();
}

const joined = (pieces: Uint8Array[]) => Buffer.concat(pieces);
const ipcOf = (b: RecordBatch) => Buffer.from(tableToIPC(new Table([b]), 'stream'));

const row = fc.tuple(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.option(fc.string({ unit: 'grapheme' }), { nil: null }),
  fc.option(
    fc
      .tuple(fc.integer({ min: -1e9, max: 1e9 }), fc.integer({ min: 0, max: 99 }))
      .map(([u, c]) => `${u}.${String(c).padStart(2, '0')}`),
    { nil: null },
  ),
  fc.option(fc.boolean(), { nil: null }),
  fc.option(fc.array(fc.stringMatching(/^[a-z]{0,5}$/), { maxLength: 4 }), { nil: null }),
) as fc.Arbitrary<Row>;

describe('ipcMessage', () => {
  it("joined, its pieces are tableToIPC's bytes for the same batch", () => {
    fc.assert(
      fc.property(fc.array(row, { maxLength: 40 }), (rows) => {
        const expected = ipcOf(batchOf(rows));
        expect(joined(ipcMessage(batchOf(rows)).pieces).equals(expected)).toBe(true);
      }),
    );
  });

  it("transfers the value and offset buffers of a batch straight from the builders, and nothing that is not the batch's", () => {
    const batch = batchOf([
      [1n, 'a', '1.50', true, ['x']],
      [2n, null, null, null, null],
    ]);
    const own = new Set<ArrayBufferLike>();
    const walk = (d: Data): void => {
      for (const a of [d.values, d.valueOffsets, d.nullBitmap]) if (a && a.byteLength > 0) own.add(a.buffer);
      d.children.forEach(walk);
    };
    batch.data.children.forEach(walk);
    const [id, name, amount] = batch.data.children;
    const { transfer } = ipcMessage(batch);
    expect(transfer.every((b) => own.has(b))).toBe(true);
    // validity bitmaps shorter than 8 bytes are padded into new arrays by Arrow's writer, so not these
    for (const b of [id!.values.buffer, name!.values.buffer, name!.valueOffsets.buffer, amount!.values.buffer])
      expect(transfer).toContain(b);
  });

  it('copies a slice instead: its buffers are shared with the batch it came from', () => {
    const rows: Row[] = [
      [1n, 'a', '1.00', true, ['p']],
      [2n, 'bb', '2.00', false, []],
      [3n, 'ccc', '3.00', null, ['q', 'r']],
    ];
    const batch = batchOf(rows);
    const tail = batch.slice(1);
    const { pieces, transfer } = ipcMessage(tail);
    expect(transfer).toEqual([]);
    expect(joined(pieces).equals(ipcOf(batchOf(rows.slice(1))))).toBe(true);
  });

  it('leaves the message whole after the batch is released', () => {
    const rows: Row[] = [[5n, 'five', '5.05', true, ['v']]];
    const batch = batchOf(rows);
    const { pieces } = ipcMessage(batch);
    const bytes = joined(pieces);
    releaseBatch(batch); // as the encoder does after sending: only what was not transferred is freed
    expect(bytes.equals(ipcOf(batchOf(rows)))).toBe(true);
  });
});
