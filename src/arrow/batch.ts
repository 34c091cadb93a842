import { Field, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import type { ColumnSpec, TextDialect } from '../source/columns.js';
import { arrowType, createBuilder, type ColumnBuilder } from './builders.js';

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

  /** `builders`: the source's own, one per column (PostgreSQL's binary COPY); else text builders of `dialect`. */
  constructor(readonly columns: ColumnSpec[], dialect: TextDialect, capacity: number, builders?: ColumnBuilder[]) {
    this.schema = new Schema(columns.map((c) => new Field(c.name, arrowType(c), true)));
    this.builders = builders ?? columns.map((c) => createBuilder(c, dialect, capacity));
    if (this.builders.length !== columns.length) throw new Error('internal: one builder per column');
  }

  get rows(): number { return this.rowCount; }

  /** Call once per row after every column got its value. */
  endRow(): void { this.rowCount++; }

  flush(): RecordBatch {
    const length = this.rowCount;
    const children = this.builders.map((b) => b.flush());
    for (const [i, c] of children.entries()) {
      if (c.length !== length) throw new Error(`internal: column "${this.columns[i]!.name}" has ${c.length} values for ${length} rows`);
    }
    this.rowCount = 0;
    const data = makeData({ type: new Struct(this.schema.fields), length, nullCount: 0, children });
    return new RecordBatch(this.schema, data);
  }

  /** Values written as NULL because Parquet cannot hold them, per column. */
  counters(): Array<{ column: string; zeroDates: number; notRepresentable: number }> {
    return this.builders.map((b) => ({ column: b.spec.name, ...b.counters }));
  }
}
