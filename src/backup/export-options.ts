import { EXPORT_DEFAULTS } from '../defaults.js';
import { oneOf, wholeNumber } from '../config/validate.js';
import type { ProgressSink } from '../progress.js';
import { inputError } from '../errors.js';
import type { MemoryOptions } from '../memory/manager.js';
import { type CompressionName, COMPRESSIONS } from '../parquet/encode.js';
import { INTEGER_ENCODINGS, type IntegerEncoding } from '../parquet/compression.js';
import type { S3Options } from '../s3/client.js';
import { DEFAULT_UPLOADER_OPTIONS, validateUploaderOptions, type UploaderOptions } from '../s3/uploader.js';
import { parseTableRef, type TableRef } from '../source/columns.js';

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
  /**
   * A table with more rows than this (by the database's estimate) is read in key ranges (chunks)
   * at once, `parallel` at a time; objects are then named `part-CCCCC-NNNNN.parquet`.
   */
  chunkRows?: number;
  /** Reads at once: the chunks of one table (default 1: read in one stream, never chunked). */
  parallel?: number;
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

/** The options checked before anything is opened, with their defaults filled in. */
export interface ExportSettings {
  compression: CompressionName;
  integerEncoding: IntegerEncoding;
  batchRows: number;
  fileMaxRows: number;
  rowGroupRows: number;
  chunkRows: number;
  ref: TableRef;
  upload: UploaderOptions;
}

/**
 * Checks the options before anything is opened, with messages naming the flag and its limit (the
 * memory options and uploadConcurrency are checked in exportTable, once the table is described).
 */
export function exportSettings(opts: ExportOptions): ExportSettings {
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
  const chunkRows = wholeNumber(
    '--chunk-rows',
    opts.chunkRows,
    { min: 1000, max: 1_000_000_000 },
    EXPORT_DEFAULTS.chunkRows,
  );
  let ref;
  try {
    ref = parseTableRef(opts.table);
  } catch (e) {
    throw inputError('TABLE_NAME', `--table: ${(e as Error).message}`);
  }
  const upload = validateUploaderOptions({ ...DEFAULT_UPLOADER_OPTIONS, ...opts.upload });
  return { compression, integerEncoding, batchRows, fileMaxRows, rowGroupRows, chunkRows, ref, upload };
}
