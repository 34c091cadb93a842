import { createHash } from 'node:crypto';
import { GetObjectCommand, UploadPartCommand } from '@aws-sdk/client-s3';
import type { ByteBudget } from './budget.js';
import type { ListedObject } from '../s3/list.js';
import { readBody } from './copy-body.js';
import { multipart } from './copy-multipart.js';
import { dstKey, headSource, srcKey, type CopyRoute, type RequestCount } from './copy-sides.js';

/** Streamed copy of an object over `multipartThreshold`: ranged GETs into a multipart upload, each part held in the byte budget. */
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
    async (n, start, end, uploadId) => {
      const release = await budget.acquire(end - start + 1);
      try {
        c.requests++;
        const got = await r.src.client.send(
          new GetObjectCommand({
            Bucket: r.src.bucket,
            Key: srcKey(r, o),
            Range: `bytes=${start}-${end}`,
            IfMatch: o.etag || undefined,
          }),
        );
        const body = await readBody(
          got.Body,
          end - start + 1,
          `s3://${r.src.bucket}/${srcKey(r, o)} bytes ${start}-${end}`,
        );
        const res = await r.dst.client.send(
          new UploadPartCommand({
            Bucket: r.dst.bucket,
            Key: dstKey(r, o),
            UploadId: uploadId,
            PartNumber: n,
            Body: body,
            ContentLength: body.length,
            ContentMD5: createHash('md5').update(body).digest('base64'),
          }),
        );
        if (!res.ETag) throw new Error(`part ${n}: the server returned no ETag`);
        return res.ETag;
      } finally {
        release();
      }
    },
    onPart,
  );
}
