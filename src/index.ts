/**
 * The library API: what the CLI uses is what a program can use. Each entry point's JSDoc has a
 * short example: runBackup, backupStatus, sharedRunStatus, serve, exportTable, restoreTable, verify, syncPrefixes,
 * openState (migrations).
 */
export {
  runBackup,
  type BackupOptions,
  type BackupSummary,
  type TableResult,
  type TableStatus,
  type MirrorResult,
} from './backup/run.js';
export { backupStatus, type StatusRow } from './backup/status.js';
export { sharedRunStatus } from './backup/shared-runs.js';
export type { PlanStatus, HeldTask, FailedTask } from './state/repository.js';
export { serve, type ServeOptions } from './serve/serve.js';
export { openState, type StateRepository } from './state/repository.js';
export { stateUrl } from './state/url.js';
export { loadStrategy, type Strategy } from './config/strategy.js';
export {
  exportTable,
  EXPORT_DEFAULTS,
  type ExportOptions,
  type ExportSummary,
  type ExportedFile,
} from './backup/export.js';
export { decodeTableSegment, encodeTableSegment, MANIFEST_NAME } from './manifest/layout.js';
export { parseManifest, readManifest } from './manifest/read.js';
export type {
  Manifest,
  ExportManifest,
  IncrementalManifest,
  ObjectEntry,
  IncrementalObjectEntry,
  SchemaVersionEntry,
  GenerationEntry,
} from './manifest/types.js';
export { TablevaultError, isTablevaultError, type ErrorCode } from './errors.js';
export { DEFAULTS, LIMITS, CHOICES } from './defaults.js';
export { createLogger, type Logger } from './log.js';
export { createS3Client, type S3Options } from './s3/client.js';
export { Uploader, DEFAULT_UPLOADER_OPTIONS, type UploaderOptions, type UploadResult } from './s3/uploader.js';
export { openSource } from './source/open.js';
export type { Source, ReadOptions, RunSnapshot, Chunk, SourceOptions } from './source/source.js';
export type { ColumnSpec, ColumnKind, SourceTable, TableRef } from './source/columns.js';
export { COMPRESSIONS, encodeParquet, type CompressionName, type ParquetOptions } from './parquet/encode.js';
export {
  syncPrefixes,
  SYNC_DEFAULTS,
  type SyncOptions,
  type SyncSummary,
  type SyncAction,
  type CopyMode,
} from './sync/sync.js';
export type { CompareMode } from './sync/compare.js';
export { restoreTable, type RestoreOptions, type RestoreSummary, type RestoreMode } from './restore/restore.js';
export {
  runCompact,
  type CompactOptions,
  type CompactSummary,
  type CompactTableResult,
} from './lifecycle/compact-run.js';
export { verify, verifyTable, type VerifySummary, type VerifyTableResult } from './verify/verify.js';
