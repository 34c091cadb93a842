import type { Side } from '../checksum/canon.js';

/** The source's side of a verify (each engine folder's `checksum.ts`, by `engine.openChecksums`): per-bucket counts and checksums, then the keys (and row digests) of some buckets. */
export interface SourceChecksums {
  buckets(): Promise<Side>;
  keys(buckets: Set<number>): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export interface ChecksumOptions {
  /** Key ranges the rows are spread over (checksum/canon.ts BUCKETS). */
  buckets: number;
  /** Rows per batch when values are streamed to be hashed here (MySQL's floats). */
  batchRows: number;
}
