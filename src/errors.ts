/**
 * Every code a TablevaultError carries: a closed set, so a caller can switch on it and a typo
 * fails to compile. Input codes (exit 2) first, then runtime codes (exit 1).
 */
export type ErrorCode =
  // bad input or configuration: exit code 2
  /** A flag or library option is out of range or not one of its values. */
  | 'OPTION'
  /** The strategy file cannot be read, is not valid, or disagrees with the database. */
  | 'STRATEGY'
  /** `--only` names a table the strategy file does not list. */
  | 'ONLY'
  /** `--reset-table` names a table the strategy file does not list, or a full one (nothing to reset). */
  | 'RESET_TABLE'
  /** `--confirm-deletes` names a table that is not in the run or does not detect deletes. */
  | 'CONFIRM_DELETES'
  /** `--join` has no run key (none given, no Indexed Job, no TABLEVAULT_RUN_KEY), or not a valid one. */
  | 'JOIN_KEY'
  /** `--lease` is shorter than a heartbeat can keep alive. */
  | 'LEASE'
  /** `--source`/`--target` is not a URL, or not postgres:// or mysql://. */
  | 'SOURCE_URL'
  /** The database cannot be reached at the host and port given. */
  | 'SOURCE_UNREACHABLE'
  /** The database rejected the user or password. */
  | 'SOURCE_AUTH'
  /** The database named in the URL does not exist. */
  | 'SOURCE_DATABASE'
  /** `status`/`migrate` were given neither a strategy file nor `--state`. */
  | 'STATE_URL'
  /** The table does not exist in the database. */
  | 'TABLE_NOT_FOUND'
  /** `--table` is not `table` or `schema.table` (export). */
  | 'TABLE_NAME'
  /** `--table` is not `table` or `schema.table` (restore, verify). */
  | 'TABLE'
  /** The table (or its backup) has no primary key, and the operation compares or applies rows by key. */
  | 'NO_KEY'
  /** The restore target lacks columns the backup has. */
  | 'COLUMNS'
  /** Verify: the backup's columns are missing from the source or have another type now. */
  | 'SCHEMA'
  /** An incremental table has rows whose cursor is NULL and `null_cursor` is `fail`. */
  | 'NULL_CURSOR'
  /** A whole-backup restore found no table backups under the prefix, or none its patterns match. */
  | 'NO_TABLES'
  /** `--as-of` names no backup run of this table. */
  | 'AS_OF'
  /** The destination is not a valid s3:// or file:// URL, or a key escapes it. */
  | 'DEST_URL'
  /** The local (file://) destination is not a directory. */
  | 'DEST_DIR'
  /** No manifest at the backup location: nothing was backed up there, or the export did not finish. */
  | 'NO_MANIFEST'
  /** The manifest's format is not one this version reads. */
  | 'MANIFEST_FORMAT'
  /** A backup names an engine this version does not know. */
  | 'BACKUP_FORMAT'
  /** An object (a manifest or one it names) does not exist at the backup location. */
  | 'NOT_FOUND'
  /** `serve --listen`: the address cannot be listened on. */
  | 'LISTEN'
  /** Sync: the source and destination are the same location. */
  | 'SYNC_SAME'
  /** Sync: one location lies inside the other. */
  | 'SYNC_OVERLAP'
  /** The S3 bucket does not exist. */
  | 'S3_NO_BUCKET'
  /** S3 rejected the credentials. */
  | 'S3_CREDENTIALS'
  /** S3 denied access to the bucket. */
  | 'S3_ACCESS_DENIED'
  /** No AWS credentials were found. */
  | 'S3_NO_CREDENTIALS'
  /** No AWS region is set. */
  | 'S3_NO_REGION'
  /** The S3 endpoint cannot be reached. */
  | 'S3_UNREACHABLE'
  // failures while running: exit code 1
  /** Stopped by SIGTERM/SIGINT; what was committed stands. */
  | 'STOPPED'
  /** A run found more of a table's backed-up rows deleted than max_delete_fraction allows: it recorded none. */
  | 'DELETE_GUARD'
  /** Deleted keys could not be recorded: a key column is missing from, or typed differently in, the objects. */
  | 'DELETES_COLUMN'
  /** Connecting to the database failed for another reason than address, login or database name. */
  | 'SOURCE_CONNECT'
  /** The run's shared snapshot ended before its reads did (its coordinating connection closed). */
  | 'SOURCE_SNAPSHOT'
  /** An incremental table's columns changed in a way its strategy (`on_schema_change`) or its objects cannot follow. */
  | 'SCHEMA_CHANGED'
  /** An object of the backup lacks a column its schema version lists. */
  | 'BACKUP_COLUMN'
  /** A backup's value the restore target cannot store, in a NOT NULL column. */
  | 'UNREPRESENTABLE'
  /** The state store's migrations failed. */
  | 'STATE_MIGRATE'
  /** Loading a batch into the restore target failed. */
  | 'RESTORE_FAILED'
  /** Verify: a column is missing from a batch of the backup. */
  | 'VERIFY_COLUMN'
  /** An S3 request failed. */
  | 'S3_FAILED'
  /** An uploaded object's stored length is not what was sent (it was removed). */
  | 'S3_INCOMPLETE'
  /** Deleting objects failed. */
  | 'S3_DELETE'
  /** The server listed keys out of order. */
  | 'S3_LIST_ORDER'
  /** Sync: a streamed copy read fewer or more bytes than the object has. */
  | 'SYNC_SHORT_READ'
  /** Sync: the source object changed while it was copied. */
  | 'SYNC_SOURCE_CHANGED'
  /** Sync: the source object's bytes do not match its stored SHA-256. */
  | 'SYNC_SOURCE_CORRUPT';

/**
 * Every error tablevault raises on purpose. `exitCode` 2 means the user's input or
 * configuration is wrong (fix it and rerun); 1 means the run failed at runtime.
 * The message always says what to do; the CLI prints it without a stack.
 */
export class TablevaultError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: 1 | 2;
  constructor(code: ErrorCode, message: string, opts: { exitCode?: 1 | 2; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'TablevaultError';
    this.code = code;
    this.exitCode = opts.exitCode ?? 2;
  }
}

/** Bad input or configuration: exit code 2. */
export function inputError(code: ErrorCode, message: string, cause?: unknown): TablevaultError {
  return new TablevaultError(code, message, { exitCode: 2, cause });
}

/** A failure while running (network, server, disk): exit code 1. */
export function runtimeError(code: ErrorCode, message: string, cause?: unknown): TablevaultError {
  return new TablevaultError(code, message, { exitCode: 1, cause });
}

export function isTablevaultError(e: unknown): e is TablevaultError {
  return e instanceof TablevaultError;
}

export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
