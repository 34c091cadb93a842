import { createHash } from 'node:crypto';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { runtimeError } from '../errors.js';
import { objectParams, SHA256_META } from '../s3/uploader.js';
import type { ByteBudget } from './budget.js';
import type { ListedObject } from '../s3/list.js';
import { readBody } from './copy-body.js';
import { described, dstKey, srcKey, type CopyRoute, type RequestCount } from './copy-sides.js';

/** Streamed copy of an object up to `multipartThreshold`: one GET into one PUT, the object held in the byte budget. */
export async function streamSmall(r: CopyRoute, budget: ByteBudget, o: ListedObject, c: RequestCount): Promise<void> {
  const release = await budget.acquire(o.size);
  try {
    c.requests++;
    const got = await r.src.client.send(
      new GetObjectCommand({ Bucket: r.src.bucket, Key: srcKey(r, o), IfMatch: o.etag || undefined }),
    );
    const body = await readBody(got.Body, o.size, `s3://${r.src.bucket}/${srcKey(r, o)}`);
    const stored = got.Metadata?.[SHA256_META];
    if (stored && createHash('sha256').update(body).digest('hex') !== stored) {
      throw runtimeError(
        'SYNC_SOURCE_CORRUPT',
        `s3://${r.src.bucket}/${srcKey(r, o)}: its bytes do not match the SHA-256 in its metadata; the source object is damaged, not copied`,
      );
    }
    c.requests++;
    await r.dst.client.send(
      new PutObjectCommand({
        Bucket: r.dst.bucket,
        Key: dstKey(r, o),
        Body: body,
        ContentLength: body.length,
        ContentMD5: createHash('md5').update(body).digest('base64'),
        ...described(got),
        ...objectParams(r.opts),
      }),
    );
  } finally {
    release();
  }
}
