import { createHash } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectsCommand,
  HeadObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { multipartUpload } from './multipart.js';
import { inputError, runtimeError } from '../errors.js';
import { byteSize, oneOf, wholeNumber } from '../config/validate.js';

import { CHOICES, DEFAULT_UPLOADER_OPTIONS as DEFAULTS, LIMITS, MiB } from '../defaults.js';

export { MiB };

/** S3 refuses parts below 5 MiB (except the last) and more than 10,000 parts. */
export const MIN_PART_SIZE = LIMITS.minPartSize;

/** CopyObject copies at most 5 GiB in one request. */
const MAX_COPY_OBJECT_BYTES = LIMITS.maxCopyObjectBytes;

/**
 * Object metadata key holding the SHA-256 of the object's bytes (hex): set on every object, single
 * part at upload, multipart by a server-side copy onto itself after Complete (objects up to 5 GiB).
 */
export const SHA256_META = 'tablevault-sha256';

export interface UploaderOptions {
  /** Objects of at most this many bytes go up with one PutObject. Default 16 MiB. */
  multipartThreshold: number;
  /**
   * Part size of multipart uploads; at least 5 MiB. Default 16 MiB. Doubles every 1,000 parts
   * (up to 5 GiB), so no object needs more than 10,000 parts whatever its length.
   */
  partSize: number;
  /**
   * Parts of one object uploaded at once. Memory per object in flight is at most
   * `multipartThreshold + (partConcurrency + 1) × partSize` (the buffered head, then the parts).
   */
  partConcurrency: number;
  /** Server-side encryption for every object: `AES256` (S3-managed keys) or `aws:kms`. */
  sse?: 'AES256' | 'aws:kms';
  /** KMS key for `aws:kms` (default: the bucket's or account's KMS key). */
  sseKmsKeyId?: string;
  /** Storage class for every object, e.g. STANDARD_IA, GLACIER_IR (default: the bucket's). */
  storageClass?: string;
}

export const DEFAULT_UPLOADER_OPTIONS: UploaderOptions = DEFAULTS;

export function validateUploaderOptions(o: UploaderOptions): UploaderOptions {
  byteSize('--part-size', o.partSize, { min: MIN_PART_SIZE });
  byteSize('--multipart-threshold', o.multipartThreshold);
  wholeNumber('--part-concurrency', o.partConcurrency, { max: 64 });
  if (o.sse !== undefined) oneOf('--sse', o.sse, CHOICES.sse);
  if (o.sseKmsKeyId && o.sse !== 'aws:kms') throw inputError('OPTION', '--sse-kms-key-id needs --sse aws:kms');
  if (o.storageClass !== undefined && !/^[A-Z_]+$/.test(o.storageClass))
    throw inputError(
      'OPTION',
      `--storage-class "${o.storageClass}" is not a storage class name (e.g. STANDARD_IA, GLACIER_IR)`,
    );
  return o;
}

/** Encryption and storage class as request parameters, the same for every object and every write path (uploads, copies). */
export function objectParams(o: Pick<UploaderOptions, 'sse' | 'sseKmsKeyId' | 'storageClass'>): {
  ServerSideEncryption?: 'AES256' | 'aws:kms';
  SSEKMSKeyId?: string;
  StorageClass?: never;
} {
  return {
    ...(o.sse ? { ServerSideEncryption: o.sse } : {}),
    ...(o.sseKmsKeyId ? { SSEKMSKeyId: o.sseKmsKeyId } : {}),
    ...(o.storageClass ? { StorageClass: o.storageClass as never } : {}),
  };
}

export interface UploadResult {
  key: string;
  bytes: number;
  sha256: string;
  /** `skipped`: an object with the same size and SHA-256 (in its metadata) was already there. */
  method: 'put' | 'multipart' | 'skipped';
  /** False when the store would not take the SHA-256 into a multipart object's metadata. */
  sha256InMetadata?: boolean;
}

export interface UploadParams {
  key: string;
  body: AsyncIterable<Uint8Array>;
  contentType?: string;
  metadata?: Record<string, string>;
}

/**
 * Moves a byte stream into one S3 object, choosing by size: the head of the stream is
 * buffered up to the threshold; if the stream ends there, one PutObject (with Content-MD5, so
 * the server checks the bytes); otherwise a multipart upload (multipart.ts: growing part sizes,
 * Content-MD5 per part) that is aborted if any part or the stream itself fails, so a failed
 * upload never leaves an object or parts behind.
 */
