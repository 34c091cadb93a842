import { Command, Option } from 'commander';
import type { ExportSummary } from '../backup/export.js';
import type { ExportManySummary } from '../backup/export-many.js';
import { CHOICES, DEFAULTS, DEFAULT_UPLOADER_OPTIONS, EXPORT_DEFAULTS, MAX_PARALLEL, MiB } from '../defaults.js';
import { COMPRESSIONS, INTEGER_ENCODINGS, type CompressionName, type IntegerEncoding } from '../parquet/compression.js';
import type { UploaderOptions } from '../s3/uploader.js';
import { byteSize, wholeNumber } from './parse.js';
import { addMemoryFlags, memoryOptions, type MemoryFlags } from './memory-flags.js';
import { formatBytes, printTable } from './output.js';
import type { CliContext } from './context.js';
import { inputError } from '../errors.js';

/** commander names the uploader's flags as the uploader names its options */
interface ExportFlags extends MemoryFlags, UploaderOptions {
  source: string;
  table?: string;
  exclude?: string[];
  parallel: number;
  dest: string;
  compression: CompressionName;
  integerEncoding: IntegerEncoding;
  batchRows: number;
  fileMaxRows: number;
  rowGroupRows: number;
  chunkRows: number;
  s3Endpoint?: string;
  s3Region?: string;
  maxAttempts: number;
  uploadConcurrency: number;
  json?: boolean;
}

export function exportCommand(ctx: CliContext, setExit: (code: number) => void): Command {
  return addMemoryFlags(new Command('export'))
    .description('export tables, whole, to Parquet objects in S3: one, those a pattern matches, or every one')
    .requiredOption(
      '--source <url>',
      'database URL: postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db',
    )
    .option(
      '--table <[schema.]table>',
      "the table to export (for MySQL the schema is the database), or a pattern such as 'public.*' or 'shop.order_*'; default: every table of the database",
    )
    .option('--exclude <pattern...>', "tables a pattern leaves out, e.g. 'public.tmp_*'")
    .option(
      '--parallel <n>',
      `reads at once: tables, and chunks of tables above --chunk-rows (1-${MAX_PARALLEL})`,
      wholeNumber,
      DEFAULTS.backup.parallel,
    )
    .requiredOption(
      '--dest <s3://bucket/prefix>',
      'where objects go: <prefix>/<schema>.<table>/part-NNNNN.parquet and _manifest.json; file:///dir writes to a local directory',
    )
    .addOption(
      new Option('--compression <codec>', 'Parquet compression')
        .choices(COMPRESSIONS)
        .default(EXPORT_DEFAULTS.compression),
    )
    .addOption(
      new Option(
        '--integer-encoding <encoding>',
        'integer, date, time and timestamp columns: delta (DELTA_BINARY_PACKED) or plain, for readers without delta',
      )
        .choices(INTEGER_ENCODINGS)
        .default(EXPORT_DEFAULTS.integerEncoding),
    )
    .option('--batch-rows <n>', 'rows read per batch (one keyset page)', wholeNumber, EXPORT_DEFAULTS.batchRows)
    .option(
      '--file-max-rows <n>',
      'rows per Parquet object; a larger table becomes several objects',
      wholeNumber,
      EXPORT_DEFAULTS.fileMaxRows,
    )
    .option('--row-group-rows <n>', 'rows per Parquet row group', wholeNumber, EXPORT_DEFAULTS.rowGroupRows)
    .option(
      '--chunk-rows <n>',
      'with --parallel above 1, a table with more rows than this is read in key ranges at once',
      wholeNumber,
      EXPORT_DEFAULTS.chunkRows,
    )
    .option(
      '--s3-endpoint <url>',
      'S3-compatible endpoint (default: AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL; path-style is used)',
    )
    .option('--s3-region <region>', 'region (default: AWS_REGION, or us-east-1 with a custom endpoint)')
    .option(
      '--multipart-threshold <size>',
      'objects larger than this use a multipart upload',
      byteSize,
      DEFAULT_UPLOADER_OPTIONS.multipartThreshold,
    )
    .option('--part-size <size>', 'multipart part size (at least 5MiB)', byteSize, DEFAULT_UPLOADER_OPTIONS.partSize)
    .option(
      '--part-concurrency <n>',
      'parts of one object uploaded at once',
      wholeNumber,
      DEFAULT_UPLOADER_OPTIONS.partConcurrency,
    )
    .option(
      '--upload-concurrency <n>',
      'objects uploading at once; upload memory ≤ objects × (threshold + part concurrency × part size)',
      wholeNumber,
      EXPORT_DEFAULTS.uploadConcurrency,
    )
    .addOption(new Option('--sse <mode>', 'server-side encryption of every object').choices(CHOICES.sse))
    .option('--sse-kms-key-id <key>', "KMS key for --sse aws:kms (default: the account's S3 key)")
    .option('--storage-class <class>', "storage class of every object, e.g. STANDARD_IA (default: the bucket's)")
    .option('--max-attempts <n>', 'attempts per S3 request (adaptive retry mode)', wholeNumber, DEFAULTS.s3.maxAttempts)
    .option('--json', 'print one JSON summary object on stdout')
    .addHelpText(
      'after',
      `
Example:
  AWS_ACCESS_KEY_ID=… AWS_SECRET_ACCESS_KEY=… \\
  tablevault export --source postgres://backup@db:5432/shop --table public.orders --dest s3://backups/nightly
  tablevault export --source postgres://backup@db:5432/shop --dest s3://backups/once --parallel 2   # every table

Credentials come from the standard AWS chain (environment, shared config, profile).
Defaults: part size and multipart threshold ${DEFAULT_UPLOADER_OPTIONS.partSize / MiB}MiB, ${DEFAULT_UPLOADER_OPTIONS.partConcurrency} parts at once.`,
    )
    .action(async (flags: ExportFlags) => {
      const { isMultiTable } = await import('../backup/export-many.js');
      if (isMultiTable(flags.table)) {
        const many = await exportMany(ctx, flags);
        if (flags.json) ctx.stdout(`${JSON.stringify(many)}\n`);
        else ctx.stdout(manySummary(many));
        const failed = many.failed.length;
        setExit(failed === 0 ? 0 : failed === many.tables.length + failed ? 1 : 3);
        return;
      }
      if (flags.exclude)
        throw inputError('OPTION', '--exclude is for --table patterns (such as public.*) or a whole-database export');
      // the encoder threads compile their WebAssembly while this thread loads the export code
      const { EncoderPool } = await import('../parquet/encoder-pool.js');
      const pool = new EncoderPool(flags.parallel).warm();
      const { exportTable } = await import('../backup/export.js');
      const summary = await ctx.withProgress('export', (progress) =>
        withEncoder(pool, () =>
          exportTable(
            {
              ...exportOptions(flags),
              table: flags.table!,
              parallel: flags.parallel,
              signal: ctx.stopSignal(),
              progress,
            },
            { logger: ctx.logger(), encoders: (fn) => pool.use(fn) },
          ),
        ),
      );
      if (flags.json) ctx.stdout(`${JSON.stringify(summary)}\n`);
      else ctx.stdout(humanSummary(summary));
    });
}

