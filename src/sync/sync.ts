import { silentLogger, type Logger } from '../log.js';
import { PeakMemory } from '../memory/peak.js';
import type { ProgressSink } from '../progress.js';
import { SYNC_DEFAULTS } from '../defaults.js';
import { abortStaleUploads, checkBucket } from './buckets.js';
import { SyncExecutor, type SyncAction } from './execute.js';
import { listedPairs } from './listing.js';
import { openSides, planCopier, planSync, type CopyMode, type SyncPlanOptions } from './plan.js';
import { SyncTally, type SyncSummary } from './summary.js';

export { SYNC_DEFAULTS };
export { checkLocation } from './buckets.js';
export { isManifest, keyFilter } from './listing.js';
export type { CopyMode, SyncAction, SyncSummary };

export interface SyncOptions extends SyncPlanOptions {
  /** Remove destination objects the source no longer has (only those the include/exclude globs select). */
  delete?: boolean;
  dryRun?: boolean;
  /** Each planned action, as it is decided (for `--dry-run` output). */
  onAction?: (a: SyncAction) => void;
  /** Stop starting new copies (a signal); what is in flight finishes or is aborted cleanly. */
  signal?: AbortSignal;
  /** Objects copied or skipped and bytes, as they go (the CLI's progress line). */
  progress?: ProgressSink;
}

export interface SyncDeps {
  logger?: Logger;
  testHooks?: { onPart?: () => void };
}

/**
 * Mirrors one S3 prefix onto another: lists both as sorted streams, copies what is missing or
 * different (see compare.ts), optionally deletes what the source lacks, with `concurrency` objects
 * in flight. Per-object failures are counted and reported, the rest goes on; bad input (missing
 * bucket, no permission, overlapping locations) stops the run with exit code 2 before anything is
 * written, or as soon as it shows.
 *
 * The stages, each in its own file: plan.ts checks the options and chooses how to copy,
 * listing.ts pairs the two listings, execute.ts decides and copies, summary.ts counts.
 *
 * @example
 * ```ts
 * import { syncPrefixes } from 'tablevault';
 *
 * const s = await syncPrefixes({
 *   source: 's3://backups/nightly',
 *   dest: 's3://backups-archive/nightly',
 *   storageClass: 'GLACIER_IR',
 * });
 * console.log(s.copied, s.skipped, s.failed);
 * ```
 */
export async function syncPrefixes(opts: SyncOptions, deps: SyncDeps = {}): Promise<SyncSummary> {
  const log = deps.logger ?? silentLogger();
  const started = Date.now();
  const plan = planSync(opts);
  const sides = openSides(plan, opts);
  const { src, dst } = sides;
  const peak = new PeakMemory().start();
  const tally = new SyncTally();
  let fallback: string | undefined;
  try {
    // the checks, the stale uploads' listing and both listings' first pages go out together (one
    // round trip instead of four before the first copy); nothing is written before the checks pass
    const checked = Promise.all([checkBucket(src), checkBucket(dst)]);
    const aborting = opts.dryRun ? Promise.resolve(0) : abortStaleUploads(dst, log, checked);
    const copier = planCopier(plan, opts, sides, deps.testHooks?.onPart);
    const work = new SyncExecutor(
      src,
      dst,
      copier,
      {
        concurrency: plan.concurrency,
        compareMode: plan.compareMode,
        dryRun: opts.dryRun,
        onAction: opts.onAction,
        progress: opts.progress,
      },
      tally,
      log,
    );
    const stop = () => work.stopped || !!opts.signal?.aborted;
    const pairs = listedPairs(src, dst, plan.accept, tally, stop);
    const first = pairs.next();
    first.catch(() => {}); // the checks' error, if any, is the one to report
    aborting.catch(() => {});
    await checked;
    tally.abortedUploads = await aborting;
    try {
      for (let r = await first; !r.done; r = await pairs.next()) {
        const { key, src: so, dst: d } = r.value;
        if (so) await work.sync(key, so, d);
        else if (opts.delete) await work.delete(key, d!.size);
      }
    } finally {
      await pairs.return(undefined);
    }
    await work.finish();
    fallback = copier.fallbackReason;
  } finally {
    sides.close();
  }
  peak.stop();
  const summary = tally.summary({
    source: opts.source,
    dest: opts.dest,
    dryRun: !!opts.dryRun,
    durationMs: Date.now() - started,
    peakRssBytes: peak.rss,
    fallback,
  });
  if (summary.fallback) log.warn({ reason: summary.fallback }, 'server-side copy not available; objects were streamed');
  log.info(tally.totals(), 'sync finished');
  return summary;
}
