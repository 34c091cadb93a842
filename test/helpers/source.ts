import type { RecordBatch } from 'apache-arrow';
import type { SourceTable } from '../../src/source/columns.js';
import type { ReadOptions, Source } from '../../src/source/source.js';

/** The sum and count of the integer column `column` over batches. */
export function tally(batches: RecordBatch[], column: string): { rows: number; sum: number } {
  let rows = 0;
  let sum = 0;
  for (const b of batches) {
    rows += b.numRows;
    for (const v of Array.from(b.getChild(column)!.toArray() as ArrayLike<number | bigint>)) sum += Number(v);
  }
  return { rows, sum };
}

/** Every batch of one read. */
export async function readAll(source: Source, table: SourceTable, opts: Partial<ReadOptions> = {}) {
  const out: RecordBatch[] = [];
  for await (const b of source.read(table, { batchRows: 1000, ...opts })) out.push(b);
  return out;
}

/** A read's first batch, then the read abandoned mid-stream (its connection must be closed). */
export async function readFirstBatch(source: Source, table: SourceTable, opts: Partial<ReadOptions> = {}) {
  for await (const b of source.read(table, { batchRows: 10, ...opts })) return b;
  throw new Error('the table is empty');
}
