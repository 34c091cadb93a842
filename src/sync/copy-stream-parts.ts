import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import type { ByteBudget } from './budget.js';
import type { ListedObject } from '../s3/list.js';
import { readBody } from './copy-body.js';
import { notRetried } from './copy-errors.js';
import { multipart } from './copy-multipart.js';
import { dstKey, headSource, srcKey, type CopyRoute, type RequestCount } from './copy-sides.js';
import { PassBody, withAttempts } from './pass-body.js';

/**
 * Streamed copy of an object over `multipartThreshold`: ranged GETs into a multipart upload. Each
 * GET's body is passed on into its UploadPart as it arrives, within the shared byte budget, and the
 * part's MD5, computed on the way, must equal the ETag the destination answers (any mismatch fails
 * the part). Where the destination's part ETags are no MD5s (SSE-KMS, SSE-C), a part is held in the
 * budget and sent with Content-MD5 instead, for the destination to check.
 */
export async function streamParts(
  r: CopyRoute,
  budget: ByteBudget,
  o: ListedObject,
  c: RequestCount,
  onPart: () => void,
): Promise<void> {
  const head = await headSource(r, o, c);
  await multipart(
    r,
    o,
    head,
    c,
    async (n, start, end, uploadId, etagIsMd5) => {
      if (!etagIsMd5) return heldPart(r, budget, o, c, { n, start, end, uploadId });
      return withAttempts(
        () => passedPart(r, budget, o, c, { n, start, end, uploadId }),
        notRetried,
        () => c.requests++, // the UploadPart of the next attempt (its GET counts itself)
      );
    },
    onPart,
  );
}

interface Part {
  n: number;
  start: number;
  end: number;
  uploadId: string;
}

function rangedGet(r: CopyRoute, o: ListedObject, c: RequestCount, p: Part) {
  c.requests++;
  return r.src.client.send(
    new GetObjectCommand({
      Bucket: r.src.bucket,
      Key: srcKey(r, o),
      Range: `bytes=${p.start}-${p.end}`,
      IfMatch: o.etag || undefined,
    }),
  );
}

function what(r: CopyRoute, o: ListedObject, p: Part): string {
  return `s3://${r.src.bucket}/${srcKey(r, o)} bytes ${p.start}-${p.end}`;
}

/** One part passed from the GET's socket to the UploadPart's, checked by its MD5 against the answered ETag. */
async function passedPart(r: CopyRoute, budget: ByteBudget, o: ListedObject, c: RequestCount, p: Part) {
  const length = p.end - p.start + 1;
  const got = await rangedGet(r, o, c, p);
  const body = new PassBody(got.Body as AsyncIterable<Uint8Array>, budget, length, what(r, o, p));
  // a source that fails mid-body ends the upload too, instead of leaving it waiting for the rest
  const upload = new AbortController();
  body.once('error', (e) => upload.abort(e));
  try {
    const res = await r.dst.client
      .send(
        new UploadPartCommand({
          Bucket: r.dst.bucket,
          Key: dstKey(r, o),
          UploadId: p.uploadId,
          PartNumber: p.n,
          Body: body as Readable,
          ContentLength: length,
        }),
        { abortSignal: upload.signal },
      )
      .catch((e: unknown) => {
        throw body.errored ?? e;
      });
    const md5 = body.digestHex();
    if (res.ETag?.replace(/"/g, '') !== md5)
      throw Object.assign(
        new Error(`part ${p.n}: the destination stored other bytes than were sent (ETag ${res.ETag}, MD5 ${md5})`),
        { name: 'BadDigest' },
      );
    return res.ETag;
  } finally {
    body.destroy();
  }
}

/** One part read whole into the budget and sent with Content-MD5 (for destinations whose ETags are no MD5s). */
async function heldPart(r: CopyRoute, budget: ByteBudget, o: ListedObject, c: RequestCount, p: Part) {
  const release = await budget.acquire(p.end - p.start + 1);
  try {
    const got = await rangedGet(r, o, c, p);
    const body = await readBody(got.Body, p.end - p.start + 1, what(r, o, p));
    const res = await r.dst.client.send(
      new UploadPartCommand({
        Bucket: r.dst.bucket,
        Key: dstKey(r, o),
        UploadId: p.uploadId,
        PartNumber: p.n,
        Body: body,
        ContentLength: body.length,
        ContentMD5: createHash('md5').update(body).digest('base64'),
      }),
    );
    if (!res.ETag) throw new Error(`part ${p.n}: the server returned no ETag`);
    return res.ETag;
  } finally {
    release();
  }
}
