import { inputError } from '../errors.js';

export interface S3Location {
  bucket: string;
  /** Key prefix without leading or trailing slash; may be empty. */
  prefix: string;
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** `s3://bucket/some/prefix` → { bucket, prefix }. */
export function parseS3Url(url: string, flag = '--dest'): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url.trim());
  if (!m) throw inputError('DEST_URL', `${flag} "${url}" is not an S3 URL; use s3://bucket/prefix`);
  const bucket = m[1]!;
  if (!BUCKET.test(bucket))
    throw inputError(
      'DEST_URL',
      `${flag}: "${bucket}" is not a valid bucket name (3-63 lowercase letters, digits, dots and hyphens)`,
    );
  const prefix = m[2]!.replace(/\/+$/, '').replace(/^\/+/, '');
  return { bucket, prefix };
}

export function joinKey(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('/');
}
