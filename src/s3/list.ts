import { ListObjectsV2Command, type ListObjectsV2CommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { runtimeError } from '../errors.js';
import { s3Error } from './errors.js';

/** One object of a listing, its key relative to the listed prefix (`listPrefix` removed). */
export interface ListedObject {
  key: string;
  size: number;
  /** As S3 returns it, quotes included: `"<md5>"` for a single PUT, `"<hash>-<parts>"` for multipart. */
  etag: string;
}

export interface ListTarget {
  client: S3Client;
  bucket: string;
  endpoint?: string;
  /** The flag that named this location, for error messages. */
  flag?: string;
}

/** S3 lists keys in ascending order of their UTF-8 bytes; so does this. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

/**
 * Streams a listing page by page (ListObjectsV2, 1,000 keys per page), fetching the next page while
 * the caller works on this one, so memory holds two pages whatever the object count. Checks that
 * the server lists in key order, because `sync` merges two listings as sorted streams.
 */
export async function* listObjects(
  side: ListTarget,
  listPrefix: string,
  onRequest: () => void = () => {},
): AsyncGenerator<ListedObject> {
  const page = (token?: string): Promise<ListObjectsV2CommandOutput> => {
    onRequest();
    return side.client
      .send(new ListObjectsV2Command({ Bucket: side.bucket, Prefix: listPrefix, ContinuationToken: token }))
      .catch((e: unknown) => {
        throw s3Error(e, { bucket: side.bucket, endpoint: side.endpoint, action: 'list objects', flag: side.flag });
      });
  };
  let next: Promise<ListObjectsV2CommandOutput> | undefined = page();
  let previous: string | undefined;
  while (next) {
    const res: ListObjectsV2CommandOutput = await next;
    next = res.IsTruncated && res.NextContinuationToken ? page(res.NextContinuationToken) : undefined;
    next?.catch(() => {}); // an abandoned prefetch must not become an unhandled rejection
    for (const o of res.Contents ?? []) {
      const key = o.Key!.slice(listPrefix.length);
      if (previous !== undefined && compareKeys(previous, key) >= 0) {
        throw runtimeError(
          'S3_LIST_ORDER',
          `s3://${side.bucket}/${listPrefix}: the server listed "${key}" after "${previous}", not in key order; sync needs S3's ordered listings`,
        );
      }
      previous = key;
      yield { key, size: o.Size ?? 0, etag: o.ETag ?? '' };
    }
  }
}
