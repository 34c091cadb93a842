import { CHOICES, LIMITS, SYNC_DEFAULTS } from '../defaults.js';
import { byteSize, oneOf, wholeNumber } from '../config/validate.js';
import { inputError } from '../errors.js';
import { createS3Client, resolveEndpoint, type ResolvedS3, type S3Options } from '../s3/client.js';
import { parseS3Url } from '../s3/location.js';
import { MIN_PART_SIZE } from '../s3/uploader.js';
import { ByteBudget } from './budget.js';
import type { CompareMode } from './compare.js';
import { Copier, type SyncSide } from './copy.js';
import { keyFilter } from './listing.js';
import { checkNotOverlapping } from './overlap.js';

export type CopyMode = 'auto' | 'server-side' | 'streamed';

/** The options of a sync that its plan is made from (SyncOptions without the callbacks). */
export interface SyncPlanOptions {
  /** s3://bucket/prefix */
  source: string;
  dest: string;
  sourceS3?: S3Options;
  destS3?: S3Options;
  /** Globs on the key relative to the prefix (`**` crosses `/`); an object is synced when it matches an include (or none are given) and no exclude. */
  include?: string[];
  exclude?: string[];
  compare?: CompareMode;
  /** `auto` (default): server-side when both sides share an endpoint, streamed otherwise or when the store does not copy. */
  copyMode?: CopyMode;
  /** Objects in flight (default 16). Streamed copies hold at most 32 MiB of object bytes in all, whatever the concurrency. */
  concurrency?: number;
  /** Part size of multipart copies (default 8 MiB). */
  partSize?: number;
  /** Streamed objects up to this size are one GET and one PUT (default 8 MiB). */
  multipartThreshold?: number;
  /** Parts of one object in flight (default 4). */
  partConcurrency?: number;
  /** CopyObject up to this size, UploadPartCopy above (default and maximum 5 GiB). */
  maxCopyObjectBytes?: number;
  storageClass?: string;
  sse?: 'AES256' | 'aws:kms';
  sseKmsKeyId?: string;
}

/** A sync's options checked and resolved: limits, the two locations, and how objects will be copied. */
export interface SyncPlan {
  concurrency: number;
  partSize: number;
  multipartThreshold: number;
  partConcurrency: number;
  maxCopyObjectBytes: number;
  compareMode: CompareMode;
  copyMode: CopyMode;
  accept: (key: string) => boolean;
  src: { bucket: string; prefix: string; endpoint?: string };
  dst: { bucket: string; prefix: string; endpoint?: string };
  sameEndpoint: boolean;
  sameCredentials: boolean;
}

const FIVE_GIB = 5 * 1024 ** 3;

/** Checks every option before anything is requested: bad input stops the run with exit code 2. */
export function planSync(opts: SyncPlanOptions): SyncPlan {
  const concurrency = wholeNumber('--concurrency', opts.concurrency, { max: 1024 }, SYNC_DEFAULTS.concurrency);
  const partSize = byteSize(
    '--part-size',
    opts.partSize,
    { min: MIN_PART_SIZE, max: FIVE_GIB },
    SYNC_DEFAULTS.partSize,
  );
  const multipartThreshold = byteSize(
    '--multipart-threshold',
    opts.multipartThreshold,
    { max: FIVE_GIB },
    SYNC_DEFAULTS.multipartThreshold,
  );
  const partConcurrency = wholeNumber(
    '--part-concurrency',
    opts.partConcurrency,
    { max: 64 },
    SYNC_DEFAULTS.partConcurrency,
  );
  const maxCopyObjectBytes = byteSize(
    '--copy-object-max',
    opts.maxCopyObjectBytes,
    { min: MIN_PART_SIZE, max: LIMITS.maxCopyObjectBytes },
    LIMITS.maxCopyObjectBytes,
  );
  const compareMode = oneOf('--compare', opts.compare, CHOICES.compare, SYNC_DEFAULTS.compare);
  const copyMode = oneOf('--copy-mode', opts.copyMode, CHOICES.copyMode, SYNC_DEFAULTS.copyMode);
  if (opts.sseKmsKeyId && opts.sse !== 'aws:kms') throw inputError('OPTION', '--sse-kms-key-id needs --sse aws:kms');
  const accept = keyFilter(opts.include, opts.exclude);

  const srcLoc = parseS3Url(opts.source, 'source');
  const dstLoc = parseS3Url(opts.dest, 'destination');
  const srcEndpoint = resolveEndpoint(opts.sourceS3?.endpoint);
  const dstEndpoint = resolveEndpoint(opts.destS3?.endpoint);
  checkNotOverlapping({ ...srcLoc, endpoint: srcEndpoint }, { ...dstLoc, endpoint: dstEndpoint });
  const sameEndpoint = (srcEndpoint ?? '') === (dstEndpoint ?? '');
  const sameCredentials = (opts.sourceS3?.profile ?? '') === (opts.destS3?.profile ?? '');
  if (copyMode === 'server-side' && !sameEndpoint)
    throw inputError('OPTION', '--copy-mode server-side needs the source and destination on the same endpoint');
  return {
    concurrency,
    partSize,
    multipartThreshold,
    partConcurrency,
    maxCopyObjectBytes,
    compareMode,
    copyMode,
    accept,
    src: { ...srcLoc, endpoint: srcEndpoint },
    dst: { ...dstLoc, endpoint: dstEndpoint },
    sameEndpoint,
    sameCredentials,
  };
}

export interface SyncClients {
  src: SyncSide;
  dst: SyncSide;
  /** Destroys the clients (one, when both sides share it). */
  close(): void;
}

/** The S3 clients of both sides: one shared client when they have the same endpoint, credentials and region. */
export function openSides(plan: SyncPlan, opts: SyncPlanOptions): SyncClients {
  const sockets = plan.concurrency * plan.partConcurrency + 8;
  const dstClient: ResolvedS3 = createS3Client({ ...opts.destS3, maxSockets: sockets });
  const srcClient =
    plan.sameEndpoint && plan.sameCredentials && (opts.sourceS3?.region ?? '') === (opts.destS3?.region ?? '')
      ? dstClient
      : createS3Client({ ...opts.sourceS3, maxSockets: sockets });
  return {
    src: {
      client: srcClient.client,
      bucket: plan.src.bucket,
      prefix: plan.src.prefix,
      endpoint: plan.src.endpoint,
      flag: 'the source',
    },
    dst: {
      client: dstClient.client,
      bucket: plan.dst.bucket,
      prefix: plan.dst.prefix,
      endpoint: plan.dst.endpoint,
      flag: 'the destination',
    },
    close() {
      srcClient.client.destroy();
      if (dstClient !== srcClient) dstClient.client.destroy();
    },
  };
}

/** The copier of a plan: server-side where the endpoint allows, streamed within a byte budget of `SYNC_DEFAULTS.bufferBytes`. */
export function planCopier(plan: SyncPlan, opts: SyncPlanOptions, sides: SyncClients, onPart?: () => void): Copier {
  const { partSize, multipartThreshold, partConcurrency, maxCopyObjectBytes } = plan;
  return new Copier(
    sides.src,
    sides.dst,
    {
      partSize,
      multipartThreshold,
      partConcurrency,
      maxCopyObjectBytes,
      sse: opts.sse,
      sseKmsKeyId: opts.sseKmsKeyId,
      storageClass: opts.storageClass,
    },
    new ByteBudget(SYNC_DEFAULTS.bufferBytes),
    plan.copyMode !== 'streamed' && plan.sameEndpoint,
    plan.sameEndpoint && !plan.sameCredentials,
    onPart,
  );
}