export class Uploader {
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    private readonly opts: UploaderOptions = DEFAULT_UPLOADER_OPTIONS,
  ) {
    validateUploaderOptions(opts);
  }

  private objectParams() {
    return objectParams(this.opts);
  }

  async upload(p: UploadParams): Promise<UploadResult> {
    const sha = createHash('sha256');
    const it = p.body[Symbol.asyncIterator]();
    // The head is copied into one buffer as it arrives instead of kept as the stream's chunks and
    // concatenated at the end: each chunk can go as soon as it is copied (while it is young, so
    // the next scavenge frees it), and an object is not held twice for its PutObject. The buffer
    // is reserved at the threshold's size, but only the pages written become resident.
    let headBuf: Buffer | undefined;
    let headBytes = 0;
    const head: Uint8Array[] = [];
    let ended = false;
    for (;;) {
      const n = await it.next();
      if (n.done) {
        ended = true;
        break;
      }
      sha.update(n.value);
      if (headBytes + n.value.length > this.opts.multipartThreshold) {
        // past the threshold: multipart, starting with what is buffered and this chunk
        if (headBuf) head.push(headBuf.subarray(0, headBytes));
        head.push(n.value);
        headBytes += n.value.length;
        break;
      }
      headBuf ??= Buffer.allocUnsafeSlow(this.opts.multipartThreshold);
      headBuf.set(n.value, headBytes);
      headBytes += n.value.length;
    }
    if (ended) {
      const body = headBuf ? headBuf.subarray(0, headBytes) : Buffer.alloc(0);
      const sha256 = sha.digest('hex');
      // a rerun (after a crash, or of an unchanged export) finds the same bytes already stored
      if (await this.storedMatches(p.key, body.length, sha256))
        return { key: p.key, bytes: body.length, sha256, method: 'skipped' };
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: p.key,
          Body: body,
          ContentLength: body.length,
          ContentMD5: createHash('md5').update(body).digest('base64'),
          ContentType: p.contentType,
          Metadata: { ...p.metadata, [SHA256_META]: sha256 },
          ...this.objectParams(),
        }),
      );
      return { key: p.key, bytes: body.length, sha256, method: 'put' };
    }
    const hashed: AsyncIterator<Uint8Array> = {
      async next() {
        const n = await it.next();
        if (!n.done) sha.update(n.value);
        return n;
      },
    };
    let total: number;
    try {
      ({ bytes: total } = await multipartUpload({
        client: this.client,
        params: {
          Bucket: this.bucket,
          Key: p.key,
          ContentType: p.contentType,
          Metadata: p.metadata,
          ...this.objectParams(),
        },
        head,
        rest: hashed,
        partSize: this.opts.partSize,
        concurrency: this.opts.partConcurrency,
      }));
    } finally {
      await it.return?.();
    }
    // do not trust CompleteMultipartUpload's answer alone (some stores return an empty ETag): check what is stored
    const headRes = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: p.key }));
    if (headRes.ContentLength !== total) {
      await this.deleteKeys([p.key]);
      throw runtimeError(
        'S3_INCOMPLETE',
        `s3://${this.bucket}/${p.key}: stored ${headRes.ContentLength} bytes, sent ${total}; the object was removed, rerun the export`,
      );
    }
    const sha256 = sha.digest('hex');
    return {
      key: p.key,
      bytes: total,
      sha256,
      method: 'multipart',
      sha256InMetadata: await this.addSha256(p, sha256, total),
    };
  }

  /**
   * The hash of a multipart object is known only after Complete: a server-side copy onto itself
   * adds it to the metadata (no bytes travel; objects up to 5 GiB). The object is complete and
   * checked either way, so a store that refuses (Ceph answers NotImplemented for SSE-KMS objects)
   * or fails here leaves it as it is; the manifest holds the hash in every case.
   */
  private async addSha256(p: UploadParams, sha256: string, bytes: number): Promise<boolean> {
    if (bytes > MAX_COPY_OBJECT_BYTES) return false;
    try {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: p.key,
          CopySource: `${this.bucket}/${encodeURIComponent(p.key).replace(/%2F/g, '/')}`,
          MetadataDirective: 'REPLACE',
          ContentType: p.contentType,
          Metadata: { ...p.metadata, [SHA256_META]: sha256 },
          ...this.objectParams(),
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  private async storedMatches(key: string, bytes: number, sha256: string): Promise<boolean> {
    try {
      const h = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return h.ContentLength === bytes && h.Metadata?.[SHA256_META] === sha256;
    } catch (e) {
      const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404) return false;
      throw e;
    }
  }

  /** Deletes keys in batches of 1000; missing keys are not an error. */
  async deleteKeys(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const res = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (res.Errors?.length)
        throw runtimeError(
          'S3_DELETE',
          `could not delete ${res.Errors.length} object(s), first ${res.Errors[0]!.Key}: ${res.Errors[0]!.Message}`,
        );
    }
  }
}
