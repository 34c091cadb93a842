import { CopyObjectCommand } from '@aws-sdk/client-s3';
import { objectParams } from '../s3/uploader.js';
import type { ListedObject } from '../s3/list.js';
import { copySource, dstKey, srcKey, type CopyRoute, type RequestCount } from './copy-sides.js';

/** Server-side copy of an object up to `maxCopyObjectBytes` in one CopyObject, conditional on the listed ETag. */
export async function copyObject(r: CopyRoute, o: ListedObject, c: RequestCount): Promise<void> {
  c.requests++;
  await r.dst.client.send(
    new CopyObjectCommand({
      Bucket: r.dst.bucket,
      Key: dstKey(r, o),
      CopySource: copySource(r.src.bucket, srcKey(r, o)),
      CopySourceIfMatch: o.etag || undefined,
      MetadataDirective: 'COPY',
      ...objectParams(r.opts),
    }),
  );
}
