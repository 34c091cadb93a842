import type { RecordBatch } from 'apache-arrow';
import { abortableSource } from '../abort.js';
import { EXPORT_DEFAULTS, LIMITS } from '../defaults.js';
import { byteSize, oneOf, wholeNumber } from '../config/validate.js';
import { observedSource, type ProgressSink } from '../progress.js';
import { emptyBatch } from '../arrow/batch.js';
import { inputError } from '../errors.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { DEFAULT_MEMORY_OPTIONS, MemoryManager, type MemoryOptions } from '../memory/manager.js';
import { PeakMemory } from '../memory/peak.js';
import { ParquetEncoder, type CompressionName, COMPRESSIONS } from '../parquet/encode.js';
import { INTEGER_ENCODINGS, deltaColumns, type IntegerEncoding } from '../parquet/compression.js';
import type { S3Options } from '../s3/client.js';
import { joinKey } from '../s3/location.js';
import { DEFAULT_UPLOADER_OPTIONS, validateUploaderOptions, type UploaderOptions } from '../s3/uploader.js';
import { openDestination } from '../store/open.js';
import type { ObjectStore } from '../store/store.js';
import { parseTableRef, qualifiedName, type SourceTable } from '../source/columns.js';
import { openSource } from '../source/open.js';
import type { ReadStats, Source } from '../source/source.js';
import { parquetMetadata } from '../manifest/footer.js';
import { isPartKey, manifestKey, partName, tablePrefix } from '../manifest/layout.js';
import { exportManifest, writeManifest } from '../manifest/write.js';
import { splitIntoFiles } from './split.js';

export interface ExportOptions {
  /** postgres://… or mysql://… */
  source: string;
  /** `table` or `schema.table` (for MySQL the schema is the database). */
  table: string;
  /** s3://bucket/prefix (or file:///dir); objects go under `<prefix>/<schema>.<table>/`. */
  dest: string;
  compression?: CompressionName;
  /** Integer-like columns: delta (default) or plain. */
  integerEncoding?: IntegerEncoding;
  /** Rows read per batch (one keyset page). Default 20,000. */
  batchRows?: number;
  /** Rows per Parquet object; a larger table becomes several objects. Default 1,000,000. */
  fileMaxRows?: number;
  /** Rows per Parquet row group. Default 100,000 (at most fileMaxRows). */
  rowGroupRows?: number;
  s3?: S3Options;
  upload?: Partial<UploaderOptions>;
  /**
   * Objects uploading at once (default 2): the next file is read and encoded while the previous
   * one's last parts go up. Upload memory is at most uploadConcurrency × (multipart threshold +
   * part concurrency × part size).
   */
  uploadConcurrency?: number;
  memory?: Partial<MemoryOptions>;
  /** Stop at the next batch when this fires (SIGTERM): the export fails cleanly, removing what it wrote. */
  signal?: AbortSignal;
  /** Rows read and bytes stored, as they go (the CLI's progress line). */
  progress?: ProgressSink;
}

