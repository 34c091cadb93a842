import { abortableSource } from '../abort.js';
import { DEFAULTS, MAX_PARALLEL } from '../defaults.js';
import { wholeNumber } from '../config/validate.js';
import { observedSource, type ProgressSink } from '../progress.js';
import { DEFAULT_MEMORY_OPTIONS, validateMemoryOptions, type MemoryOptions } from '../memory/manager.js';
import { PeakMemory } from '../memory/peak.js';
import { ParquetEncoder } from '../parquet/encode.js';
import { planIncremental, type TablePlan } from './incremental-plan.js';
import { loadStrategy } from '../config/strategy.js';
import { selectTables } from '../config/select.js';
import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { parseTableRef } from '../source/columns.js';
import { encodeTableSegment } from '../manifest/layout.js';
import { checkLocation } from '../sync/sync.js';
import { openSource } from '../source/open.js';
import { openState } from '../state/repository.js';
import { stateUrl } from '../state/url.js';
import { openDestination } from '../store/open.js';
import { s3Options, uploaderOptions } from './destination-options.js';
import { mirrorTable } from './mirror.js';
import { backupTable } from './table-run.js';

export interface BackupOptions {
  /** Path of the strategy file. */
  strategy: string;
  /** Back up only these tables (as named in the file). */
  only?: string[];
  /** Check everything and print the plan; read and write nothing. */
  dryRun?: boolean;
  /** State store URL; overrides `state:` in the file; default: the source database. */
  state?: string;
  /** Tables backed up at once. Default 1. */
  parallel?: number;
  /** Memory budget per table (see MemoryManager). */
  memory?: Partial<MemoryOptions>;
  /** Test hook, see IncrementalContext. */
  hook?: (point: string) => void | Promise<void>;
  /**
   * SIGTERM/SIGINT: the table in flight stops at its next batch (objects and watermarks committed
   * before stand; its file in progress is abandoned, its upload aborted) and tables not started are
   * reported `stopped`.
   */
  signal?: AbortSignal;
  /** Rows read and bytes stored, per table, as they go (the CLI's progress line). */
  progress?: ProgressSink;
  /** Incremental tables to back up anew under a new schema version (after an incompatible change). */
  resetTables?: string[];
}

export type TableStatus = 'ok' | 'failed' | 'busy' | 'planned' | 'stopped';

export interface TableResult {
  table: string;
  strategy: 'incremental' | 'full';
  status: TableStatus;
  rows: number;
  files: number;
  bytes: number;
  watermarkBefore: string[] | null;
  watermarkAfter: string[] | null;
  durationMs: number;
  error?: string;
  warnings: string[];
  /** Per `mirror:` target, what the sync after this table's run did. */
  mirrors?: MirrorResult[];
}

export interface MirrorResult {
  dest: string;
  copied: number;
  skipped: number;
  failed: number;
  bytes: number;
  error?: string;
}

export interface BackupSummary {
  strategy: string;
  tables: TableResult[];
  peakRssBytes: number;
  peakHeapBytes: number;
}

export { MAX_PARALLEL };

/**
 * Runs a strategy: every table (or --only some) is validated against the live schema first, then
 * backed up, one after another (or --parallel N), each under a lock in the state store so two
 * runs never back up the same table at once (the second reports it busy).
 *
 * @example
 * ```ts
 * import { runBackup } from 'tablevault';
 *
 * const summary = await runBackup({ strategy: 'strategies/nightly-incremental.yaml', parallel: 2 });
 * for (const t of summary.tables) console.log(t.table, t.status, t.rows, t.watermarkAfter);
 * ```
 */
