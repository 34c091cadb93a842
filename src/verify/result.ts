/** One table's comparison with its backup, as `verify` reports it. */
export interface VerifyTableResult {
  table: string;
  backup: string;
  equal: boolean;
  sourceRows: number;
  backupRows: number;
  /** Key ranges (hash buckets) whose count or checksum differed. */
  rangesDiffering: number;
  /** Keys in the source that the backup lacks. */
  missingFromBackup: { count: number; keys: string[] };
  /** Keys the backup has and the source no longer does: rows deleted in the source (an incremental backup keeps them). */
  notInSource: { count: number; keys: string[] };
  /** Keys whose values differ. */
  changed: { count: number; keys: string[] };
  error?: string;
  /** Not compared, and why (a table without a primary key among several: verify compares rows by key). */
  skipped?: string;
  durationMs: number;
}

export interface VerifySummary {
  tables: VerifyTableResult[];
  /** Every table compared was equal (skipped ones are listed, not counted). */
  equal: boolean;
  peakRssBytes: number;
}
