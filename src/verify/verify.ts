import { errorMessage, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { PeakMemory } from '../memory/peak.js';
import { redactUrl } from '../redact.js';
import type { ProgressSink } from '../progress.js';
import { verifyJobs, type VerifyTargets } from './jobs.js';
import type { VerifySummary, VerifyTableResult } from './result.js';
import { verifyTable } from './verify-table.js';

export { verifyTable };
export type { VerifySummary, VerifyTableResult };

/**
 * `verify --source … --table … --dest …`, or every table (or --only some) of a strategy file.
 *
 * @example
 * ```ts
 * import { verify } from 'tablevault';
 *
 * const v = await verify({ strategy: 'strategies/nightly-incremental.yaml' });
 * if (!v.equal) for (const t of v.tables) console.log(t.table, t.missingFromBackup, t.notInSource, t.changed);
 * ```
 */
export async function verify(
  opts: VerifyTargets & { progress?: ProgressSink },
  deps: { logger?: Logger } = {},
): Promise<VerifySummary> {
  const log = deps.logger ?? silentLogger();
  const peak = new PeakMemory().start();
  const jobs = await verifyJobs(opts);
  const tables: VerifyTableResult[] = [];
  for (const j of jobs) {
    try {
      tables.push(await verifyTable({ ...j, progress: opts.progress }, log));
    } catch (e) {
      // one table of many that cannot be compared by key is listed as not compared; alone, it is bad input
      const noKey = isTablevaultError(e) && e.code === 'NO_KEY' && jobs.length > 1;
      if ((e as { exitCode?: number }).exitCode === 2 && !noKey) throw e;
      tables.push({
        table: j.table,
        backup: j.backup,
        equal: noKey,
        ...(noKey ? { skipped: errorMessage(e) } : {}),
        sourceRows: 0,
        backupRows: 0,
        rangesDiffering: 0,
        missingFromBackup: { count: 0, keys: [] },
        notInSource: { count: 0, keys: [] },
        changed: { count: 0, keys: [] },
        ...(noKey ? {} : { error: errorMessage(e) }),
        durationMs: 0,
      });
      if (!noKey) log.error({ table: j.table, source: redactUrl(j.source), err: errorMessage(e) }, 'verify failed');
    }
  }
  peak.stop();
  return { tables, equal: tables.every((t) => t.equal), peakRssBytes: peak.rss };
}
