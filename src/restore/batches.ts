import type { RecordBatch } from 'apache-arrow';
import { runtimeError } from '../errors.js';
import { cellReader, Unrepresentable } from '../arrow/to-text.js';
import { fileColumns, type BackupFile, type BackupManifest } from '../manifest/view.js';
import { readObjectBatches } from '../parquet/read.js';
import type { ColumnSpec } from '../source/columns.js';
import type { Engine } from '../source/engine.js';
import type { LoadBatch, LoadColumn } from '../source/loader.js';
import type { ObjectStore } from '../store/store.js';
import { zeroDatesLost } from './ddl.js';

/** What the batches of a restore are read from and decoded into. */
export interface BatchSource {
  store: ObjectStore;
  prefix: string;
  manifest: BackupManifest;
  /** The engine the backup was taken from, and the one loaded into. */
  from: Engine;
  engine: Engine;
  decodeRows: number;
}

/** What the batches have given so far, and the hooks called as they go. */
export interface BatchCounts {
  /** Row versions given. */
  rows: number;
  /** Keys of tombstone objects given. */
  deletedKeys: number;
  /** Per column: values the target cannot hold, given as NULL. */
  unrepresentable: Record<string, number>;
}

/** Called once a batch is loaded, and once an object's batches all are. */
export interface BatchHooks {
  batch(f: BackupFile, batch: LoadBatch): void;
  file(f: BackupFile): void | Promise<void>;
}

/**
 * The batches to load from `files`, in file order: a row object's rows with every column of the
 * manifest's latest schema, a tombstone object's keys (`deletes`) with the primary-key columns
 * alone, so its keys are never loaded as rows.
 */
export async function* restoreBatches(
  src: BatchSource,
  files: BackupFile[],
  counts: BatchCounts,
  hooks: BatchHooks,
): AsyncGenerator<LoadBatch> {
  const m = src.manifest;
  const keyColumns = m.primaryKey.map((k) => m.columns.find((c) => c.name === k)!);
  for (const f of files) {
    const key = src.prefix ? `${src.prefix}/${f.name}` : f.name;
    const deletes = f.kind === 'deletes';
    const load = deletes ? keyColumns : m.columns;
    const written = new Map(fileColumns(m, f).map((c) => [c.name, c]));
    for await (const batch of readObjectBatches(src.store, key, src.decodeRows)) {
      const out = loadBatch(src, key, load, written, batch, counts, deletes);
      yield out;
      if (deletes) counts.deletedKeys += batch.numRows;
      else counts.rows += batch.numRows;
      hooks.batch(f, out);
    }
    await hooks.file(f);
  }
}

/** One decoded batch as the loader takes it: per column of `load`, its Arrow values and a cell reader. */
function loadBatch(
  src: BatchSource,
  key: string,
  load: ColumnSpec[],
  written: Map<string, ColumnSpec>,
  batch: RecordBatch,
  counts: BatchCounts,
  deletes: boolean,
): LoadBatch {
  const { manifest: m, from, engine } = src;
  const count = (column: string, n: number) => {
    if (n) counts.unrepresentable[column] = (counts.unrepresentable[column] ?? 0) + n;
  };
  const columns = load.map((c): LoadColumn => {
    const spec = written.get(c.name);
    // a column added after this object was written: NULL here
    if (!spec) return {};
    const child = batch.getChild(c.name);
    if (!child) throw runtimeError('BACKUP_COLUMN', `${key} has no column ${c.name}, which its schema version lists`);
    return { data: child.data[0]!, written: spec };
  });
  const cells = load.map((c, i) => {
    const { data, written: spec } = columns[i]!;
    if (!data || !spec) return () => null;
    // into an engine without zero dates (PostgreSQL), MySQL's (NULL in a NOT NULL date column) are
    // loaded as NULL (the created column allows it) and counted, whichever form the loader writes
    // (a tombstone's keys are not loaded: nothing of them is loaded as NULL)
    if (!deletes && !c.nullable && zeroDatesLost(c, from, engine)) count(c.name, data.nullCount);
    // read as written (a narrower type before a widening); the text fits the widest
    const read = cellReader(spec, data, engine.valueText);
    // MySQL to MySQL: a NULL in a NOT NULL date column was a zero date, which export writes as NULL
    const zero = !c.nullable && from.zeroDateText(c.kind) !== undefined ? engine.zeroDateText(c.kind) : undefined;
    return (row: number): string | null => {
      const v = read(row);
      if (v === null) return zero ?? null;
      if (!(v instanceof Unrepresentable)) return v;
      const nullable = c.nullable && !m.primaryKey.includes(c.name);
      if (!nullable)
        throw runtimeError(
          'UNREPRESENTABLE',
          `${key}: column ${c.name} holds a value ${engine.displayName} cannot store: ${v.why}; the column is NOT NULL, so the restore stops here (${counts.rows} rows loaded before this batch)`,
        );
      count(c.name, 1);
      return null;
    };
  });
  return { numRows: batch.numRows, cells, columns, ...(deletes ? { deletes: true as const } : {}) };
}
