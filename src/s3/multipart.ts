import { createHash } from 'node:crypto';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
  type CompletedPart,
  type CreateMultipartUploadCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';

/** S3's limits: at most 10,000 parts, each at most 5 GiB. */
export const MAX_PARTS = 10_000;
const MAX_PART_SIZE = 5 * 1024 ** 3;
/** Parts per size step: the part size doubles after each step, so no object needs more than 10,000 parts. */
const PARTS_PER_STEP = 1000;

/**
 * The size of part `n` (1-based): `base` for the first 1,000 parts, doubling every 1,000 after,
 * at most 5 GiB. With a 16 MiB base, parts 1-1,000 carry 16 GiB, and 10,000 parts carry more than
 * S3's 5 TB object limit, so a stream of unknown length always fits.
 */
export function partSizeFor(n: number, base: number): number {
  return Math.min(MAX_PART_SIZE, base * 2 ** Math.floor((n - 1) / PARTS_PER_STEP));
}

export interface MultipartInput {
  client: S3Client;
  /** Bucket, Key, ContentType, Metadata, encryption, storage class. */
  params: CreateMultipartUploadCommandInput & { Bucket: string; Key: string };
  /** Bytes already read (the head buffered up to the multipart threshold; emptied as it is cut into parts), then the rest. */
  head: Uint8Array[];
  rest: AsyncIterator<Uint8Array>;
  partSize: number;
  concurrency: number;
}

/** Cuts a byte stream into numbered parts of the growing sizes. Holds at most one part. */
async function* cutParts(
  head: Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
  base: number,
): AsyncGenerator<{ n: number; body: Buffer }> {
  let pending: Uint8Array[] = [];
  let size = 0;
  let n = 1;
  const take = (want: number): Buffer => {
    const all = Buffer.concat(pending, size);
    pending = all.length > want ? [all.subarray(want)] : [];
    size = all.length - want;
    return all.subarray(0, want);
  };
  const feed = async function* (c: Uint8Array) {
    pending.push(c);
    size += c.length;
    while (size >= partSizeFor(n, base)) {
      const body = take(partSizeFor(n, base));
      yield { n: n++, body };
    }
  };
  // taken out of the caller's array as they are cut: the head is not held twice while parts go up
  for (let c = head.shift(); c; c = head.shift()) yield* feed(c);
  for (;;) {
    const r = await rest.next();
    if (r.done) break;
    yield* feed(r.value);
  }
  if (size > 0 || n === 1) yield { n: n++, body: take(size) };
}

/**
 * A multipart upload of a stream of unknown length: `concurrency` workers take parts from one
 * generator (no queue library, as lib-storage does), each part carries Content-MD5 so the server
 * checks it, and any failure, a part's or the stream's, aborts the upload before the original
 * error is thrown. Memory: at most (concurrency + 1) parts.
 * Written here rather than with lib-storage, whose part size is fixed up front: a stream longer
 * than 10,000 parts would fail there.
 */
export async function multipartUpload(m: MultipartInput): Promise<{ bytes: number; parts: number }> {
  const created = await m.client.send(new CreateMultipartUploadCommand(m.params));
  const uploadId = created.UploadId!;
  const done: CompletedPart[] = [];
  let bytes = 0;
  let failed = false;
  const parts = cutParts(m.head, m.rest, m.partSize);
  const worker = async () => {
    for await (const p of parts) {
      if (failed) return;
      if (p.n > MAX_PARTS) throw new Error(`more than ${MAX_PARTS} parts`);
      const res = await m.client.send(
        new UploadPartCommand({
          Bucket: m.params.Bucket,
          Key: m.params.Key,
          UploadId: uploadId,
          PartNumber: p.n,
          Body: p.body,
          ContentLength: p.body.length,
          ContentMD5: createHash('md5').update(p.body).digest('base64'),
        }),
      );
      if (!res.ETag) throw new Error(`part ${p.n}: the server returned no ETag`);
      done.push({ PartNumber: p.n, ETag: res.ETag });
      bytes += p.body.length;
    }
  };
  try {
    const results = await Promise.allSettled(
      Array.from({ length: m.concurrency }, () =>
        worker().catch((e: unknown) => {
          failed = true;
          throw e;
        }),
      ),
    );
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
    done.sort((a, b) => a.PartNumber! - b.PartNumber!);
    await m.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: m.params.Bucket,
        Key: m.params.Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: done },
      }),
    );
    return { bytes, parts: done.length };
  } catch (e) {
    failed = true;
    await parts.return(undefined).catch(() => {});
    try {
      await m.client.send(
        new AbortMultipartUploadCommand({ Bucket: m.params.Bucket, Key: m.params.Key, UploadId: uploadId }),
      );
    } catch (abortError) {
      if (e instanceof Error) {
        const why = (abortError as { name?: string }).name ?? String(abortError);
        e.message += ` (the multipart upload ${uploadId} could not be aborted: ${why}; a bucket lifecycle rule with AbortIncompleteMultipartUpload removes its parts)`;
      }
    }
    throw e;
  }
}
