/**
 * Every default and limit of tablevault, in one object that the CLI's help, the strategy loader
 * and the library all read: here, free of imports, so that defining the commands loads no driver,
 * SDK or Arrow; each command loads what it runs when it runs.
 */
export const MiB = 1024 * 1024;

/** The Parquet codecs tablevault writes (see parquet/compression.ts). */
export type CompressionDefault = 'zstd' | 'lz4_raw' | 'snappy' | 'gzip' | 'none';
export type IntegerEncodingDefault = 'delta' | 'plain';

export const DEFAULTS = {
  /** `export`, and each table of a strategy file (`defaults:` and the table's own keys override these). */
  export: {
    compression: 'zstd' as CompressionDefault,
    integerEncoding: 'delta' as IntegerEncodingDefault,
    batchRows: 20_000,
    fileMaxRows: 1_000_000,
    rowGroupRows: 100_000,
    uploadConcurrency: 2,
    /** A table above this many rows is read in chunks at once, when more than one read may run. */
    chunkRows: 2_000_000,
  },
  /** Uploads: objects up to the threshold in one PutObject, larger ones in parts. */
  upload: { multipartThreshold: 16 * MiB, partSize: 16 * MiB, partConcurrency: 4 },
  /**
   * 8 MiB parts (as `aws s3`). Streamed copies hold at most `bufferBytes` of object bytes in all: a
   * small object whole, a part's bytes only as they pass from one socket to the other.
   */
  sync: {
    concurrency: 16,
    bufferBytes: 32 * MiB,
    partSize: 8 * MiB,
    multipartThreshold: 8 * MiB,
    partConcurrency: 4,
    compare: 'checksum' as 'size' | 'checksum',
    copyMode: 'auto' as 'auto' | 'server-side' | 'streamed',
  },
  /**
   * The memory manager: check every 10 batches, drain above 384 MiB (about twice one table's
   * ~175-190 MB working set on Node 24, so two or three tables at once still fit), never force a GC.
   */
  memory: { checkEvery: 10, limitBytes: 384 * MiB, gcEvery: 0 },
  /**
   * `restore`: rows per batch and per transaction; a table loaded in one transaction (`--create`
   * into PostgreSQL) is decoded at most `streamBatchRows` at a time instead, since its batches make
   * one COPY: smaller batches keep WebAssembly memory (sized by the largest batch) and the server's
   * waits while the next batch decodes short (bench --restore: peak RSS ~200 -> ~175 MB).
   */
  restore: {
    batchRows: 50_000,
    streamBatchRows: 10_000,
    mode: 'insert' as 'insert' | 'upsert' | 'replace',
    /**
     * A new table of more rows than this (a full export, into PostgreSQL) is committed object by
     * object instead of in one transaction, and a failed restore resumes after the last committed
     * object (restore/ways.ts). Measured on the 1M-row bench table (10 objects, PostgreSQL 15,
     * wal_level replica, two runs each way): one transaction and ten wrote the same WAL (148 and
     * 147 MB), held the same locks (at most 18 and 15, per relation, not per row) and the
     * backend's peak RSS (VmHWM) was no higher (42-56 against 175-185 MB); what grows with the table is
     * the transaction's length (7-8 s per 1M rows on this loaded machine, 1.9 s quiet), for which
     * the cluster's vacuum horizon is held back and which a failure throws away. 10M rows keeps
     * that near autovacuum's default naptime (1 min) even at that load's speed.
     */
    oneTransactionRows: 10_000_000,
    /**
     * A full export of several objects and at least this many rows, created (or, into MySQL,
     * replaced), has its objects loaded over several connections at once when the restore has more
     * than one (`--jobs`; restore/split.ts). `npm run bench -- --restore`, the bench table in 10
     * objects, --jobs 2 against 1 (2 shared cores, medians of 3, three sittings): 300k rows 1.11x
     * the wall into PostgreSQL (no COPY FREEZE, a commit per object) and 0.86x into MariaDB; 1M
     * rows 0.90-1.01x and 0.76-1.00x. From 1M the split no longer loses on either; a default
     * export's 1M rows an object makes a larger table several objects.
     */
    splitRows: 1_000_000,
    /** `--jobs` at most. */
    maxJobs: 16,
  },
  verify: { batchRows: 20_000 },
  /**
   * Deletion detection (lifecycle/deletes.ts): a run finding more than maxFraction of a table's
   * backed-up rows deleted records none until confirmed; keysPerPass bounds the keys held at once.
   */
  deletes: { maxFraction: 0.5, keysPerPass: 1_000_000 },
  /**
   * `backup` and `serve`: reads at once (tables, or chunks of a large table), and connections to
   * the source at most (`max_source_connections`): the run's snapshot takes one, reads the rest.
   */
  backup: { parallel: 1, maxSourceConnections: 4 },
  /** `serve`: where /healthz and /metrics are served. */
  serve: { listen: '127.0.0.1:9464' },
  /**
   * Attempts per S3 request (adaptive retry mode); a request whose connection is silent for
   * idleTimeoutMs fails and is retried (TABLEVAULT_S3_IDLE_TIMEOUT_MS overrides it).
   */
  s3: { maxAttempts: 5, idleTimeoutMs: 120_000 },
  /** Compaction (lifecycle/compact.ts): keys held at once; a table with more row versions is compacted in passes. */
  compact: { keysPerPass: 1_000_000 },
};

export const LIMITS = {
  /** Each table in flight holds a lock connection and a read connection; the pools are sized for this. */
  maxParallel: 4,
  /** S3 refuses parts below 5 MiB (except the last). */
  minPartSize: 5 * MiB,
  /** CopyObject copies at most 5 GiB in one request; above that, UploadPartCopy. */
  maxCopyObjectBytes: 5 * 1024 ** 3,
  /** Below this the memory manager would throttle every batch. */
  minMemoryLimit: 64 * MiB,
};

/** The values an enumerated option takes, for the CLI's `.choices()` and the library's checks alike. */
export const CHOICES = {
  sse: ['AES256', 'aws:kms'] as const,
  compare: ['size', 'checksum'] as const,
  copyMode: ['auto', 'server-side', 'streamed'] as const,
  restoreMode: ['insert', 'upsert', 'replace'] as const,
};

/** The sections of DEFAULTS under the names the library exported before there was one object. */
export const DEFAULT_UPLOADER_OPTIONS = DEFAULTS.upload;
export const EXPORT_DEFAULTS = DEFAULTS.export;
export const SYNC_DEFAULTS = DEFAULTS.sync;
export const MAX_COPY_OBJECT_BYTES = LIMITS.maxCopyObjectBytes;
export const MAX_PARALLEL = LIMITS.maxParallel;
