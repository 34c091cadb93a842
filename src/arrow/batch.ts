import { Field, RecordBatch, Schema, Struct, makeData, type Data } from 'apache-arrow';
import type { ColumnSpec } from '../source/columns.js';
import type { ReadText } from '../source/text-forms.js';
import { freeBuffer } from '../memory/gc.js';
import { arrowType, createBuilder, type ColumnBuilder } from './builders.js';

/**
 * The row capacity a read's builders start with: the batch size, or less for a table estimated
 * smaller (at least 256 rows; builders double as they fill and keep their size from batch to
 * batch). A small table then allocates kilobytes, not the ~1-2 MB of buffers a 20,000-row batch
 * takes, which across hundreds of small tables was most of the main thread's garbage collection.
 * An estimate of 0 (an empty table, or one never analyzed: the catalogs do not tell them apart)
 * starts small too: empty tables, a third of the bench's small ones, each cost twice a tiny
 * one's time at the batch size, and a large table without statistics pays only a few doublings
 * in its first batch.
 */
export function builderCapacity(estimatedRows: number, batchRows: number): number {
  if (!(estimatedRows > 0)) return Math.min(batchRows, 256);
  return Math.min(batchRows, Math.max(256, 2 ** Math.ceil(Math.log2(estimatedRows + 1))));
}

/**
 * Assembles rows, one column value at a time, into Arrow record batches.
 * Every field is nullable in Arrow/Parquet: a NOT NULL source column can still yield NULL
 * for a value Parquet cannot hold (a MySQL zero date); the source's own nullability is kept
 * in the export manifest.
 */
export class BatchAssembler {
  readonly schema: Schema;
  readonly builders: ColumnBuilder[];
  private rowCount = 0;

  /** `builders`: the source's own, one per column (PostgreSQL's binary COPY); else text builders of the source's text form. */
  constructor(
    readonly columns: ColumnSpec[],
    dialect: ReadText,
    capacity: number,
    builders?: ColumnBuilder[],
  ) {
    this.schema = new Schema(columns.map((c) => new Field(c.name, arrowType(c), true)));
    this.builders = builders ?? columns.map((c) => createBuilder(c, dialect, capacity));
    if (this.builders.length !== columns.length) throw new Error('internal: one builder per column');
  }

  get rows(): number {
    return this.rowCount;
  }

  /** Call once per row after every column got its value. */
  endRow(): void {
    this.rowCount++;
  }

  flush(): RecordBatch {
    const length = this.rowCount;
    const children = this.builders.map((b) => b.flush());
    for (const [i, c] of children.entries()) {
      if (c.length !== length)
        throw new Error(`internal: column "${this.columns[i]!.name}" has ${c.length} values for ${length} rows`);
    }
    this.rowCount = 0;
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    const batch = new RecordBatch(this.schema, data);
    assembled.add(batch);
    return batch;
  }

  /** Values written as NULL because Parquet cannot hold them, per column. */
  counters(): Array<{ column: string; zeroDates: number; notRepresentable: number }> {
    return this.builders.map((b) => ({ column: b.spec.name, ...b.counters }));
  }
}

/** A batch of no rows with the columns' schema (what a file of an empty table holds). */
export function emptyBatch(columns: ColumnSpec[]): RecordBatch {
  // no value is parsed: any text form will do
  return new BatchAssembler(columns, { hexBinary: false }, 1).flush();
}

/**
 * Batches straight from a BatchAssembler: their buffers belong to them alone (every builder
 * hands its arrays over and starts new ones). A slice of one is a new batch, not in here.
 */
const assembled = new WeakSet<RecordBatch>();

/**
 * Frees the buffers of a batch its last reader is done with, now rather than at V8's next full
 * GC. They live through a whole batch of reading and are old by the time they die, and only a
 * full collection frees old ArrayBuffers: V8 runs one when external memory has grown by about
 * 64 MB, so that much dead column data sat in the reader's RSS (1M bench rows: ~40 MB of
 * ArrayBuffers on the main thread). Each buffer is detached, its memory freed at once
 * (freeBuffer). Only batches from a BatchAssembler are released, once; anything else (a slice,
 * whose buffers another batch shares) is left alone.
 */
export function releaseBatch(batch: RecordBatch): void {
  if (!assembled.delete(batch)) return;
  for (const a of columnBuffers(batch)) if (a.byteLength > 0) freeBuffer(a.buffer);
}

/**
 * The buffers of a batch straight from a BatchAssembler, which nothing else shares (so they may
 * be transferred to another thread); undefined for any other batch.
 */
export function ownBuffers(batch: RecordBatch): Set<ArrayBuffer> | undefined {
  if (!assembled.has(batch)) return undefined;
  const out = new Set<ArrayBuffer>();
  for (const a of columnBuffers(batch)) if (a.buffer instanceof ArrayBuffer) out.add(a.buffer);
  return out;
}

/** Every buffer of a batch's columns and their children: values, offsets, validity, type ids. */
function* columnBuffers(batch: RecordBatch): Generator<ArrayBufferView> {
  const walk = function* (d: Data): Generator<ArrayBufferView> {
    for (const a of [d.values, d.valueOffsets, d.nullBitmap, d.typeIds] as Array<ArrayBufferView | undefined>)
      if (a) yield a;
    for (const c of d.children) yield* walk(c);
  };
  for (const d of batch.data.children) yield* walk(d);
}
