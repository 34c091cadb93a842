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
import type { ReadStats, RunSnapshot, Source } from '../source/source.js';
import { parquetMetadata } from '../manifest/footer.js';
import { chunkPartName, manifestKey, partName } from '../manifest/layout.js';
import { exportManifest, writeManifest } from '../manifest/write.js';
import { splitIntoFiles } from './split.js';
import { removeStaleParts } from './stale-parts.js';

export interface ExportedFile {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** One read of an export: the whole table, or one chunk (a key range) of it. */
export interface ExportChunk {
  index: number;
  /** The chunk's key range, as SQL ANDed into the read; none for the whole table. */
  where?: string;
}

/** Runs `fn` with an encoder of its own: a run's EncoderPool, or one encoder for one stream. */
export type UseEncoder = <T>(fn: (encoder: ParquetEncoder) => Promise<T>) => Promise<T>;

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
  /** Reads: one for the whole table, or one per chunk, run at once as far as encoders allow (default: one read). */
  chunks?: ExportChunk[];
  /** Every read of the run reads this snapshot. */
  snapshot?: RunSnapshot;
  /** The backup run exporting the table, recorded in the manifest. */
  backupRunId?: string;
  /** Called once every read has ended, before the stale parts and the manifest. */
  readsDone?: () => void;
}

/** What one read wrote. */
interface StreamResult {
  files: ExportedFile[];
  stats: ReadStats;
}

/**
 * Reads the table, in one stream or in chunks at once, and writes its part files (per stream up
 * to `uploadConcurrency` uploading at once), then the manifest listing them in key order; on
 * failure removes the objects it wrote. A chunk that fails stops the others at their next batch.
 */
export async function writeExport(
  table: SourceTable,
  source: Source,
  store: ObjectStore,
  useEncoder: UseEncoder,
  ctx: WriteContext,
) {
  const manifestAt = manifestKey(ctx.tablePrefix);
  // from here until the new manifest is written, the prefix must not look like a finished export
  await store.delete([manifestAt]);
  const written: string[] = [];
  const chunks = ctx.chunks ?? [{ index: 0 }];
  const failed = { error: undefined as unknown };
  try {
    const results = await Promise.allSettled(
      chunks.map((chunk) =>
        useEncoder(async (encoder) => {
          if (failed.error !== undefined) throw failed.error;
          try {
            return await writeStream(table, source, store, encoder, ctx, chunks.length > 1 ? chunk : undefined, {
              written,
              failed,
            });
          } catch (e) {
            failed.error ??= e;
            throw e;
          }
        }),
      ),
    );
    ctx.readsDone?.();
    if (failed.error !== undefined) throw failed.error;
    const done = results.map((r) => (r as PromiseFulfilledResult<StreamResult>).value);
    const files = done.flatMap((r) => r.files).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const stats: ReadStats = { counters: mergeCounters(done.map((r) => r.stats)) };
    await removeStaleParts(store, ctx.tablePrefix, new Set(written), ctx.log);
    await writeManifest(
      store,
      ctx.tablePrefix,
      exportManifest(ctx.tablePrefix, table, ctx.compression, files, undefined, ctx.backupRunId),
    );
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

/** Zero dates and values Parquet cannot hold, summed over a table's reads. */
function mergeCounters(all: ReadStats[]): ReadStats['counters'] {
  const out = new Map<string, ReadStats['counters'][number]>();
  for (const s of all)
    for (const c of s.counters) {
      const prev = out.get(c.column);
      if (prev) {
        prev.zeroDates += c.zeroDates;
        prev.notRepresentable += c.notRepresentable;
      } else out.set(c.column, { ...c });
    }
  return [...out.values()];
}

/**
 * One read (the table, or a chunk) into part files: `part-NNNNN` for a table read whole,
 * `part-CCCCC-NNNNN` for chunk C. Each key goes into `shared.written` before its upload starts.
 */
async function writeStream(
  table: SourceTable,
  source: Source,
  store: ObjectStore,
  encoder: ParquetEncoder,
  ctx: WriteContext,
  chunk: ExportChunk | undefined,
  shared: { written: string[]; failed: { error: unknown } },
): Promise<StreamResult> {
  const stats: ReadStats = { counters: [] };
  const files: ExportedFile[] = [];
  const readOpts = {
    batchRows: ctx.batchRows,
    stats,
    ...(chunk?.where ? { where: chunk.where } : {}),
    ...(ctx.snapshot ? { snapshot: ctx.snapshot } : {}),
  };
  const batches = source.read(table, readOpts);
  const fileMeta = parquetMetadata(table);
  const delta = deltaColumns(table.columns, ctx.integerEncoding);
  let index = 0;
  // up to uploadConcurrency objects in flight: the next file reads on as soon as this one's
  // bytes are all handed to the uploader, while its last parts are still going up
  const active = new Set<Promise<void>>();
  let failure: unknown;
  for await (const fileBatches of splitIntoFiles(batches, ctx.fileMaxRows, () => emptyBatch(table.columns))) {
    const fileIndex = index++;
    const key = joinKey(ctx.tablePrefix, chunk ? chunkPartName(chunk.index, fileIndex) : partName(fileIndex));
    let rows = 0;
    const counted = (async function* (): AsyncGenerator<RecordBatch> {
      for await (const b of fileBatches) {
        if (shared.failed.error !== undefined) throw shared.failed.error; // another chunk failed: stop
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
    shared.written.push(key); // before the upload: a failed multipart is aborted, a finished one must be removed
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
  return { files, stats };
}
