/**
 * Defaults and limits the CLI shows in its help: here, free of imports, so that defining the
 * commands loads no driver, SDK or Arrow; each command loads what it runs when it runs.
 */
export const MiB = 1024 * 1024;

/** Uploads: objects up to the threshold in one PutObject, larger ones in parts. */
export const DEFAULT_UPLOADER_OPTIONS = { multipartThreshold: 16 * MiB, partSize: 16 * MiB, partConcurrency: 4 };

export const EXPORT_DEFAULTS = { compression: 'zstd' as 'zstd' | 'snappy' | 'gzip' | 'none', integerEncoding: 'delta' as 'delta' | 'plain', batchRows: 20_000, fileMaxRows: 1_000_000, rowGroupRows: 100_000, uploadConcurrency: 2 };

/** 8 MiB parts (as `aws s3`): streamed copies then hold at most 16 × 8 MiB = 128 MiB of object bytes. */
export const SYNC_DEFAULTS = { concurrency: 16, partSize: 8 * MiB, multipartThreshold: 8 * MiB, partConcurrency: 4, compare: 'checksum' as 'size' | 'checksum' };

/** CopyObject copies at most 5 GiB in one request; above that, UploadPartCopy. */
export const MAX_COPY_OBJECT_BYTES = 5 * 1024 ** 3;

/** Each table in flight holds a lock connection and a read connection; the pools are sized for this. */
export const MAX_PARALLEL = 4;
