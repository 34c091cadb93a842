import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type GetObjectCommandOutput } from '@aws-sdk/client-s3';
import { isTablevaultError, runtimeError } from '../errors.js';
import { objectParams, SHA256_META } from '../s3/uploader.js';
import type { ByteBudget } from './budget.js';
import type { ListedObject } from '../s3/list.js';
import { readBody } from './copy-body.js';
import { errorName, notRetried } from './copy-errors.js';
import { described, dstKey, srcKey, type CopyRoute, type RequestCount } from './copy-sides.js';
import { PassBody, withAttempts } from './pass-body.js';

/**
 * Streamed copy of an object up to `multipartThreshold`: one GET into one PUT. Where the source's
 * ETag is the MD5 of its bytes (a single-part object, not under SSE-KMS or SSE-C), the GET's body
 * is passed into the PUT as it arrives, with that MD5 as Content-MD5: the destination refuses any
 * byte that differs from what the source stored. Otherwise the object is held in the byte budget,
 * checked against its SHA-256 (when it carries one) and sent with the MD5 computed here.
 */
export async function streamSmall(r: CopyRoute, budget: ByteBudget, o: ListedObject, c: RequestCount): Promise<void> {
  await withAttempts(
    async () => {
      c.requests++;
      const got = await r.src.client.send(
        new GetObjectCommand({ Bucket: r.src.bucket, Key: srcKey(r, o), IfMatch: o.etag || undefined }),
      );
      const md5 = o.size > 0 ? etagMd5(got) : undefined;
      if (md5) await passed(r, budget, o, c, got, md5);
      else await held(r, budget, o, c, got);
    },
    (e) => notRetried(e) || (isTablevaultError(e) && e.code === 'SYNC_SOURCE_CORRUPT'),
    () => {},
  );
}

/** The source's ETag as a Content-MD5 (base64), when it is the MD5 of the bytes. */
function etagMd5(got: GetObjectCommandOutput): string | undefined {
  if (got.ServerSideEncryption?.includes('kms') || got.SSECustomerAlgorithm) return undefined;
  const hex = /^"?([0-9a-f]{32})"?$/i.exec(got.ETag ?? '')?.[1];
  return hex ? Buffer.from(hex, 'hex').toString('base64') : undefined;
}

function what(r: CopyRoute, o: ListedObject): string {
  return `s3://${r.src.bucket}/${srcKey(r, o)}`;
}

function put(
  r: CopyRoute,
  o: ListedObject,
  c: RequestCount,
  got: GetObjectCommandOutput,
  body: Buffer | Readable,
  md5: string,
  signal?: AbortSignal,
) {
  c.requests++;
  return r.dst.client.send(
    new PutObjectCommand({
      Bucket: r.dst.bucket,
      Key: dstKey(r, o),
      Body: body,
      ContentLength: o.size,
      ContentMD5: md5,
      ...described(got),
      ...objectParams(r.opts),
    }),
    { abortSignal: signal },
  );
}

async function passed(
  r: CopyRoute,
  budget: ByteBudget,
  o: ListedObject,
  c: RequestCount,
  got: GetObjectCommandOutput,
  md5: string,
): Promise<void> {
  const body = new PassBody(got.Body as AsyncIterable<Uint8Array>, budget, o.size, what(r, o), false);
  // a source that fails mid-body ends the upload too, instead of leaving it waiting for the rest
  const upload = new AbortController();
  body.once('error', (e) => upload.abort(e));
  try {
    await put(r, o, c, got, body, md5, upload.signal).catch((e: unknown) => {
      if (body.errored) throw body.errored;
      if (errorName(e) === 'BadDigest' || errorName(e) === 'InvalidDigest')
        throw runtimeError(
          'SYNC_SOURCE_CORRUPT',
          `${what(r, o)}: the bytes read do not match the MD5 the source stored (its ETag); the source object is damaged, not copied`,
          e,
        );
      throw e;
    });
  } finally {
    body.destroy();
  }
}

async function held(
  r: CopyRoute,
  budget: ByteBudget,
  o: ListedObject,
  c: RequestCount,
  got: GetObjectCommandOutput,
): Promise<void> {
  const release = await budget.acquire(o.size);
  try {
    const body = await readBody(got.Body, o.size, what(r, o));
    const stored = got.Metadata?.[SHA256_META];
    if (stored && createHash('sha256').update(body).digest('hex') !== stored) {
      throw runtimeError(
        'SYNC_SOURCE_CORRUPT',
        `${what(r, o)}: its bytes do not match the SHA-256 in its metadata; the source object is damaged, not copied`,
      );
    }
    await put(r, o, c, got, body, createHash('md5').update(body).digest('base64'));
  } finally {
    release();
  }
}
