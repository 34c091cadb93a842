import { AbortMultipartUploadCommand, HeadBucketCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { createS3Client, type S3Options } from '../s3/client.js';
import { s3Error } from '../s3/errors.js';
import { parseS3Url } from '../s3/location.js';
import type { SyncSide } from './copy.js';

export async function checkBucket(side: SyncSide): Promise<void> {
  try {
    await side.client.send(new HeadBucketCommand({ Bucket: side.bucket }));
  } catch (e) {
    throw s3Error(e, { bucket: side.bucket, endpoint: side.endpoint, action: 'check bucket', flag: side.flag });
  }
}

/** Fails with exit code 2 (what to fix) when the bucket of an s3:// location does not exist or cannot be reached with these settings. */
export async function checkLocation(url: string, s3: S3Options, flag: string): Promise<void> {
  const loc = parseS3Url(url, flag);
  const { client, endpoint } = createS3Client(s3);
  try {
    await checkBucket({ client, bucket: loc.bucket, prefix: loc.prefix, endpoint, flag });
  } finally {
    client.destroy();
  }
}

/**
 * Aborts the multipart uploads under the destination prefix, called before this run starts any:
 * they were left by a run that was killed before it could abort them. (So two syncs must not write
 * into one destination prefix at once; the other's copies would fail cleanly and be redone on its
 * next run.) Stores without ListMultipartUploads (s3rver) are skipped: their bucket lifecycle rule
 * (README) is the backstop. The first listing is sent at once; nothing is aborted before `checked`
 * (the buckets' checks) has resolved, so a run refused for bad input writes nothing.
 */
export async function abortStaleUploads(side: SyncSide, log: Logger, checked?: Promise<unknown>): Promise<number> {
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  const listPrefix = side.prefix ? `${side.prefix}/` : '';
  for (;;) {
    let r;
    try {
      r = await side.client.send(
        new ListMultipartUploadsCommand({
          Bucket: side.bucket,
          Prefix: listPrefix,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
    } catch (e) {
      log.debug(
        { err: errorMessage(e) },
        'ListMultipartUploads is not available; incomplete uploads are left to the bucket lifecycle rule',
      );
      return aborted;
    }
    await checked;
    for (const u of r.Uploads ?? []) {
      if (!u.Key || !u.UploadId) continue;
      await side.client.send(
        new AbortMultipartUploadCommand({ Bucket: side.bucket, Key: u.Key, UploadId: u.UploadId }),
      );
      aborted++;
      log.info({ key: u.Key }, 'aborted an incomplete multipart upload left by an earlier run');
    }
    if (!r.IsTruncated) return aborted;
    keyMarker = r.NextKeyMarker;
    uploadIdMarker = r.NextUploadIdMarker;
  }
}
