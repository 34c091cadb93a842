import { Command, Option } from 'commander';
import type { CopyMode, SyncAction, SyncSummary } from '../sync/sync.js';
import type { CompareMode } from '../sync/compare.js';
import { CHOICES, DEFAULTS, MAX_COPY_OBJECT_BYTES, MiB, SYNC_DEFAULTS } from '../defaults.js';
import { byteSize, wholeNumber } from './parse.js';
import { testHook } from './test-hook.js';
import { formatBytes, printTable } from './output.js';
import type { CliContext } from './context.js';

interface SyncFlags {
  sourceEndpoint?: string;
  destEndpoint?: string;
  sourceRegion?: string;
  destRegion?: string;
  sourceProfile?: string;
  destProfile?: string;
  include?: string[];
  exclude?: string[];
  compare: CompareMode;
  delete?: boolean;
  copyMode: CopyMode;
  storageClass?: string;
  sse?: 'AES256' | 'aws:kms';
  sseKmsKeyId?: string;
  concurrency: number;
  partSize: number;
  multipartThreshold: number;
  partConcurrency: number;
  copyObjectMax: number;
  maxAttempts: number;
  dryRun?: boolean;
  json?: boolean;
}

const collect = (v: string, all: string[] = []) => [...all, v];

/** Exit code of a sync: 0 when every object is in place, 1 when some failed (the summary names them). */
export function syncExitCode(s: SyncSummary): number {
  return s.failed > 0 ? 1 : 0;
}

export function syncCommand(ctx: CliContext, setExit: (code: number) => void): Command {
  return new Command('sync')
    .description(
      'mirror an S3 prefix onto another (another bucket, region, account or provider), copying only what is missing or changed',
    )
    .argument('<source>', 's3://bucket/prefix to copy from')
    .argument('<dest>', 's3://bucket/prefix to copy to')
    .option(
      '--source-endpoint <url>',
      'S3-compatible endpoint of the source (default: AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL)',
    )
    .option('--dest-endpoint <url>', 'S3-compatible endpoint of the destination (default: as for the source)')
    .option('--source-region <region>', 'region of the source bucket')
    .option('--dest-region <region>', 'region of the destination bucket')
    .option('--source-profile <name>', 'AWS profile (shared config/credentials files) for the source')
    .option('--dest-profile <name>', 'AWS profile for the destination')
    .option(
      '--include <glob>',
      'sync only keys (relative to the prefix) matching this glob; repeatable; ** crosses /',
      collect,
    )
    .option('--exclude <glob>', 'leave keys matching this glob alone; repeatable', collect)
    .addOption(
      new Option(
        '--compare <how>',
        'size: equal sizes are equal; checksum: size, then the SHA-256 tablevault stores, else single-part ETags',
      )
        .choices(CHOICES.compare)
        .default(SYNC_DEFAULTS.compare),
    )
    .option('--delete', 'delete destination objects the source no longer has (within the include/exclude selection)')
    .addOption(
      new Option(
        '--copy-mode <mode>',
        'auto: server-side on one endpoint, streamed across endpoints or where the store cannot copy',
      )
        .choices(CHOICES.copyMode)
        .default(SYNC_DEFAULTS.copyMode),
    )
    .option('--storage-class <class>', "storage class of the copies, e.g. GLACIER_IR (default: the bucket's)")
    .addOption(new Option('--sse <mode>', 'server-side encryption of the copies').choices(CHOICES.sse))
    .option('--sse-kms-key-id <key>', 'KMS key for --sse aws:kms')
    .option(
      '--concurrency <n>',
      'objects in flight (streamed copies hold at most 32 MiB of object bytes in all)',
      wholeNumber,
      SYNC_DEFAULTS.concurrency,
    )
    .option('--part-size <size>', 'part size of multipart copies (at least 5MiB)', byteSize, SYNC_DEFAULTS.partSize)
    .option(
      '--multipart-threshold <size>',
      'streamed objects larger than this are copied in ranged parts',
      byteSize,
      SYNC_DEFAULTS.multipartThreshold,
    )
    .option('--part-concurrency <n>', 'parts of one object in flight', wholeNumber, SYNC_DEFAULTS.partConcurrency)
    .option(
      '--copy-object-max <size>',
      "server-side: objects up to this size take one CopyObject, larger ones parallel UploadPartCopy parts (S3's limit: 5GiB)",
      byteSize,
      MAX_COPY_OBJECT_BYTES,
    )
    .option('--max-attempts <n>', 'attempts per S3 request (adaptive retry mode)', wholeNumber, DEFAULTS.s3.maxAttempts)
    .option('--dry-run', 'print what would be copied, skipped and deleted; change nothing')
    .option('--json', 'print one JSON summary on stdout (with --dry-run: one JSON line per action, then the summary)')
    .addHelpText(
      'after',
      `
Examples:
  # mirror last night's backups to an archive bucket in colder storage (same endpoint: server-side copies)
  tablevault sync s3://backups/nightly s3://backups-archive/nightly --storage-class GLACIER_IR

  # to another provider: each side its own endpoint and credentials profile (streamed, no local disk)
  tablevault sync s3://backups/nightly s3://offsite/nightly \\
    --dest-endpoint https://s3.eu-central-003.backblazeb2.com --dest-profile offsite --include '**/*.parquet'

Exit codes: 0 every selected object is in place, 1 some objects failed (listed), 2 bad input
(same or overlapping locations, missing bucket, no permission).
Memory: streamed copies hold at most ${SYNC_DEFAULTS.bufferBytes / MiB} MiB of object bytes in all: small objects whole, parts only as they pass.`,
    )
    .action(async (source: string, dest: string, f: SyncFlags) => {
      const onAction = f.dryRun
        ? (a: SyncAction) =>
            ctx.stdout(
              f.json
                ? `${JSON.stringify(a)}\n`
                : `${a.action.padEnd(6)} ${a.key} (${formatBytes(a.bytes)}${a.basis ? `, by ${a.basis}` : ''}${a.note ? `: ${a.note}` : ''})\n`,
            )
        : undefined;
      const { syncPrefixes } = await import('../sync/sync.js');
      const hook = testHook();
      const summary = await ctx.withProgress('sync', (progress) =>
        syncPrefixes(
          {
            source,
            dest,
            sourceS3: {
              endpoint: f.sourceEndpoint,
              region: f.sourceRegion,
              profile: f.sourceProfile,
              maxAttempts: f.maxAttempts,
            },
            destS3: {
              endpoint: f.destEndpoint ?? f.sourceEndpoint,
              region: f.destRegion ?? f.sourceRegion,
              profile: f.destProfile,
              maxAttempts: f.maxAttempts,
            },
            include: f.include,
            exclude: f.exclude,
            compare: f.compare,
            delete: f.delete,
            copyMode: f.copyMode,
            storageClass: f.storageClass,
            sse: f.sse,
            sseKmsKeyId: f.sseKmsKeyId,
            concurrency: f.concurrency,
            partSize: f.partSize,
            multipartThreshold: f.multipartThreshold,
            partConcurrency: f.partConcurrency,
            maxCopyObjectBytes: f.copyObjectMax,
            dryRun: f.dryRun,
            onAction,
            signal: ctx.stopSignal(),
            progress,
          },
          { logger: ctx.logger(), testHooks: { onPart: hook && (() => void hook('sync-part')) } },
        ),
      );
      if (f.json) ctx.stdout(`${JSON.stringify(f.dryRun ? { type: 'summary', ...summary } : summary)}\n`);
      else ctx.stdout(humanSummary(summary));
      setExit(syncExitCode(summary));
    });
}

