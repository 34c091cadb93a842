import type { RecordBatch } from 'apache-arrow';
import { incrementalMetadata } from '../manifest/footer.js';
import { deltaColumns } from '../parquet/compression.js';
import type { ParquetEncoder } from '../parquet/encode.js';
import type { ReadOptions, ReadStats } from '../source/source.js';
import type { UploadResult } from '../s3/uploader.js';
import type { IncrementalContext } from './incremental.js';
import type { TablePlan } from './incremental-plan.js';

/** What one object of an incremental backup holds and where it went. */
export interface WrittenObject {
  key: string;
  rows: number;
  put: UploadResult;
}

/** The live batch size of a table's reads: the memory manager may shrink it between pages. */
export interface LiveBatch {
  batchRows: number;
}

/** Read options whose batchRows is always `live`'s, read by the reader for each page; in the run's snapshot. */
export function liveReadOptions(
  ctx: Pick<IncrementalContext, 'snapshot'>,
  live: LiveBatch,
): (o: Omit<ReadOptions, 'batchRows'>) => ReadOptions {
  return (o) => ({
    ...o,
    ...(ctx.snapshot ? { snapshot: ctx.snapshot } : {}),
    get batchRows() {
      return live.batchRows;
    },
  });
}

/**
 * Encodes one read as the object `key` and uploads it; undefined (nothing written) when the read
 * has no rows. `stop` is asked before each batch: it throws to abandon the object (another chunk
 * failed), and the upload is aborted, never completed.
 */
export async function writeIncrementalObject(
  read: (stats: ReadStats) => AsyncGenerator<RecordBatch>,
  key: string,
  o: {
    plan: TablePlan;
    ctx: Pick<IncrementalContext, 'store' | 'memory' | 'settings'>;
    encoder: ParquetEncoder;
    live: LiveBatch;
    /** The watermark the object's rows follow, recorded in its footer. */
    after: string[] | null;
    schemaVersion: number;
    day?: string;
    stop?: () => void;
  },
): Promise<{ object: WrittenObject; stats: ReadStats } | undefined> {
  const { plan, ctx, encoder } = o;
  const stats: ReadStats = { counters: [] };
  const it = read(stats)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return undefined;
  let rows = 0;
  const counted = (async function* (): AsyncGenerator<RecordBatch> {
    let n: IteratorResult<RecordBatch> = first;
    while (!n.done) {
      o.stop?.();
      rows += n.value.numRows;
      await ctx.memory.afterBatch(o.live, () => encoder.drained());
      yield n.value;
      n = await it.next();
    }
  })();
  const body = encoder.encode(counted, {
    compression: ctx.settings.compression,
    rowGroupRows: ctx.settings.rowGroupRows,
    deltaColumns: deltaColumns(plan.table.columns, ctx.settings.integerEncoding),
    metadata: incrementalMetadata(plan.table, {
      after: o.after,
      schemaVersion: o.schemaVersion,
      keyColumns: plan.keyColumns,
      day: o.day,
    }),
  });
  const put = await ctx.store.put({ key, body, contentType: 'application/vnd.apache.parquet' });
  return { object: { key, rows, put }, stats };
}
