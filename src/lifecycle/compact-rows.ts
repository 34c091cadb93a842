import { Table, tableFromIPC, tableToIPC, type RecordBatch } from 'apache-arrow';
import { keyPlace, keyValues, passOf, rowsByFile, type KeyValue } from './live-keys.js';
import { fileColumns, type BackupFile, type BackupManifest } from '../manifest/view.js';
import { readObjectBatches } from '../parquet/read.js';
import type { ObjectStore } from '../store/store.js';
import { cursorReader } from '../verify/backup-rows.js';

/**
 * The rows of a base generation: the newest version of every live key of a list of objects, as
 * restore picks it (the greatest cursor, a NULL cursor losing to any other, the later object on a
 * tie; a tombstone object deletes the versions before it), found without holding the rows.
 *
 * A pass holds, per key, only where its winning version is (object, row) and its cursor; when the
 * objects hold more versions than `keysPerPass`, the keys are split into passes by a hash of the
 * key, each reading only the key and cursor columns. The chosen rows are then read again, object
 * by object, and handed on as copies of runs of consecutive rows.
 */

type Cursor = bigint | number | string | null;

export interface ChooseInput {
  store: ObjectStore;
  keyOf: (f: BackupFile) => string;
  m: BackupManifest;
  /** In restore order (filesThrough). */
  files: BackupFile[];
  batchRows: number;
  keysPerPass: number;
}

/** A pass's winners: per object (its place in `files`), the rows chosen, ascending. */
export type Chosen = Map<number, number[]>;

/** How many passes `files` need: their row versions over `keysPerPass` (a key has at least one version). */
export function passesFor(files: BackupFile[], keysPerPass: number): number {
  const versions = files.filter((f) => f.kind !== 'deletes').reduce((n, f) => n + f.rows, 0);
  return Math.max(1, Math.ceil(versions / keysPerPass));
}

/** The winning version of every live key in pass `pass` of `passes`. */
export async function chooseRows(i: ChooseInput, pass: number, passes: number): Promise<Chosen> {
  const { m } = i;
  const key = m.primaryKey.map((n) => m.columns.find((c) => c.name === n)!);
  const cursorSpec = m.columns.find((c) => c.name === m.cursor)!;
  const names = [...new Set([...m.primaryKey, m.cursor!])];
  const live = new Map<KeyValue, { c: Cursor; at: number }>();
  for (const [file, f] of i.files.entries()) {
    const deletes = f.kind === 'deletes';
    let row = 0;
    for await (const batch of readObjectBatches(i.store, i.keyOf(f), i.batchRows, deletes ? m.primaryKey : names)) {
      const keyOf = keyValues(batch, key, fileColumns(m, f));
      const cur = deletes ? undefined : cursorReader(batch, cursorSpec);
      for (let r = 0; r < batch.numRows; r++, row++) {
        const k = keyOf(r);
        if (passes > 1 && passOf(k, passes) !== pass) continue;
        if (!cur) {
          live.delete(k);
          continue;
        }
        const c = cur(r);
        const prev = live.get(k);
        if (!prev || prev.c === null || (c !== null && c >= prev.c)) live.set(k, { c, at: keyPlace(file, row) });
      }
    }
  }
  return rowsByFile([...live.values()].map((v) => v.at));
}

/**
 * The given rows (ascending) of one object, every column or `columns`, as batches of their own: a
 * batch read from an object is freed when the next is read, so runs of consecutive rows are sliced
 * and copied. Compaction takes its chosen versions out with it, deletion detection its deleted keys.
 */
export async function* pickRows(
  store: ObjectStore,
  key: string,
  rows: number[],
  batchRows: number,
  columns?: string[],
): AsyncGenerator<RecordBatch> {
  let at = 0;
  let next = 0;
  for await (const batch of readObjectBatches(store, key, batchRows, columns)) {
    const slices: RecordBatch[] = [];
    while (next < rows.length && rows[next]! < at + batch.numRows) {
      const from = rows[next]! - at;
      let to = from + 1;
      next++;
      while (next < rows.length && rows[next]! - at === to && to < batch.numRows) {
        to++;
        next++;
      }
      slices.push(batch.slice(from, to));
    }
    at += batch.numRows;
    if (slices.length) yield* tableFromIPC(tableToIPC(new Table(slices), 'stream')).batches;
    if (next >= rows.length) return;
  }
}