function humanSummary(s: SyncSummary): string {
  const copied = s.copied.serverSide + s.copied.streamed;
  let out = printTable(
    [
      'listed (src/dst)',
      s.dryRun ? 'would copy' : 'copied (server/streamed)',
      'skipped',
      s.dryRun ? 'would delete' : 'deleted',
      'failed',
      'bytes',
      'duration',
      'req/object',
      'MB/s',
    ],
    [
      [
        `${s.listed.source}/${s.listed.dest}`,
        s.dryRun ? String(s.toCopy) : `${copied} (${s.copied.serverSide}/${s.copied.streamed})`,
        String(s.skipped),
        String(s.deleted),
        String(s.failed),
        formatBytes(s.bytes),
        `${(s.durationMs / 1000).toFixed(1)}s`,
        s.dryRun ? '-' : String(s.requestsPerCopiedObject),
        s.dryRun ? '-' : String(s.megabytesPerSecond),
      ],
    ],
  );
  if (s.keptBySizeOnly > 0)
    out += `note: ${s.keptBySizeOnly} object(s) were kept because their sizes match: neither a SHA-256 on both sides nor single-part ETags to compare (--json lists them)\n`;
  if (s.fallback) out += `note: streamed instead of server-side copies: ${s.fallback}\n`;
  if (s.abortedUploads) out += `aborted ${s.abortedUploads} incomplete multipart upload(s) left by an earlier run\n`;
  for (const f of s.failures) out += `failed: ${f.key}: ${f.error}\n`;
  return out;
}