export interface ExportedFile {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

export interface ExportSummary {
  table: string;
  rows: number;
  bytes: number;
  files: ExportedFile[];
  manifestKey: string;
  durationMs: number;
  peakRssBytes: number;
  peakHeapBytes: number;
  /** Times the memory limit was exceeded (each time: drained, then smaller batches). */
  memoryPressure: number;
  /** Per column: MySQL zero dates written as NULL. */
  zeroDates: Record<string, number>;
  warnings: string[];
}

export interface ExportDeps {
  logger?: Logger;
  /** An encoder already warmed up (the CLI starts it before loading the rest); exportTable closes it. */
  encoder?: ParquetEncoder;
}

export { EXPORT_DEFAULTS };

export function validateMemoryOptions(m: MemoryOptions): MemoryOptions {
  wholeNumber('--memory-check-every', m.checkEvery);
  wholeNumber('--gc-every', m.gcEvery, { min: 0, note: '0: never' });
  byteSize('--memory-limit', m.limitBytes, { min: LIMITS.minMemoryLimit });
  return m;
}

/**
 * Exports one table, whole, as Parquet objects under `<dest>/<schema>.<table>/`:
 * `part-00000.parquet`, … in primary-key order, then `_manifest.json`. The manifest is
 * removed first and written last, so a prefix with a manifest is a complete export and one
 * without is not; on failure the objects this run wrote are deleted again.
 *
 * @example
 * ```ts
 * import { exportTable } from 'tablevault';
 *
 * const s = await exportTable({
 *   source: 'postgres://backup@db:5432/shop',
 *   table: 'public.orders',
 *   dest: 's3://backups/nightly',
 * });
 * console.log(s.rows, s.files.map((f) => f.key), s.manifestKey);
 * ```
 */
export async function exportTable(opts: ExportOptions, deps: ExportDeps = {}): Promise<ExportSummary> {
  const encoder = deps.encoder ?? new ParquetEncoder().warm();
  try {
    return await exportWith(encoder, opts, deps);
  } finally {
    await encoder.close();
  }
}

async function exportWith(encoder: ParquetEncoder, opts: ExportOptions, deps: ExportDeps): Promise<ExportSummary> {
  const log = deps.logger ?? silentLogger();
  const started = Date.now();
  const peak = new PeakMemory().start();
  const compression = oneOf('--compression', opts.compression, COMPRESSIONS, EXPORT_DEFAULTS.compression);
  const integerEncoding = oneOf(
    '--integer-encoding',
    opts.integerEncoding,
    INTEGER_ENCODINGS,
    EXPORT_DEFAULTS.integerEncoding,
  );
  const batchRows = wholeNumber('--batch-rows', opts.batchRows, { max: 10_000_000 }, EXPORT_DEFAULTS.batchRows);
  const fileMaxRows = wholeNumber(
    '--file-max-rows',
    opts.fileMaxRows,
    { max: 1_000_000_000 },
    EXPORT_DEFAULTS.fileMaxRows,
  );
  const rowGroupRows = Math.min(
    wholeNumber('--row-group-rows', opts.rowGroupRows, { max: 100_000_000 }, EXPORT_DEFAULTS.rowGroupRows),
    fileMaxRows,
  );
  let ref;
  try {
    ref = parseTableRef(opts.table);
  } catch (e) {
    throw inputError('TABLE_NAME', `--table: ${(e as Error).message}`);
  }
  const upload = validateUploaderOptions({ ...DEFAULT_UPLOADER_OPTIONS, ...opts.upload });
  const dest = openDestination(opts.dest, opts.s3 ?? {}, upload);
  const source = observedSource(abortableSource(await openSource(opts.source), opts.signal), opts.progress);
  try {
    await dest.store.check();
    const table = await source.describe(ref);
    const warnings = table.columns
      .filter((c) => c.unknownType)
      .map(
        (c) =>
          `column "${c.name}" has type ${c.dbType}, which tablevault does not map; exported as ${c.kind === 'binary' ? 'its raw bytes' : 'its text form'}`,
      );
    for (const w of warnings) log.warn(w);
    log.info(
      {
        table: qualifiedName(table),
        columns: table.columns.length,
        primaryKey: table.primaryKey,
        estimatedRows: table.estimatedRows,
      },
      'exporting',
    );
    const memory = new MemoryManager(validateMemoryOptions({ ...DEFAULT_MEMORY_OPTIONS, ...opts.memory }), peak, log);
    const result = await writeExport(table, source, dest.store, encoder, {
      tablePrefix: tablePrefix(dest.prefix, table),
      compression,
      integerEncoding,
      batchRows,
      fileMaxRows,
      rowGroupRows,
      peak,
      log,
      memory,
      uploadConcurrency: wholeNumber(
        '--upload-concurrency',
        opts.uploadConcurrency,
        { max: 16 },
        EXPORT_DEFAULTS.uploadConcurrency,
      ),
      progress: opts.progress,
    });
    for (const c of result.stats.counters) {
      if (c.zeroDates) warnings.push(`column "${c.column}": ${c.zeroDates} MySQL zero date(s) exported as NULL`);
      if (c.notRepresentable)
        warnings.push(
          `column "${c.column}": ${c.notRepresentable} value(s) Parquet cannot hold (infinite date, NaN decimal, TIME outside 00:00-24:00) exported as NULL`,
        );
    }
    peak.stop();
    return {
      table: qualifiedName(table),
      rows: result.files.reduce((n, f) => n + f.rows, 0),
      bytes: result.files.reduce((n, f) => n + f.bytes, 0),
      files: result.files,
      manifestKey: result.manifestKey,
      durationMs: Date.now() - started,
      peakRssBytes: peak.rss,
      peakHeapBytes: peak.heapUsed,
      memoryPressure: memory.pressure,
      zeroDates: Object.fromEntries(
        result.stats.counters.filter((c) => c.zeroDates).map((c) => [c.column, c.zeroDates]),
      ),
      warnings,
    };
  } finally {
    peak.stop();
    await source.close().catch(() => {});
    dest.store.close();
  }
}

interface WriteContext {
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

async function writeExport(
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

/** Part files of an earlier, larger export of the same table would otherwise be read as current rows. */
async function removeStaleParts(store: ObjectStore, prefix: string, keep: Set<string>, log: Logger): Promise<void> {
  const stale: string[] = [];
  for await (const key of store.list(`${prefix}/`)) if (isPartKey(key) && !keep.has(key)) stale.push(key);
  if (stale.length) {
    log.info({ objects: stale.length }, 'removing part files left by an earlier export of this table');
    await store.delete(stale);
  }
}
