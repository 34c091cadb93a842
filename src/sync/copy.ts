import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { runtimeError } from '../errors.js';
import { joinKey } from '../s3/location.js';
import { MAX_PARTS } from '../s3/multipart.js';
import { objectParams, SHA256_META } from '../s3/uploader.js';
import type { ByteBudget } from './budget.js';
import type { ListedObject } from '../s3/list.js';

export { MAX_COPY_OBJECT_BYTES } from '../defaults.js';

export interface SyncSide {
  client: S3Client;
  bucket: string;
  /** Without trailing slash; may be empty. */
  prefix: string;
  endpoint?: string;
  /** The flag or argument that named this side, for error messages. */
  flag: string;
}

export interface CopyOptions {
  /** Part size of multipart copies, raised so that no object needs more than 10,000 parts. */
  partSize: number;
  /** A streamed object up to this size is one GET and one PUT; larger ones are ranged GETs into a multipart upload. */
  multipartThreshold: number;
  /** Parts of one object copied at once. */
  partConcurrency: number;
  /** Objects up to this size are one CopyObject; larger ones UploadPartCopy (S3's limit: 5 GiB). */
  maxCopyObjectBytes: number;
  sse?: 'AES256' | 'aws:kms';
  sseKmsKeyId?: string;
  storageClass?: string;
}

export type CopyMethod = 'server-side' | 'streamed';

export interface CopyResult {
  method: CopyMethod;
  requests: number;
}

/** The headers that describe an object, carried from source to destination on every copy path. */
type Described = Pick<
  HeadObjectCommandOutput,
  'ContentType' | 'Metadata' | 'CacheControl' | 'ContentDisposition' | 'ContentEncoding' | 'ContentLanguage'
>;

function described(h: Described): Described {
  return {
    ContentType: h.ContentType,
    Metadata: h.Metadata,
    CacheControl: h.CacheControl,
    ContentDisposition: h.ContentDisposition,
    ContentEncoding: h.ContentEncoding,
    ContentLanguage: h.ContentLanguage,
  };
}

/** `bucket/key` for CopySource, the key URL-encoded except for its slashes. */
function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
}

function errorName(e: unknown): string {
  return (e as { name?: string; Code?: string }).name ?? (e as { Code?: string }).Code ?? '';
}

