import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BatchAssembler } from '../../src/arrow/batch.js';
import { cellReader } from '../../src/arrow/to-text.js';
import { binaryWriterFor, type TargetType } from '../../src/source/postgres/binary-writers.js';
import { ChunkPool, CopyOut } from '../../src/source/postgres/copy-chunks.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { readText, valueText } from '../../src/source/postgres/text.js';

/**
 * cellReader and the binary COPY writers on a slice of a batch (Arrow's Data.slice: value and offset buffers already start at
 * the slice, only the validity bitmap goes by Data.offset) read the slice's own rows: the texts
 * and COPY bytes of row k of `batch.slice(from)` are those of row from + k of the batch.
 */
const cols: ColumnSpec[] = [
  { name: 'n', dbType: 'int8', nullable: true, kind: 'int64' },
  { name: 'd', dbType: 'numeric', nullable: true, kind: 'decimal', precision: 12, scale: 2 },
  { name: 't', dbType: 'timestamptz', nullable: true, kind: 'timestamptz' },
  { name: 'tm', dbType: 'time', nullable: true, kind: 'time' },
  { name: 'day', dbType: 'date', nullable: true, kind: 'date' },
  { name: 'f', dbType: 'float8', nullable: true, kind: 'float64' },
  { name: 's', dbType: 'text', nullable: true, kind: 'string' },
  { name: 'ok', dbType: 'bool', nullable: true, kind: 'bool' },
  { name: 'tags', dbType: '_int4', nullable: true, kind: 'list', element: { kind: 'int32' } } as ColumnSpec,
];

const cell = fc.record({
  n: fc.option(fc.bigInt({ min: -(2n ** 62n), max: 2n ** 62n }).map(String), { nil: null }),
  d: fc.option(
    fc.integer({ min: -99_999_999, max: 99_999_999 }).map((c) => (c / 100).toFixed(2)),
    { nil: null },
  ),
  t: fc.option(
    fc
      .date({ min: new Date('1900-01-01Z'), max: new Date('2200-01-01Z'), noInvalidDate: true })
      .map((x) => x.toISOString()),
    { nil: null },
  ),
  tm: fc.option(
    fc.integer({ min: 0, max: 86_399 }).map((s) => new Date(s * 1000).toISOString().slice(11, 19)),
    { nil: null },
  ),
  day: fc.option(
    fc
      .date({ min: new Date('1900-01-01Z'), max: new Date('2200-01-01Z'), noInvalidDate: true })
      .map((x) => x.toISOString().slice(0, 10)),
    { nil: null },
  ),
  f: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }).map(String), { nil: null }),
  s: fc.option(fc.string(), { nil: null }),
  ok: fc.option(fc.constantFrom('t', 'f'), { nil: null }),
  tags: fc.option(
    fc.array(fc.integer({ min: -1000, max: 1000 }), { maxLength: 3 }).map((a) => `{${a.join(',')}}`),
    { nil: null },
  ),
});

function batchOf(rows: Array<Record<string, string | null>>) {
  const asm = new BatchAssembler(cols, readText, 4);
  for (const r of rows) {
    cols.forEach((c, i) => {
      const v = r[c.name];
      if (v === null || v === undefined) return asm.builders[i]!.appendNull();
      const b = Buffer.from(v);
      asm.builders[i]!.append(b, 0, b.length);
    });
    asm.endRow();
  }
  return asm.flush();
}

type Data = ReturnType<typeof batchOf>['data'];

const texts = (data: Data, rows: number) =>
  cols.map((c, i) => {
    const read = cellReader(c, data.children[i]!, valueText);
    return Array.from({ length: rows }, (_, r) => read(r));
  });

/** For random rows and a random cut: what `read` gives for each column of `batch.slice(from)` is rows from… of the batch's. */
function slicesReadTheirOwnRows(read: (data: Data, rows: number) => unknown[][]): void {
  fc.assert(
    fc.property(fc.array(cell, { minLength: 2, maxLength: 20 }), fc.nat(), (rows, at) => {
      const from = 1 + (at % (rows.length - 1));
      const batch = batchOf(rows);
      const whole = read(batch.data, rows.length);
      expect(read(batch.slice(from).data, rows.length - from)).toEqual(whole.map((col) => col.slice(from)));
    }),
  );
}

describe('cellReader on a slice', () => {
  it("reads the slice's own rows, whatever the column kind", () => slicesReadTheirOwnRows(texts));
});

/** Each column's PostgreSQL target, as target-types.ts reads it from the catalog. */
const TARGETS: TargetType[] = [
  { recv: 'int8recv' },
  { recv: 'numeric_recv' },
  { recv: 'timestamptz_recv' },
  { recv: 'time_recv' },
  { recv: 'date_recv' },
  { recv: 'float8recv' },
  { recv: 'textrecv' },
  { recv: 'boolrecv' },
  { recv: 'array_recv', elementOid: 23, element: { recv: 'int4recv' } },
];

/** The binary COPY bytes of each row of `data` (its length word and value), one column at a time. */
function copyBytes(data: Data, rows: number): string[][] {
  return cols.map((c, i) => {
    const writer = binaryWriterFor(c, TARGETS[i]!)!(data.children[i]!);
    return Array.from({ length: rows }, (_, r) => rowBytes(writer, r));
  });
}

/** Row r's field as the writer writes it: its length word and bytes. */
function rowBytes(writer: ReturnType<NonNullable<ReturnType<typeof binaryWriterFor>>>, r: number): string {
  const out = new CopyOut(new ChunkPool());
  out.room(writer.size(r));
  const start = out.at;
  writer.write(r, out);
  return out.buf.subarray(start, out.at).toString('hex');
}

describe('binary COPY writers on a slice', () => {
  it("write the slice's own rows, whatever the column kind", () => slicesReadTheirOwnRows(copyBytes));
});

describe("binary COPY writers' fixed sizes", () => {
  it('a writer that declares a fixed size is asked it for every row and writes no more, NULL or not', () => {
    fc.assert(
      fc.property(fc.array(cell, { minLength: 1, maxLength: 20 }), (rows) => {
        const batch = batchOf(rows);
        cols.forEach((c, i) => {
          const writer = binaryWriterFor(c, TARGETS[i]!)!(batch.data.children[i]!);
          if (writer.fixed === undefined) return;
          for (let r = 0; r < rows.length; r++) {
            expect(writer.size(r)).toBe(writer.fixed);
            expect(rowBytes(writer, r).length / 2).toBeLessThanOrEqual(writer.fixed);
          }
        });
      }),
    );
  });
});

describe('binary COPY writers’ sizes', () => {
  it('every writer writes no more than the size it gives for the row, arrays by their elements’ sizes', () => {
    fc.assert(
      fc.property(fc.array(cell, { minLength: 1, maxLength: 20 }), (rows) => {
        const batch = batchOf(rows);
        cols.forEach((c, i) => {
          const writer = binaryWriterFor(c, TARGETS[i]!)!(batch.data.children[i]!);
          for (let r = 0; r < rows.length; r++)
            expect(rowBytes(writer, r).length / 2, `${c.name} row ${r}`).toBeLessThanOrEqual(writer.size(r));
        });
      }),
    );
  });
});
