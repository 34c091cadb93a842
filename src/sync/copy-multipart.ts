import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  type CompletedPart,
} from '@aws-sdk/client-s3';
import { MAX_PARTS } from '../s3/multipart.js';
import { objectParams } from '../s3/uploader.js';
import type { ListedObject } from '../s3/list.js';
import { described, dstKey, type CopyRoute, type Described, type RequestCount } from './copy-sides.js';

/** Part size for an object of `size` bytes: the configured one, raised (in whole MiB) to fit 10,000 parts. */
export function copyPartSize(size: number, partSize: number): number {
  const MiB = 1024 * 1024;
  return Math.max(partSize, Math.ceil(size / MAX_PARTS / MiB) * MiB);
}

/**
 * Stores one part (bytes `start`–`end` inclusive) of the upload and returns its ETag. `etagIsMd5`:
 * the destination answers each part with the MD5 of its bytes as ETag (not so under SSE-KMS or SSE-C).
 */
export type PartCopier = (
  n: number,
  start: number,
  end: number,
  uploadId: string,
  etagIsMd5: boolean,
) => Promise<string>;

/**
 * Creates a multipart upload carrying the source's description, runs `parts`, completes and checks it; aborts on failure.
 * `onPart` is the test hook called after each part is stored.
 */
export async function multipart(
  r: CopyRoute,
  o: ListedObject,
  head: Described,
  c: RequestCount,
  part: PartCopier,
  onPart: () => void,
): Promise<void> {
  const key = dstKey(r, o);
  const size = copyPartSize(o.size, r.opts.partSize);
  const count = Math.ceil(o.size / size);
  c.requests++;
  const created = await r.dst.client.send(
    new CreateMultipartUploadCommand({
      Bucket: r.dst.bucket,
      Key: key,
      ...described(head),
      ...objectParams(r.opts),
    }),
  );
  const uploadId = created.UploadId!;
  const etagIsMd5 = !created.ServerSideEncryption?.includes('kms') && !created.SSECustomerAlgorithm;
  const done: CompletedPart[] = [];
  let next = 1;
  let failed = false;
  const worker = async () => {
    while (!failed && next <= count) {
      const n = next++;
      const start = (n - 1) * size;
      c.requests++;
      const etag = await part(n, start, Math.min(start + size, o.size) - 1, uploadId, etagIsMd5);
      done.push({ PartNumber: n, ETag: etag });
      onPart();
    }
  };
  try {
    const results = await Promise.allSettled(
      Array.from({ length: Math.min(r.opts.partConcurrency, count) }, () =>
        worker().catch((e: unknown) => {
          failed = true;
          throw e;
        }),
      ),
    );
    const rejected = results.find((res): res is PromiseRejectedResult => res.status === 'rejected');
    if (rejected) throw rejected.reason;
    done.sort((a, b) => a.PartNumber! - b.PartNumber!);
    c.requests += 2;
    await r.dst.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: r.dst.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: done },
      }),
    );
  } catch (e) {
    await r.dst.client
      .send(new AbortMultipartUploadCommand({ Bucket: r.dst.bucket, Key: key, UploadId: uploadId }))
      .catch(() => {});
    throw e;
  }
  // some stores answer Complete with an empty ETag, and s3rver takes an UploadPartCopy it does not do as an empty part: check what is stored
  const stored = await r.dst.client.send(new HeadObjectCommand({ Bucket: r.dst.bucket, Key: key }));
  if (stored.ContentLength !== o.size) {
    await r.dst.client.send(new DeleteObjectCommand({ Bucket: r.dst.bucket, Key: key })).catch(() => {});
    throw Object.assign(new Error(`s3://${r.dst.bucket}/${key}: stored ${stored.ContentLength} bytes of ${o.size}`), {
      name: 'IncompleteCopy',
    });
  }
}