export async function runBackup(opts: BackupOptions, deps: { logger?: Logger } = {}): Promise<BackupSummary> {
  const log = deps.logger ?? silentLogger();
  const strategy = loadStrategy(opts.strategy);
  const tables = selectTables(strategy, opts.only);
  for (const r of opts.resetTables ?? []) {
    const t = strategy.tables.find((x) => x.table === r);
    if (!t) throw inputError('RESET_TABLE', `--reset-table ${r}: not in ${strategy.file}`);
    if (t.strategy !== 'incremental')
      throw inputError(
        'RESET_TABLE',
        `--reset-table ${r}: a full table is copied whole every run; there is nothing to reset`,
      );
  }
  const parallel = wholeNumber('--parallel', opts.parallel, { max: MAX_PARALLEL }, DEFAULTS.backup.parallel);
  const source = observedSource(abortableSource(await openSource(strategy.source), opts.signal), opts.progress);
  const state = await openState(stateUrl(opts.state, strategy));
  const dest = openDestination(strategy.destination, s3Options(strategy), uploaderOptions(strategy));
  const memory = validateMemoryOptions({ ...DEFAULT_MEMORY_OPTIONS, ...opts.memory });
  const peak = new PeakMemory().start();
  try {
    await dest.store.check();
    // a mirror that cannot work fails the run up front, not after the backups
    for (const [i, m] of strategy.mirror.entries()) {
      await checkLocation(
        m.dest,
        { endpoint: m.endpoint ?? strategy.s3.endpoint, region: m.region ?? strategy.s3.region, profile: m.profile },
        `${strategy.file}: mirror[${i}].dest`,
      );
    }
    // every table is checked before any is read: a typo in the file fails the run up front
    const plans = new Map<string, TablePlan | undefined>();
    const prefixes = new Map<string, string>();
    for (const t of tables) {
      let ref;
      try {
        ref = parseTableRef(t.table);
      } catch (e) {
        throw inputError('STRATEGY', `${strategy.file}: table ${t.table}: ${errorMessage(e)}`);
      }
      let described;
      try {
        described = await source.describe(ref);
      } catch (e) {
        if (isTablevaultError(e) && e.code === 'TABLE_NOT_FOUND')
          throw inputError('STRATEGY', `${strategy.file}: table ${t.table}: ${e.message}`);
        throw e;
      }
      prefixes.set(t.table, encodeTableSegment(described));
      plans.set(
        t.table,
        t.strategy === 'incremental'
          ? planIncremental(strategy.file, t, described, dest.prefix, strategy.destination, source)
          : undefined,
      );
    }
    if (!opts.dryRun) await state.migrate();
    const results: TableResult[] = [];
    const queue = [...tables];
    // one encoder per concurrent table, kept for the run: a table no longer pays for a new
    // worker thread and a WebAssembly compile before its first row
    const worker = async () => {
      const encoder = new ParquetEncoder();
      if (!opts.dryRun) encoder.warm(); // it compiles while the first table is locked and planned
      try {
        await backupQueue(encoder);
      } finally {
        await encoder.close();
      }
    };
    const backupQueue = async (encoder: ParquetEncoder) => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        if (opts.signal?.aborted) {
          results.push({
            table: t.table,
            strategy: t.strategy,
            status: 'stopped',
            rows: 0,
            files: 0,
            bytes: 0,
            watermarkBefore: null,
            watermarkAfter: null,
            durationMs: 0,
            warnings: ['not started: stopped by a signal'],
          });
          continue;
        }
        const r = await backupTable(t, plans.get(t.table), {
          strategy,
          source,
          state,
          dest,
          log,
          opts,
          memory,
          peak,
          encoder,
        });
        if (r.status === 'ok' && strategy.mirror.length)
          await mirrorTable(r, prefixes.get(t.table)!, strategy, log.child({ table: t.table }));
        results.push(r);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallel, tables.length) }, worker));
    results.sort((a, b) => tables.findIndex((t) => t.table === a.table) - tables.findIndex((t) => t.table === b.table));
    peak.stop();
    return { strategy: strategy.file, tables: results, peakRssBytes: peak.rss, peakHeapBytes: peak.heapUsed };
  } finally {
    peak.stop();
    await source.close().catch(() => {});
    await state.close().catch(() => {});
    dest.store.close();
  }
}
