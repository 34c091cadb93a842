import { HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { joinKey } from '../s3/location.js';
import type { ListedObject } from '../s3/list.js';

export interface SyncSide {
  client: S3Client;
  bucket: string;
  /** Without trailing slash; may be empty. */
  prefix: string;
  endpoint?: string;
  /** The flag or argument that named this side, for error messages. */
  flag: string;
}

export interface CopyOptions {
  /** Part size of multipart copies, raised so that no object needs more than 10,000 parts. */
  partSize: number;
  /** A streamed object up to this size is one GET and one PUT; larger ones are ranged GETs into a multipart upload. */
  multipartThreshold: number;
  /** Parts of one object copied at once. */
  partConcurrency: number;
  /** Objects up to this size are one CopyObject; larger ones UploadPartCopy (S3's limit: 5 GiB). */
  maxCopyObjectBytes: number;
  sse?: 'AES256' | 'aws:kms';
  sseKmsKeyId?: string;
  storageClass?: string;
}

/** What every copy path works with: both sides and the options; the Copier hands it to each. */
export interface CopyRoute {
  src: SyncSide;
  dst: SyncSide;
  opts: CopyOptions;
}

/** The requests one object's copy made, counted for the summary. */
export interface RequestCount {
  requests: number;
}

export function srcKey(r: CopyRoute, o: ListedObject): string {
  return joinKey(r.src.prefix, o.key);
}

export function dstKey(r: CopyRoute, o: ListedObject): string {
  return joinKey(r.dst.prefix, o.key);
}

/** The headers that describe an object, carried from source to destination on every copy path. */
export type Described = Pick<
  HeadObjectCommandOutput,
  'ContentType' | 'Metadata' | 'CacheControl' | 'ContentDisposition' | 'ContentEncoding' | 'ContentLanguage'
>;

export function described(h: Described): Described {
  return {
    ContentType: h.ContentType,
    Metadata: h.Metadata,
    CacheControl: h.CacheControl,
    ContentDisposition: h.ContentDisposition,
    ContentEncoding: h.ContentEncoding,
    ContentLanguage: h.ContentLanguage,
  };
}

/** `bucket/key` for CopySource, the key URL-encoded except for its slashes. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
}

export async function headSource(r: CopyRoute, o: ListedObject, c: RequestCount): Promise<HeadObjectCommandOutput> {
  c.requests++;
  return r.src.client.send(
    new HeadObjectCommand({ Bucket: r.src.bucket, Key: srcKey(r, o), IfMatch: o.etag || undefined }),
  );
}
