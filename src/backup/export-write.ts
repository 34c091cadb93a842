import type { RecordBatch } from 'apache-arrow';
import type { ProgressSink } from '../progress.js';
import { emptyBatch } from '../arrow/batch.js';
import type { Logger } from '../log.js';
import type { MemoryManager } from '../memory/manager.js';
import type { PeakMemory } from '../memory/peak.js';
import type { CompressionName, ParquetEncoder } from '../parquet/encode.js';
import { deltaColumns, type IntegerEncoding } from '../parquet/compression.js';
import { joinKey } from '../s3/location.js';
import type { ObjectStore } from '../store/store.js';
import type { SourceTable } from '../source/columns.js';
import type { ReadStats, Source } from '../source/source.js';
import { parquetMetadata } from '../manifest/footer.js';
import { manifestKey, partName } from '../manifest/layout.js';
import { exportManifest, writeManifest } from '../manifest/write.js';
import { splitIntoFiles } from './split.js';
import { removeStaleParts } from './stale-parts.js';

export interface ExportedFile {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** The export's settings, validated, and what the write loop reports into. */
export interface WriteContext {
  tablePrefix: string;
  compression: CompressionName;
  integerEncoding: IntegerEncoding;
  batchRows: number;
  fileMaxRows: number;
  rowGroupRows: number;
  peak: PeakMemory;
  log: Logger;
  memory: MemoryManager;
  uploadConcurrency: number;
  progress?: ProgressSink;
}

/**
 * Reads the table and writes its part files, up to `uploadConcurrency` uploading at once, then the
 * manifest; on failure removes the objects it wrote.
 */
export async function writeExport(
  table: SourceTable,
  source: Source,
  store: ObjectStore,
  encoder: ParquetEncoder,
  ctx: WriteContext,
) {
  const manifestAt = manifestKey(ctx.tablePrefix);
  // from here until the new manifest is written, the prefix must not look like a finished export
  await store.delete([manifestAt]);
  const stats: ReadStats = { counters: [] };
  const files: ExportedFile[] = [];
  const written: string[] = [];
  try {
    const readOpts = { batchRows: ctx.batchRows, stats };
    const batches = source.read(table, readOpts);
    const fileMeta = parquetMetadata(table);
    const delta = deltaColumns(table.columns, ctx.integerEncoding);
    let index = 0;
    // up to uploadConcurrency objects in flight: the next file reads on as soon as this one's
    // bytes are all handed to the uploader, while its last parts are still going up
    const active = new Set<Promise<void>>();
    let failure: unknown;
    for await (const fileBatches of splitIntoFiles(batches, ctx.fileMaxRows, () => emptyBatch(table.columns))) {
      const key = joinKey(ctx.tablePrefix, partName(index));
      const fileIndex = index++;
      let rows = 0;
      const counted = (async function* (): AsyncGenerator<RecordBatch> {
        for await (const b of fileBatches) {
          rows += b.numRows;
          ctx.log.debug({ key, rows }, 'batch read');
          await ctx.memory.afterBatch(readOpts, () => encoder.drained());
          yield b;
        }
      })();
      let handedOver!: () => void;
      const consumed = new Promise<void>((r) => {
        handedOver = r;
      });
      const body = (async function* (): AsyncGenerator<Uint8Array> {
        try {
          yield* encoder.encode(counted, {
            compression: ctx.compression,
            rowGroupRows: ctx.rowGroupRows,
            metadata: fileMeta,
            deltaColumns: delta,
          });
        } finally {
          handedOver();
        }
      })();
      written.push(key); // before the upload: a failed multipart is aborted, a finished one must be removed
      const upload: Promise<void> = store
        .put({ key, body, contentType: 'application/vnd.apache.parquet' })
        .then(
          (res) => {
            files[fileIndex] = { key, rows, bytes: res.bytes, sha256: res.sha256 };
            ctx.progress?.({ bytes: res.bytes, objects: 1 });
            ctx.log.info(
              {
                key,
                rows,
                bytes: res.bytes,
                method: res.method,
                ...(res.sha256InMetadata === false ? { sha256InMetadata: false } : {}),
              },
              'uploaded',
            );
          },
          (e: unknown) => {
            failure ??= e;
            handedOver();
          },
        )
        .finally(() => active.delete(upload));
      active.add(upload);
      await consumed;
      if (failure !== undefined) break;
      while (active.size >= ctx.uploadConcurrency) await Promise.race(active);
      if (failure !== undefined) break;
    }
    await Promise.all(active);
    if (failure !== undefined) throw failure;
    await removeStaleParts(store, ctx.tablePrefix, new Set(written), ctx.log);
    await writeManifest(store, ctx.tablePrefix, exportManifest(ctx.tablePrefix, table, ctx.compression, files));
    return { files, manifestKey: manifestAt, stats };
  } catch (e) {
    if (written.length) {
      ctx.log.warn({ objects: written.length }, 'export failed; removing the objects this run wrote');
      await store
        .delete(written)
        .catch((de) =>
          ctx.log.error(
            { err: (de as Error).message },
            `could not remove ${written.length} object(s) under ${ctx.tablePrefix}/; delete them by hand`,
          ),
        );
    }
    throw e;
  }
}
