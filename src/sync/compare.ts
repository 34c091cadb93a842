import { HeadObjectCommand, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { SHA256_META } from '../s3/uploader.js';
import { joinKey } from '../s3/location.js';
import type { SyncSide } from './copy.js';
import type { ListedObject } from '../s3/list.js';

/** `size`: equal sizes are equal objects. `checksum` (default): size, then the best content checksum both sides have. */
export type CompareMode = 'size' | 'checksum';

/** What a skip or copy decision rested on. */
export type Basis = 'missing' | 'size' | 'etag' | 'checksum';

export interface Decision {
  copy: boolean;
  basis: Basis;
  /** For a skip by size alone under `checksum`: why no checksum could be compared. */
  note?: string;
  /** HeadObject requests made to decide. */
  requests: number;
}

/** A multipart ETag (`"<md5 of part md5s>-<parts>"`) is no MD5 of the bytes. */
export function isMultipartEtag(etag: string): boolean {
  return /-\d+"?$/.test(etag);
}

async function head(side: SyncSide, key: string): Promise<HeadObjectCommandOutput> {
  return side.client.send(new HeadObjectCommand({ Bucket: side.bucket, Key: joinKey(side.prefix, key) }));
}

/**
 * Whether the destination's object must be replaced by the source's. Never compares a multipart
 * ETag with an MD5: objects carrying tablevault's SHA-256 (in metadata) are compared by it; else
 * by ETag when both are single-part uploads (the ETag is then the bytes' MD5); else by size alone,
 * and the decision says so. Equal single-part ETags settle it without a request.
 */
export async function decide(
  src: ListedObject,
  dst: ListedObject | undefined,
  mode: CompareMode,
  sides: { src: SyncSide; dst: SyncSide },
): Promise<Decision> {
  if (!dst) return { copy: true, basis: 'missing', requests: 0 };
  if (src.size !== dst.size) return { copy: true, basis: 'size', requests: 0 };
  if (mode === 'size') return { copy: false, basis: 'size', requests: 0 };
  const singlePart = src.etag !== '' && dst.etag !== '' && !isMultipartEtag(src.etag) && !isMultipartEtag(dst.etag);
  if (singlePart && src.etag === dst.etag) return { copy: false, basis: 'etag', requests: 0 };
  const [s, d] = await Promise.all([head(sides.src, src.key), head(sides.dst, dst.key)]);
  const ss = s.Metadata?.[SHA256_META];
  const ds = d.Metadata?.[SHA256_META];
  if (ss && ds) return { copy: ss !== ds, basis: 'checksum', requests: 2 };
  // single-part ETags that differ: with SSE-KMS the ETag is no MD5, so only a differing MD5 of unencrypted objects proves a change
  if (singlePart && !s.ServerSideEncryption?.includes('kms') && !d.ServerSideEncryption?.includes('kms'))
    return { copy: true, basis: 'etag', requests: 2 };
  return {
    copy: false,
    basis: 'size',
    note: ss || ds ? 'only one side carries a SHA-256' : 'multipart ETag and no SHA-256',
    requests: 2,
  };
}
