import type { Strategy } from '../config/strategy.js';
import type { S3Options } from '../s3/client.js';
import { DEFAULT_UPLOADER_OPTIONS, validateUploaderOptions, type UploaderOptions } from '../s3/uploader.js';

/** The strategy's `s3:` settings, for the destination's client. */
export function s3Options(s: Strategy): S3Options {
  return { endpoint: s.s3.endpoint, region: s.s3.region, maxAttempts: s.s3.max_attempts };
}

/** The strategy's `s3:` settings, for the destination's uploads. */
export function uploaderOptions(s: Strategy): UploaderOptions {
  return validateUploaderOptions({
    ...DEFAULT_UPLOADER_OPTIONS,
    sse: s.s3.sse,
    sseKmsKeyId: s.s3.sse_kms_key_id,
    storageClass: s.s3.storage_class,
  });
}
