import type { UploadParams, UploadResult } from '../s3/uploader.js';

/**
 * Where exported objects go. Every store makes an object appear whole or not at all: S3 by
 * PutObject / a completed multipart upload, a local directory by writing a temporary file and
 * renaming it into place.
 */
export interface ObjectStore {
  /** e.g. `s3://bucket` or `file:///var/backups`, for messages. */
  readonly label: string;
  /** Fails with an input error (exit 2) when the destination does not exist or cannot be reached. */
  check(): Promise<void>;
  put(p: UploadParams): Promise<UploadResult>;
  /** Deletes keys; missing keys are not an error. */
  delete(keys: string[]): Promise<void>;
  /** An object's bytes; fails with an input error (exit 2) when it does not exist. */
  get(key: string): Promise<Uint8Array>;
  /** Keys under a prefix, in no particular order. */
  list(prefix: string): AsyncGenerator<string>;
  /** The same keys with each object's size in bytes. */
  listSizes(prefix: string): AsyncGenerator<{ key: string; size: number }>;
  /**
   * Removes what writers killed mid-object left under `prefix`, which no key lists (a local
   * directory's temporary files), and says how many. Only once every put under `prefix` has ended.
   * S3 has none: an unfinished multipart upload is never an object, and the bucket's lifecycle
   * rule aborts it.
   */
  removeAbandoned?(prefix: string): Promise<number>;
  close(): void;
}