/** The flags as exportTable's options (all but the table, the signal and the progress sink). */
function exportOptions(flags: ExportFlags) {
  return {
    source: flags.source,
    dest: flags.dest,
    compression: flags.compression,
    integerEncoding: flags.integerEncoding,
    batchRows: flags.batchRows,
    fileMaxRows: flags.fileMaxRows,
    rowGroupRows: flags.rowGroupRows,
    chunkRows: flags.chunkRows,
    s3: {
      endpoint: flags.s3Endpoint,
      region: flags.s3Region,
      maxAttempts: flags.maxAttempts,
      maxSockets: flags.uploadConcurrency * flags.partConcurrency + 4,
    },
    uploadConcurrency: flags.uploadConcurrency,
    upload: {
      multipartThreshold: flags.multipartThreshold,
      partSize: flags.partSize,
      partConcurrency: flags.partConcurrency,
      sse: flags.sse,
      sseKmsKeyId: flags.sseKmsKeyId,
      storageClass: flags.storageClass,
    } satisfies UploaderOptions,
    memory: memoryOptions(flags),
  };
}

async function exportMany(ctx: CliContext, flags: ExportFlags): Promise<ExportManySummary> {
  const { exportTables } = await import('../backup/export-many.js');
  return ctx.withProgress('export', (progress) =>
    exportTables(
      {
        ...exportOptions(flags),
        table: flags.table,
        exclude: flags.exclude,
        parallel: flags.parallel,
        signal: ctx.stopSignal(),
        progress,
      },
      { logger: ctx.logger() },
    ),
  );
}

function manySummary(s: ExportManySummary): string {
  const lines = printTable(
    ['table', 'status', 'rows', 'files', 'bytes', 'duration'],
    [
      ...s.tables.map((t) => [
        t.table,
        'ok',
        String(t.rows),
        String(t.files.length),
        formatBytes(t.bytes),
        `${(t.durationMs / 1000).toFixed(1)}s`,
      ]),
      ...s.failed.map((f) => [f.table, 'failed', '-', '-', '-', '-']),
      ...s.stopped.map((n) => [n, 'stopped', '-', '-', '-', '-']),
    ],
  );
  const notes = [
    ...s.tables.flatMap((t) => t.warnings.map((w) => `${t.table}: warning: ${w}\n`)),
    ...s.failed.map((f) => `${f.table}: ${f.error}\n`),
  ];
  return lines + notes.join('');
}

function humanSummary(s: ExportSummary): string {
  const lines = printTable(
    ['table', 'rows', 'files', 'bytes', 'duration', 'peak RSS'],
    [
      [
        s.table,
        String(s.rows),
        String(s.files.length),
        formatBytes(s.bytes),
        `${(s.durationMs / 1000).toFixed(1)}s`,
        formatBytes(s.peakRssBytes),
      ],
    ],
  );
  const warn = s.warnings.map((w) => `warning: ${w}\n`).join('');
  return `${lines}${warn}manifest: ${s.manifestKey}\n`;
}

async function withEncoder<T>(encoder: { close(): Promise<void> }, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await encoder.close();
  }
}
