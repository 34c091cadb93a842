import { AbortMultipartUploadCommand, DeleteObjectsCommand, HeadBucketCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import picomatch from 'picomatch';
import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { PeakMemory } from '../memory/peak.js';
import { createS3Client, resolveEndpoint, type S3Options } from '../s3/client.js';
import { s3Error } from '../s3/errors.js';
import { joinKey, parseS3Url } from '../s3/location.js';
import { MIN_PART_SIZE } from '../s3/uploader.js';
import { isManifestKey } from '../manifest/layout.js';
import type { ProgressSink } from '../progress.js';
import { ByteBudget } from './budget.js';
import { SYNC_DEFAULTS } from '../defaults.js';
import { checkNotOverlapping } from './overlap.js';
import { decide, type Basis, type CompareMode } from './compare.js';
import { Copier, MAX_COPY_OBJECT_BYTES, type SyncSide } from './copy.js';
import { compareKeys, listObjects, type ListedObject } from '../s3/list.js';

export type CopyMode = 'auto' | 'server-side' | 'streamed';

export interface SyncOptions {
  /** s3://bucket/prefix */
  source: string;
  dest: string;
  sourceS3?: S3Options;
  destS3?: S3Options;
  /** Globs on the key relative to the prefix (`**` crosses `/`); an object is synced when it matches an include (or none are given) and no exclude. */
  include?: string[];
  exclude?: string[];
  compare?: CompareMode;
  /** Remove destination objects the source no longer has (only those the include/exclude globs select). */
  delete?: boolean;
  /** `auto` (default): server-side when both sides share an endpoint, streamed otherwise or when the store does not copy. */
  copyMode?: CopyMode;
  /** Objects in flight (default 16). Streamed copies buffer at most concurrency × part size bytes in all. */
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
  dryRun?: boolean;
  /** Each planned action, as it is decided (for `--dry-run` output). */
  onAction?: (a: SyncAction) => void;
  /** Stop starting new copies (a signal); what is in flight finishes or is aborted cleanly. */
  signal?: AbortSignal;
  /** Objects copied or skipped and bytes, as they go (the CLI's progress line). */
  progress?: ProgressSink;
}

export interface SyncAction {
  action: 'copy' | 'skip' | 'delete';
  key: string;
  bytes: number;
  basis?: Basis;
  note?: string;
}

export interface SyncSummary {
  source: string;
  dest: string;
  dryRun: boolean;
  listed: { source: number; dest: number };
  /** Objects found missing or different (copied, or in a dry run to be copied). */
  toCopy: number;
  copied: { serverSide: number; streamed: number };
  skipped: number;
  deleted: number;
  failed: number;
  /** Bytes copied (or, in a dry run, that would be). */
  bytes: number;
  /** How skip/copy decisions on objects present on both sides were made: by SHA-256, single-part ETag, or size alone. */
  compared: { checksum: number; etag: number; size: number };
  /** Objects kept on equal size alone under `--compare checksum`: no checksum both sides could compare. */
  keptBySizeOnly: number;
  /** The first 100 of them, with the reason. */
  comparedBySizeOnly: Array<{ key: string; note: string }>;
  /** Incomplete multipart uploads under the destination prefix, left by an earlier killed run, aborted. */
  abortedUploads: number;
  /** Requests: listing, deciding (HeadObject), copying, deleting. */
  requests: { list: number; compare: number; copy: number; delete: number };
  requestsPerCopiedObject: number;
  objectsPerSecond: number;
  megabytesPerSecond: number;
  durationMs: number;
  peakRssBytes: number;
  /** Why copies fell back from server-side to streamed, when they did. */
  fallback?: string;
  failures: Array<{ key: string; error: string }>;
}

export interface SyncDeps { logger?: Logger; testHooks?: { onPart?: () => void } }

export { SYNC_DEFAULTS };

function whole(name: string, v: number | undefined, dflt: number, min: number, max: number): number {
  const n = v ?? dflt;
  if (!Number.isInteger(n) || n < min || n > max) throw inputError('OPTION', `${name} must be a whole number from ${min} to ${max}; got ${String(v)}`);
  return n;
}

/** A key filter from include/exclude globs; `*` stops at `/`, `**` crosses it, dotfiles match. */
export function keyFilter(include: string[] = [], exclude: string[] = []): (key: string) => boolean {
  const opts = { dot: true };
  const inc = include.length ? picomatch(include, opts) : () => true;
  const exc = exclude.length ? picomatch(exclude, opts) : () => false;
  return (key) => inc(key) && !exc(key);
}

async function checkBucket(side: SyncSide): Promise<void> {
  try {
    await side.client.send(new HeadBucketCommand({ Bucket: side.bucket }));
  } catch (e) {
    throw s3Error(e, { bucket: side.bucket, endpoint: side.endpoint, action: 'check bucket', flag: side.flag });
  }
}

/** Fails with exit code 2 (what to fix) when the bucket of an s3:// location does not exist or cannot be reached with these settings. */
export async function checkLocation(url: string, s3: S3Options, flag: string): Promise<void> {
  const loc = parseS3Url(url, flag);
  const { client, endpoint } = createS3Client(s3);
  try {
    await checkBucket({ client, bucket: loc.bucket, prefix: loc.prefix, endpoint, flag });
  } finally {
    client.destroy();
  }
}

/**
 * Aborts the multipart uploads under the destination prefix, called before this run starts any:
 * they were left by a run that was killed before it could abort them. (So two syncs must not write
 * into one destination prefix at once; the other's copies would fail cleanly and be redone on its
 * next run.) Stores without ListMultipartUploads (s3rver) are skipped: their bucket lifecycle rule
 * (README) is the backstop.
 */
async function abortStaleUploads(side: SyncSide, log: Logger): Promise<number> {
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  const listPrefix = side.prefix ? `${side.prefix}/` : '';
  for (;;) {
    let r;
    try {
      r = await side.client.send(new ListMultipartUploadsCommand({ Bucket: side.bucket, Prefix: listPrefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }));
    } catch (e) {
      log.debug({ err: errorMessage(e) }, 'ListMultipartUploads is not available; incomplete uploads are left to the bucket lifecycle rule');
      return aborted;
    }
    for (const u of r.Uploads ?? []) {
      if (!u.Key || !u.UploadId) continue;
      await side.client.send(new AbortMultipartUploadCommand({ Bucket: side.bucket, Key: u.Key, UploadId: u.UploadId }));
      aborted++;
      log.info({ key: u.Key }, 'aborted an incomplete multipart upload left by an earlier run');
    }
    if (!r.IsTruncated) return aborted;
    keyMarker = r.NextKeyMarker;
    uploadIdMarker = r.NextUploadIdMarker;
  }
}

/** tablevault's manifests (export and incremental) name the data objects beside them. */
export function isManifest(key: string): boolean {
  return isManifestKey(key);
}

/** Pairs two key-sorted listings: each key once, with the source's object, the destination's, or both. */
async function* mergeListings(a: AsyncIterable<ListedObject>, b: AsyncIterable<ListedObject>): AsyncGenerator<{ key: string; src?: ListedObject; dst?: ListedObject }> {
  const ia = a[Symbol.asyncIterator]();
  const ib = b[Symbol.asyncIterator]();
  try {
    let x = await ia.next();
    let y = await ib.next();
    while (!x.done || !y.done) {
      const c = x.done ? 1 : y.done ? -1 : compareKeys(x.value.key, y.value.key);
      if (c < 0) { yield { key: x.value!.key, src: x.value! }; x = await ia.next(); }
      else if (c > 0) { yield { key: y.value!.key, dst: y.value! }; y = await ib.next(); }
      else { yield { key: x.value!.key, src: x.value!, dst: y.value! }; x = await ia.next(); y = await ib.next(); }
    }
  } finally {
    await ia.return?.();
    await ib.return?.();
  }
}

/**
 * Mirrors one S3 prefix onto another: lists both as sorted streams, copies what is missing or
 * different (see compare.ts), optionally deletes what the source lacks, with `concurrency` objects
 * in flight. Per-object failures are counted and reported, the rest goes on; bad input (missing
 * bucket, no permission, overlapping locations) stops the run with exit code 2 before anything is
 * written, or as soon as it shows.
 */
export async function syncPrefixes(opts: SyncOptions, deps: SyncDeps = {}): Promise<SyncSummary> {
  const log = deps.logger ?? silentLogger();
  const started = Date.now();
  const concurrency = whole('--concurrency', opts.concurrency, SYNC_DEFAULTS.concurrency, 1, 1024);
  const partSize = whole('--part-size', opts.partSize, SYNC_DEFAULTS.partSize, MIN_PART_SIZE, 5 * 1024 ** 3);
  const multipartThreshold = whole('--multipart-threshold', opts.multipartThreshold, SYNC_DEFAULTS.multipartThreshold, 1, 5 * 1024 ** 3);
  const partConcurrency = whole('--part-concurrency', opts.partConcurrency, SYNC_DEFAULTS.partConcurrency, 1, 64);
  const maxCopyObjectBytes = whole('--copy-object-max', opts.maxCopyObjectBytes, MAX_COPY_OBJECT_BYTES, MIN_PART_SIZE, MAX_COPY_OBJECT_BYTES);
  const compareMode = opts.compare ?? SYNC_DEFAULTS.compare;
  if (compareMode !== 'size' && compareMode !== 'checksum') throw inputError('OPTION', `--compare must be size or checksum; got ${String(compareMode)}`);
  const copyMode = opts.copyMode ?? 'auto';
  if (!['auto', 'server-side', 'streamed'].includes(copyMode)) throw inputError('OPTION', `--copy-mode must be auto, server-side or streamed; got ${copyMode}`);
  if (opts.sseKmsKeyId && opts.sse !== 'aws:kms') throw inputError('OPTION', '--sse-kms-key-id needs --sse aws:kms');
  const accept = keyFilter(opts.include, opts.exclude);

  const srcLoc = parseS3Url(opts.source, 'source');
  const dstLoc = parseS3Url(opts.dest, 'destination');
  const srcEndpoint = resolveEndpoint(opts.sourceS3?.endpoint);
  const dstEndpoint = resolveEndpoint(opts.destS3?.endpoint);
  checkNotOverlapping({ ...srcLoc, endpoint: srcEndpoint }, { ...dstLoc, endpoint: dstEndpoint });
  const sameEndpoint = (srcEndpoint ?? '') === (dstEndpoint ?? '');
  const sameCredentials = (opts.sourceS3?.profile ?? '') === (opts.destS3?.profile ?? '');
  if (copyMode === 'server-side' && !sameEndpoint) throw inputError('OPTION', '--copy-mode server-side needs the source and destination on the same endpoint');

  const sockets = concurrency * partConcurrency + 8;
  const dstClient = createS3Client({ ...opts.destS3, maxSockets: sockets });
  const srcClient = sameEndpoint && sameCredentials && (opts.sourceS3?.region ?? '') === (opts.destS3?.region ?? '') ? dstClient : createS3Client({ ...opts.sourceS3, maxSockets: sockets });
  const src: SyncSide = { client: srcClient.client, bucket: srcLoc.bucket, prefix: srcLoc.prefix, endpoint: srcEndpoint, flag: 'the source' };
  const dst: SyncSide = { client: dstClient.client, bucket: dstLoc.bucket, prefix: dstLoc.prefix, endpoint: dstEndpoint, flag: 'the destination' };
  const peak = new PeakMemory().start();
  const s: SyncSummary = {
    source: opts.source, dest: opts.dest, dryRun: !!opts.dryRun,
    listed: { source: 0, dest: 0 }, toCopy: 0, copied: { serverSide: 0, streamed: 0 }, skipped: 0, deleted: 0, failed: 0, bytes: 0,
    compared: { checksum: 0, etag: 0, size: 0 }, keptBySizeOnly: 0, comparedBySizeOnly: [], abortedUploads: 0,
    requests: { list: 0, compare: 0, copy: 0, delete: 0 }, requestsPerCopiedObject: 0, objectsPerSecond: 0, megabytesPerSecond: 0,
    durationMs: 0, peakRssBytes: 0, failures: [],
  };
  try {
    await Promise.all([checkBucket(src), checkBucket(dst)]);
    if (!opts.dryRun) s.abortedUploads = await abortStaleUploads(dst, log);
    const copier = new Copier(src, dst, { partSize, multipartThreshold, partConcurrency, maxCopyObjectBytes, sse: opts.sse, sseKmsKeyId: opts.sseKmsKeyId, storageClass: opts.storageClass },
      new ByteBudget(concurrency * Math.max(partSize, Math.min(multipartThreshold, partSize))), copyMode !== 'streamed' && sameEndpoint, sameEndpoint && !sameCredentials, deps.testHooks?.onPart);

    const inflight = new Set<Promise<void>>();
    let fatal: unknown;
    // a task never rejects: bad input stops the run (exit 2), anything else fails that object only
    const run = (key: string, task: () => Promise<void>) => {
      const p: Promise<void> = task()
        .catch((e: unknown) => { if (isTablevaultError(e) && e.exitCode === 2) fatal ??= e; else fail(key, e); })
        .finally(() => inflight.delete(p));
      inflight.add(p);
    };
    const act = (a: SyncAction) => opts.onAction?.(a);
    const fail = (key: string, e: unknown) => {
      s.failed++;
      if (s.failures.length < 100) s.failures.push({ key, error: errorMessage(e) });
      log.error({ key, err: errorMessage(e) }, 'object not copied');
    };
    let deletes: string[] = [];
    const manifests: ListedObject[] = [];
    const flushDeletes = async () => {
      const batch = deletes;
      deletes = [];
      if (batch.length === 0) return;
      if (opts.dryRun) { s.deleted += batch.length; return; }
      s.requests.delete++;
      const res = await dst.client.send(new DeleteObjectsCommand({ Bucket: dst.bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } }))
        .catch((e: unknown) => { throw s3Error(e, { bucket: dst.bucket, endpoint: dst.endpoint, action: 'delete objects', flag: dst.flag }); });
      const errors = res.Errors ?? [];
      for (const er of errors) fail(er.Key ?? '?', new Error(er.Message ?? er.Code ?? 'delete failed'));
      s.deleted += batch.length - errors.length;
    };
    const copyOne = async (o: ListedObject) => {
      if (opts.dryRun) { s.bytes += o.size; return; }
      try {
        const r = await copier.copy(o);
        s.requests.copy += r.requests;
        if (r.method === 'server-side') s.copied.serverSide++; else s.copied.streamed++;
        s.bytes += o.size;
        opts.progress?.({ objects: 1, bytes: o.size });
      } catch (e) {
        if (isTablevaultError(e) && e.exitCode === 2) throw e;
        const mapped = s3Error(e, { bucket: dst.bucket, endpoint: dst.endpoint, action: 'copy', flag: dst.flag });
        if (mapped.exitCode === 2) throw mapped;
        fail(o.key, e);
      }
    };

    const listed = () => { s.requests.list++; };
    const under = (side: SyncSide) => (side.prefix ? `${side.prefix}/` : '');
    const pairs = mergeListings(listObjects(src, under(src), listed), listObjects(dst, under(dst), listed));
    for await (const { key, src: so, dst: d } of pairs) {
      if (fatal !== undefined) break;
      if (opts.signal?.aborted) break;
      if (so) s.listed.source++;
      if (d) s.listed.dest++;
      if (!accept(key)) continue;
      if (!so) {
        if (!opts.delete) continue;
        act({ action: 'delete', key, bytes: d!.size });
        deletes.push(joinKey(dst.prefix, key));
        if (deletes.length >= 1000) await flushDeletes();
        continue;
      }
      while (inflight.size >= concurrency) await Promise.race(inflight);
      run(key, async () => {
        let decision;
        try {
          decision = await decide(so, d, compareMode, { src, dst });
        } catch (e) {
          const mapped = s3Error(e, { bucket: dst.bucket, endpoint: dst.endpoint, action: 'compare', flag: dst.flag });
          if (mapped.exitCode === 2) throw mapped;
          fail(key, e);
          return;
        }
        s.requests.compare += decision.requests;
        if (d) {
          if (decision.basis === 'checksum') s.compared.checksum++;
          else if (decision.basis === 'etag') s.compared.etag++;
          else s.compared.size++;
        }
        if (!decision.copy) {
          s.skipped++;
          opts.progress?.({ skipped: 1 });
          if (decision.note) {
            s.keptBySizeOnly++;
            if (s.comparedBySizeOnly.length < 100) s.comparedBySizeOnly.push({ key, note: decision.note });
          }
          act({ action: 'skip', key, bytes: so.size, basis: decision.basis, ...(decision.note ? { note: decision.note } : {}) });
          return;
        }
        s.toCopy++;
        act({ action: 'copy', key, bytes: so.size, basis: decision.basis });
        if (isManifest(key)) manifests.push(so);
        else await copyOne(so);
      });
    }
    await Promise.all(inflight);
    if (fatal !== undefined) throw fatal;
    // a table's manifest goes last, once every object it may name is in place
    for (const m of manifests) {
      if (s.failed > 0) fail(m.key, new Error(`not copied because ${s.failed} other object(s) failed; the destination keeps its previous manifest`));
      else await copyOne(m);
    }
    await flushDeletes();
    s.fallback = copier.fallbackReason;
  } finally {
    srcClient.client.destroy();
    if (dstClient !== srcClient) dstClient.client.destroy();
  }
  const copied = s.copied.serverSide + s.copied.streamed;
  s.durationMs = Date.now() - started;
  const secs = Math.max(s.durationMs, 1) / 1000;
  s.requestsPerCopiedObject = copied ? Math.round((s.requests.copy / copied) * 100) / 100 : 0;
  s.objectsPerSecond = Math.round((copied / secs) * 10) / 10;
  s.megabytesPerSecond = Math.round((s.bytes / 1e6 / secs) * 10) / 10;
  peak.stop();
  s.peakRssBytes = peak.rss;
  if (s.fallback) log.warn({ reason: s.fallback }, 'server-side copy not available; objects were streamed');
  log.info({ copied, skipped: s.skipped, deleted: s.deleted, failed: s.failed, bytes: s.bytes }, 'sync finished');
  return s;
}
