import { abortableSource } from '../abort.js';
import { EXPORT_DEFAULTS } from '../defaults.js';
import { wholeNumber } from '../config/validate.js';
import { observedSource } from '../progress.js';
import type { Logger } from '../log.js';
import { silentLogger } from '../log.js';
import { DEFAULT_MEMORY_OPTIONS, MemoryManager, validateMemoryOptions } from '../memory/manager.js';
import { PeakMemory } from '../memory/peak.js';
import type { ParquetEncoder } from '../parquet/encode.js';
import { EncoderPool } from '../parquet/encoder-pool.js';
import { MAX_PARALLEL } from '../defaults.js';
import { openDestination, type Destination } from '../store/open.js';
import { qualifiedName, type SourceTable } from '../source/columns.js';
import { openSource } from '../source/open.js';
import type { RunSnapshot, Source } from '../source/source.js';
import { tablePrefix } from '../manifest/layout.js';
import { exportSettings, type ExportOptions } from './export-options.js';
import { writeExport, type ExportedFile, type UseEncoder } from './export-write.js';

export type { ExportOptions, ExportedFile };

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
  /**
   * An encoder the caller owns and closes, for a table read in one stream. Without it (and
   * without `encoders`), exportTable starts its own: one per concurrent read (`parallel`).
   */
  encoder?: ParquetEncoder;
  /** Encoders the caller owns (a backup run's EncoderPool): each read of the table takes one. */
  encoders?: UseEncoder;
  /** The run's snapshot, which every read of the table reads; without it, a chunked export opens its own. */
  snapshot?: RunSnapshot;
  /**
   * An open source and destination the caller owns and has checked (a backup run's, shared by its
   * tables): used instead of opening `opts.source` and `opts.dest`, and left open.
   */
  source?: Source;
  dest?: Destination;
  /** The table, already described (a backup run's catalog): `opts.table` is then only its name. */
  table?: SourceTable;
  /** The backup run exporting it, recorded in the manifest (restore --as-of). */
  backupRunId?: string;
  /** Called once every read of the table has ended (before its stale parts and manifest). */
  readsDone?: () => void;
}

export { EXPORT_DEFAULTS };

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
  if (deps.encoders) return exportWith(deps.encoders, opts.parallel ?? 1, opts, deps);
  const own = deps.encoder;
  if (own) return exportWith((fn) => fn(own), 1, opts, deps);
  const pool = new EncoderPool(wholeNumber('--parallel', opts.parallel, { max: MAX_PARALLEL }, 1)).warm();
  try {
    return await exportWith((fn) => pool.use(fn), pool.size, opts, deps);
  } finally {
    await pool.close();
  }
}

/** `readers`: reads of the table that may run at once (one per encoder); above 1, a large table is chunked. */
async function exportWith(
  useEncoder: UseEncoder,
  readers: number,
  opts: ExportOptions,
  deps: ExportDeps,
): Promise<ExportSummary> {
  const log = deps.logger ?? silentLogger();
  const started = Date.now();
  const peak = new PeakMemory().start();
  const { compression, integerEncoding, batchRows, fileMaxRows, rowGroupRows, chunkRows, ref, upload } =
    exportSettings(opts);
  const dest = deps.dest ?? openDestination(opts.dest, opts.s3 ?? {}, upload);
  const source =
    deps.source ?? observedSource(abortableSource(await openSource(opts.source), opts.signal), opts.progress);
  try {
    if (!deps.dest) await dest.store.check();
    const table = deps.table ?? (await source.describe(ref));
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
    // a table above chunkRows is read in key ranges at once, when there is more than one encoder to read them
    const chunks =
      readers > 1 && table.estimatedRows > chunkRows ? await source.planChunks(table, chunkRows) : undefined;
    if (chunks && chunks.length > 1) log.info({ chunks: chunks.length, chunkRows }, 'reading in chunks');
    // chunks read one snapshot: the run's, or one of the export's own
    const snapshot = deps.snapshot ?? (chunks && chunks.length > 1 ? await source.openSnapshot(readers) : undefined);
    if (snapshot?.warning && !deps.snapshot) warnings.push(snapshot.warning);
    const result = await writeExport(table, source, dest.store, useEncoder, {
      chunks,
      snapshot,
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
      ...(deps.backupRunId ? { backupRunId: deps.backupRunId } : {}),
      ...(deps.readsDone ? { readsDone: deps.readsDone } : {}),
    }).finally(() => (snapshot && !deps.snapshot ? snapshot.close() : undefined));
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
    if (!deps.source) await source.close().catch(() => {});
    if (!deps.dest) dest.store.close();
  }
}
