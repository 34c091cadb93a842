import { UploadPartCopyCommand } from '@aws-sdk/client-s3';
import type { ListedObject } from '../s3/list.js';
import { multipart } from './copy-multipart.js';
import { copySource, dstKey, headSource, srcKey, type CopyRoute, type RequestCount } from './copy-sides.js';

/** Server-side copy of an object over `maxCopyObjectBytes`: a multipart upload of UploadPartCopy ranges. */
export async function copyParts(r: CopyRoute, o: ListedObject, c: RequestCount, onPart: () => void): Promise<void> {
  const head = await headSource(r, o, c);
  try {
    await multipart(
      r,
      o,
      head,
      c,
      async (n, start, end, uploadId) => {
        const res = await r.dst.client.send(
          new UploadPartCopyCommand({
            Bucket: r.dst.bucket,
            Key: dstKey(r, o),
            UploadId: uploadId,
            PartNumber: n,
            CopySource: copySource(r.src.bucket, srcKey(r, o)),
            CopySourceRange: `bytes=${start}-${end}`,
            CopySourceIfMatch: o.etag || undefined,
          }),
        );
        const etag = res.CopyPartResult?.ETag;
        if (!etag)
          throw Object.assign(new Error(`part ${n}: no ETag in the UploadPartCopy answer`), { name: 'NotImplemented' });
        return etag;
      },
      onPart,
    );
  } catch (e) {
    // a store that does not do UploadPartCopy may still accept it and store nothing: treat as not implemented
    if ((e as { name?: string }).name === 'IncompleteCopy')
      throw Object.assign(new Error('UploadPartCopy stored no bytes'), { name: 'NotImplemented' });
    throw e;
  }
}
