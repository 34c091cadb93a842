import { errorMessage } from '../errors.js';
import type { Basis } from './compare.js';
import type { CopyMethod } from './copy.js';

export interface SyncSummary {
  source: string;
  dest: string;
  dryRun: boolean;
  listed: { source: number; dest: number };
  /** Objects found missing or different (copied, or in a dry run to be copied). */
  toCopy: number;
  copied: { serverSide: number; streamed: number };
  skipped: number;
  deleted: number;
  failed: number;
  /** Bytes copied (or, in a dry run, that would be). */
  bytes: number;
  /** How skip/copy decisions on objects present on both sides were made: by SHA-256, single-part ETag, or size alone. */
  compared: { checksum: number; etag: number; size: number };
  /** Objects kept on equal size alone under `--compare checksum`: no checksum both sides could compare. */
  keptBySizeOnly: number;
  /** The first 100 of them, with the reason. */
  comparedBySizeOnly: Array<{ key: string; note: string }>;
  /** Incomplete multipart uploads under the destination prefix, left by an earlier killed run, aborted. */
  abortedUploads: number;
  /** Requests: listing, deciding (HeadObject), copying, deleting. */
  requests: { list: number; compare: number; copy: number; delete: number };
  requestsPerCopiedObject: number;
  objectsPerSecond: number;
  megabytesPerSecond: number;
  durationMs: number;
  peakRssBytes: number;
  /** Why copies fell back from server-side to streamed, when they did. */
  fallback?: string;
  failures: Array<{ key: string; error: string }>;
}

/** Objects named per list in the summary (failures, objects kept by size alone). */
const MAX_LISTED = 100;

export type RequestKind = keyof SyncSummary['requests'];

/**
 * What a sync did, counted as it goes: each stage reports an event here (a listed pair, a
 * decision, a copy, a failure) and the summary is assembled from it once, at the end.
 */
export class SyncTally {
  private readonly listed = { source: 0, dest: 0 };
  private readonly copied = { serverSide: 0, streamed: 0 };
  private readonly compared = { checksum: 0, etag: 0, size: 0 };
  private readonly requests = { list: 0, compare: 0, copy: 0, delete: 0 };
  private readonly bySizeOnly: Array<{ key: string; note: string }> = [];
  private readonly failures: Array<{ key: string; error: string }> = [];
  private toCopy = 0;
  private skipped = 0;
  private keptBySizeOnly = 0;
  private deletedCount = 0;
  private failedCount = 0;
  private bytes = 0;
  abortedUploads = 0;

  /** A key of the merged listings: on the source side, the destination side, or both. */
  listedPair(onSource: boolean, onDest: boolean): void {
    if (onSource) this.listed.source++;
    if (onDest) this.listed.dest++;
  }

  request(kind: RequestKind, n = 1): void {
    this.requests[kind] += n;
  }

  /** A decision on an object present on both sides, by what it compared. */
  comparedBy(basis: Basis): void {
    if (basis === 'checksum') this.compared.checksum++;
    else if (basis === 'etag') this.compared.etag++;
    else this.compared.size++;
  }

  /** An object left as it is; `note` when only the sizes could be compared. */
  skip(key: string, note?: string): void {
    this.skipped++;
    if (!note) return;
    this.keptBySizeOnly++;
    if (this.bySizeOnly.length < MAX_LISTED) this.bySizeOnly.push({ key, note });
  }

  /** An object found missing or different. */
  planCopy(): void {
    this.toCopy++;
  }

  /** An object copied (`method`), or in a dry run one that would be (no method). */
  copy(bytes: number, method?: CopyMethod): void {
    if (method === 'server-side') this.copied.serverSide++;
    else if (method === 'streamed') this.copied.streamed++;
    this.bytes += bytes;
  }

  deleted(n: number): void {
    this.deletedCount += n;
  }

  fail(key: string, e: unknown): void {
    this.failedCount++;
    if (this.failures.length < MAX_LISTED) this.failures.push({ key, error: errorMessage(e) });
  }

  get failed(): number {
    return this.failedCount;
  }

  /** The counts the final log line names. */
  totals(): { copied: number; skipped: number; deleted: number; failed: number; bytes: number } {
    return {
      copied: this.copied.serverSide + this.copied.streamed,
      skipped: this.skipped,
      deleted: this.deletedCount,
      failed: this.failedCount,
      bytes: this.bytes,
    };
  }

  summary(run: {
    source: string;
    dest: string;
    dryRun: boolean;
    durationMs: number;
    peakRssBytes: number;
    fallback?: string;
  }): SyncSummary {
    const copied = this.copied.serverSide + this.copied.streamed;
    const secs = Math.max(run.durationMs, 1) / 1000;
    return {
      source: run.source,
      dest: run.dest,
      dryRun: run.dryRun,
      listed: { ...this.listed },
      toCopy: this.toCopy,
      copied: { ...this.copied },
      skipped: this.skipped,
      deleted: this.deletedCount,
      failed: this.failedCount,
      bytes: this.bytes,
      compared: { ...this.compared },
      keptBySizeOnly: this.keptBySizeOnly,
      comparedBySizeOnly: [...this.bySizeOnly],
      abortedUploads: this.abortedUploads,
      requests: { ...this.requests },
      requestsPerCopiedObject: copied ? Math.round((this.requests.copy / copied) * 100) / 100 : 0,
      objectsPerSecond: Math.round((copied / secs) * 10) / 10,
      megabytesPerSecond: Math.round((this.bytes / 1e6 / secs) * 10) / 10,
      durationMs: run.durationMs,
      peakRssBytes: run.peakRssBytes,
      failures: [...this.failures],
      fallback: run.fallback,
    };
  }
}