function httpStatus(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** The store does not do this request (s3rver answers UploadPartCopy so; some stores CopyObject across buckets). */
export function isNotImplemented(e: unknown): boolean {
  return errorName(e) === 'NotImplemented' || httpStatus(e) === 501;
}

export function isPreconditionFailed(e: unknown): boolean {
  return errorName(e) === 'PreconditionFailed' || httpStatus(e) === 412;
}

/** Part size for an object of `size` bytes: the configured one, raised (in whole MiB) to fit 10,000 parts. */
export function copyPartSize(size: number, partSize: number): number {
  const MiB = 1024 * 1024;
  return Math.max(partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

/** Reads a response body of known length into one buffer, without the copy that concatenating chunks makes. */
async function readBody(body: unknown, expected: number, what: string): Promise<Buffer> {
  const out = Buffer.allocUnsafe(expected);
  let at = 0;
  for await (const chunk of body as AsyncIterable<Uint8Array>) {
    if (at + chunk.length > expected)
      throw runtimeError('SYNC_SHORT_READ', `${what}: the server sent more than the ${expected} bytes expected`);
    out.set(chunk, at);
    at += chunk.length;
  }
  if (at !== expected) throw runtimeError('SYNC_SHORT_READ', `${what}: the server sent ${at} of ${expected} bytes`);
  return out;
}

/**
 * Copies objects from one side to the other: server-side (CopyObject, or UploadPartCopy above
 * `maxCopyObjectBytes`) while the store allows it, else streamed (GET into PUT, or ranged GETs into
 * a multipart upload), holding at most the shared byte budget in memory and never touching disk.
 * Every read is conditional on the listed ETag, so an object that changes during the copy fails
 * instead of arriving as a mix of two versions; every multipart copy is checked by size after
 * Complete and aborted on any failure.
 */
export class Copier {
  /** Becomes false for the rest of the run once the store answers NotImplemented (or AccessDenied across accounts). */
  private serverSide: boolean;
  private partCopy = true;
  /** Why server-side copy stopped being used, once; for the summary. */
  fallbackReason: string | undefined;

  constructor(
    private readonly src: SyncSide,
    private readonly dst: SyncSide,
    private readonly opts: CopyOptions,
    private readonly budget: ByteBudget,
    serverSide: boolean,
    /** Same endpoint, different credentials: AccessDenied on a server-side copy means "stream it". */
    private readonly accessDeniedMeansStream: boolean,
    /** Test hook: called after each part of a multipart copy is stored. */
    private readonly onPart: () => void = () => {},
  ) {
    this.serverSide = serverSide;
  }

  private srcKey(o: ListedObject): string {
    return joinKey(this.src.prefix, o.key);
  }
  private dstKey(o: ListedObject): string {
    return joinKey(this.dst.prefix, o.key);
  }

  private objectParams() {
    return objectParams(this.opts);
  }

  async copy(o: ListedObject): Promise<CopyResult> {
    const counter = { requests: 0 };
    try {
      if (this.serverSide) {
        try {
          if (o.size <= this.opts.maxCopyObjectBytes) await this.copyObject(o, counter);
          else if (this.partCopy) await this.copyParts(o, counter);
          else throw Object.assign(new Error('UploadPartCopy not implemented'), { name: 'NotImplemented' });
          return { method: 'server-side', requests: counter.requests };
        } catch (e) {
          if (isNotImplemented(e)) {
            if (o.size <= this.opts.maxCopyObjectBytes)
              this.stopServerSide('the destination store answered NotImplemented to CopyObject');
            else {
              this.partCopy = false;
              this.fallbackReason ??= 'the destination store answered NotImplemented to UploadPartCopy';
            }
          } else if (this.accessDeniedMeansStream && (errorName(e) === 'AccessDenied' || httpStatus(e) === 403)) {
            this.stopServerSide('the destination credentials may not read the source (AccessDenied on CopyObject)');
          } else throw e;
        }
      }
      if (o.size <= this.opts.multipartThreshold) await this.streamSmall(o, counter);
      else await this.streamParts(o, counter);
      return { method: 'streamed', requests: counter.requests };
    } catch (e) {
      if (isPreconditionFailed(e)) {
        throw runtimeError(
          'SYNC_SOURCE_CHANGED',
          `s3://${this.src.bucket}/${this.srcKey(o)} changed while it was being copied; run sync again to copy the new version`,
          e,
        );
      }
      throw e;
    }
  }

  private stopServerSide(reason: string): void {
    this.serverSide = false;
    this.fallbackReason ??= reason;
  }

  private async copyObject(o: ListedObject, c: { requests: number }): Promise<void> {
    c.requests++;
    await this.dst.client.send(
      new CopyObjectCommand({
        Bucket: this.dst.bucket,
        Key: this.dstKey(o),
        CopySource: copySource(this.src.bucket, this.srcKey(o)),
        CopySourceIfMatch: o.etag || undefined,
        MetadataDirective: 'COPY',
        ...this.objectParams(),
      }),
    );
  }

  /** Creates a multipart upload carrying the source's description, runs `parts`, completes and checks it; aborts on failure. */
  private async multipart(
    o: ListedObject,
    head: Described,
    c: { requests: number },
    part: (n: number, start: number, end: number, uploadId: string) => Promise<string>,
  ): Promise<void> {
    const key = this.dstKey(o);
    const size = copyPartSize(o.size, this.opts.partSize);
    const count = Math.ceil(o.size / size);
    c.requests++;
    const created = await this.dst.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.dst.bucket,
        Key: key,
        ...described(head),
        ...this.objectParams(),
      }),
    );
    const uploadId = created.UploadId!;
    const done: CompletedPart[] = [];
    let next = 1;
    let failed = false;
    const worker = async () => {
      while (!failed && next <= count) {
        const n = next++;
        const start = (n - 1) * size;
        c.requests++;
        const etag = await part(n, start, Math.min(start + size, o.size) - 1, uploadId);
        done.push({ PartNumber: n, ETag: etag });
        this.onPart();
      }
    };
    try {
      const results = await Promise.allSettled(
        Array.from({ length: Math.min(this.opts.partConcurrency, count) }, () =>
          worker().catch((e: unknown) => {
            failed = true;
            throw e;
          }),
        ),
      );
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
      done.sort((a, b) => a.PartNumber! - b.PartNumber!);
      c.requests += 2;
      await this.dst.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.dst.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts: done },
        }),
      );
    } catch (e) {
      await this.dst.client
        .send(new AbortMultipartUploadCommand({ Bucket: this.dst.bucket, Key: key, UploadId: uploadId }))
        .catch(() => {});
      throw e;
    }
    // some stores answer Complete with an empty ETag, and s3rver takes an UploadPartCopy it does not do as an empty part: check what is stored
    const stored = await this.dst.client.send(new HeadObjectCommand({ Bucket: this.dst.bucket, Key: key }));
    if (stored.ContentLength !== o.size) {
      await this.dst.client.send(new DeleteObjectCommand({ Bucket: this.dst.bucket, Key: key })).catch(() => {});
      throw Object.assign(
        new Error(`s3://${this.dst.bucket}/${key}: stored ${stored.ContentLength} bytes of ${o.size}`),
        { name: 'IncompleteCopy' },
      );
    }
  }

  private async headSource(o: ListedObject, c: { requests: number }): Promise<HeadObjectCommandOutput> {
    c.requests++;
    return this.src.client.send(
      new HeadObjectCommand({ Bucket: this.src.bucket, Key: this.srcKey(o), IfMatch: o.etag || undefined }),
    );
  }

  private async copyParts(o: ListedObject, c: { requests: number }): Promise<void> {
    const head = await this.headSource(o, c);
    try {
      await this.multipart(o, head, c, async (n, start, end, uploadId) => {
        const r = await this.dst.client.send(
          new UploadPartCopyCommand({
            Bucket: this.dst.bucket,
            Key: this.dstKey(o),
            UploadId: uploadId,
            PartNumber: n,
            CopySource: copySource(this.src.bucket, this.srcKey(o)),
            CopySourceRange: `bytes=${start}-${end}`,
            CopySourceIfMatch: o.etag || undefined,
          }),
        );
        const etag = r.CopyPartResult?.ETag;
        if (!etag)
          throw Object.assign(new Error(`part ${n}: no ETag in the UploadPartCopy answer`), { name: 'NotImplemented' });
        return etag;
      });
    } catch (e) {
      // a store that does not do UploadPartCopy may still accept it and store nothing: treat as not implemented
      if ((e as { name?: string }).name === 'IncompleteCopy')
        throw Object.assign(new Error('UploadPartCopy stored no bytes'), { name: 'NotImplemented' });
      throw e;
    }
  }

  private async streamSmall(o: ListedObject, c: { requests: number }): Promise<void> {
    const release = await this.budget.acquire(o.size);
    try {
      c.requests++;
      const got = await this.src.client.send(
        new GetObjectCommand({ Bucket: this.src.bucket, Key: this.srcKey(o), IfMatch: o.etag || undefined }),
      );
      const body = await readBody(got.Body, o.size, `s3://${this.src.bucket}/${this.srcKey(o)}`);
      const stored = got.Metadata?.[SHA256_META];
      if (stored && createHash('sha256').update(body).digest('hex') !== stored) {
        throw runtimeError(
          'SYNC_SOURCE_CORRUPT',
          `s3://${this.src.bucket}/${this.srcKey(o)}: its bytes do not match the SHA-256 in its metadata; the source object is damaged, not copied`,
        );
      }
      c.requests++;
      await this.dst.client.send(
        new PutObjectCommand({
          Bucket: this.dst.bucket,
          Key: this.dstKey(o),
          Body: body,
          ContentLength: body.length,
          ContentMD5: createHash('md5').update(body).digest('base64'),
          ...described(got),
          ...this.objectParams(),
        }),
      );
    } finally {
      release();
    }
  }

  private async streamParts(o: ListedObject, c: { requests: number }): Promise<void> {
    const head = await this.headSource(o, c);
    await this.multipart(o, head, c, async (n, start, end, uploadId) => {
      const release = await this.budget.acquire(end - start + 1);
      try {
        c.requests++;
        const got = await this.src.client.send(
          new GetObjectCommand({
            Bucket: this.src.bucket,
            Key: this.srcKey(o),
            Range: `bytes=${start}-${end}`,
            IfMatch: o.etag || undefined,
          }),
        );
        const body = await readBody(
          got.Body,
          end - start + 1,
          `s3://${this.src.bucket}/${this.srcKey(o)} bytes ${start}-${end}`,
        );
        const r = await this.dst.client.send(
          new UploadPartCommand({
            Bucket: this.dst.bucket,
            Key: this.dstKey(o),
            UploadId: uploadId,
            PartNumber: n,
            Body: body,
            ContentLength: body.length,
            ContentMD5: createHash('md5').update(body).digest('base64'),
          }),
        );
        if (!r.ETag) throw new Error(`part ${n}: the server returned no ETag`);
        return r.ETag;
      } finally {
        release();
      }
    });
  }
}
