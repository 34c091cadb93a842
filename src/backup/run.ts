import { newRunId } from './incremental.js';
import { abortableSource } from '../abort.js';
import { DEFAULTS, MAX_PARALLEL } from '../defaults.js';
import { wholeNumber } from '../config/validate.js';
import { observedSource, type ProgressSink } from '../progress.js';
import { DEFAULT_MEMORY_OPTIONS, validateMemoryOptions, type MemoryOptions } from '../memory/manager.js';
import { PeakMemory } from '../memory/peak.js';
import { EncoderPool } from '../parquet/encoder-pool.js';
import { loadStrategy } from '../config/strategy.js';
import { silentLogger, type Logger } from '../log.js';
import { onlyTables, planRunTables, stateKey } from '../plan/run-tables.js';
import { checkLocation } from '../sync/sync.js';
import { openSource } from '../source/open.js';
import { openState } from '../state/repository.js';
import { stateUrl } from '../state/url.js';
import { openDestination } from '../store/open.js';
import { s3Options, uploaderOptions } from './destination-options.js';
import { MirrorStores } from '../lifecycle/expire-targets.js';
import type { KeptFrom } from '../manifest/types.js';
import { ReadSlots } from './read-slots.js';
import {
  isTableTask,
  joinKey,
  joinPlanKey,
  leaseMs,
  taskTableResult,
  workerIdentity,
  type JoinOptions,
} from './join.js';
import { localQueue, stoppedResult, tableTasks, workTables } from './run-tasks.js';
import { checkConfirmDeletes, checkResetTables } from './run-checks.js';
import { StateTaskQueue, type LocalTaskQueue, type TaskQueue } from './task-queue.js';

export interface BackupOptions {
  /** Path of the strategy file. */
  strategy: string;
  /** Back up only these tables (as results name them: as in the file, or `schema.table` when a pattern matched). */
  only?: string[];
  /** Check everything and print the plan; read and write nothing. */
  dryRun?: boolean;
  /** State store URL; overrides `state:` in the file; default: the source database. */
  state?: string;
  /** Reads at once (tables, or chunks of a full table above chunk_rows), at most max_source_connections - 1. Default 1. */
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
  /** `--confirm-deletes`: these tables record their deleted keys even above max_delete_fraction. */
  confirmDeletes?: string[];
  /**
   * `--join`: share the run with every process given the same key: the first plans it in the
   * state store, each claims tables under leases until none is left (see join.ts, run-tasks.ts).
   */
  join?: JoinOptions;
}

export type TableStatus = 'ok' | 'failed' | 'busy' | 'planned' | 'stopped' | 'skipped';

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
  /** Which `tables:` entry it got, and why (an exact name, or the most specific pattern). */
  why?: string;
  /** The table's run (what `status` lists); `restore --as-of` takes it, or the whole backup run's `runId`. */
  runId?: string;
  /** An incremental table's new rows were read in this many chunks at once. */
  chunks?: number;
  /** Of those, the chunks an earlier attempt that did not finish had done (this run resumed its plan). */
  resumedChunks?: number;
  /** compact_every: the base generation written after this run (see `compact`). */
  compacted?: { generation: number; rows: number; objects: number; bytes: number };
  /** deletes: detect: the keys this run found deleted in the source and recorded (when it looked). */
  deletedKeys?: number;
  /** First seen by this run: backed up from scratch. */
  new?: boolean;
  /** Per `mirror:` target, what the sync after this table's run did. */
  mirrors?: MirrorResult[];
  /** retention: what the expire after this run deleted, on the destination and its mirrors, and the oldest run the destination keeps. */
  expired?: { oldestKept?: KeptFrom; runsKept: number; objects: number; bytes: number };
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
  /** This backup run's id: `restore --as-of` it takes every table it backed up to this run (none in a dry run). */
  runId: string | null;
  tables: TableResult[];
  /**
   * The run's snapshot (null in a dry run): `exported` and `backup-lock` mean every table and
   * chunk was read from one consistent snapshot; `per-read` (and a `warning`) that each read had
   * its own, so tables are consistent each on its own only.
   */
  snapshot: { kind: string; warning?: string } | null;
  /** Tables earlier runs to this destination matched that this one did not (dropped, renamed, excluded): their backups stay. */
  goneTables: Array<{ table: string; lastSeen: string }>;
  peakRssBytes: number;
  peakHeapBytes: number;
}

export { MAX_PARALLEL };

/** What a shared run's summary says of its consistency (README, "Shared runs"). */
const SHARED_SNAPSHOT_WARNING =
  'a shared run (--join): each table was read in a snapshot of its own, so each table is consistent on its own; tables are not consistent with one another';

/** Tables in flight per read at once (see runBackup). */
const TABLES_PER_READ = 2;

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
  const parallel = wholeNumber('--parallel', opts.parallel, { max: MAX_PARALLEL }, DEFAULTS.backup.parallel);
  // the run's snapshot holds one connection, reads one each: at most max_source_connections in all
  const readers = Math.min(parallel, Math.max(1, strategy.maxSourceConnections - 1));
  const source = observedSource(
    abortableSource(await openSource(strategy.source, { maxConnections: strategy.maxSourceConnections }), opts.signal),
    opts.progress,
  );
  const state = await openState(stateUrl(opts.state, strategy));
  const dest = openDestination(strategy.destination, s3Options(strategy), uploaderOptions(strategy));
  const memory = validateMemoryOptions({ ...DEFAULT_MEMORY_OPTIONS, ...opts.memory });
  const peak = new PeakMemory().start();
  let backupRunId = newRunId();
  let mirrors: MirrorStores | undefined;
  // the encoder threads of the run, one per concurrent read, kept for the run: a table no longer
  // pays for a new worker thread and a WebAssembly compile before its first row. They start first
  // and compile while the run checks its destination, matches its tables against the catalog and
  // opens its snapshot: started after those, a run's first table waited ~100 ms for its encoder
  const pool = new EncoderPool(readers);
  if (!opts.dryRun) pool.warm();
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
    // every table is matched, described and checked before any is read: a typo fails the run up front
    const { tables: all } = await planRunTables(strategy, source, {
      prefix: dest.prefix,
      destination: strategy.destination,
    });
    const tables = onlyTables(all, opts.only, strategy.file);
    const byName = new Map(tables.map((t) => [t.name, t]));
    checkResetTables(opts.resetTables ?? [], tables, strategy.file);
    checkConfirmDeletes(opts.confirmDeletes ?? [], tables, strategy.file);
    if (!opts.dryRun) await state.migrate();
    const seen = await state.seenTables(strategy.destination);
    const known = new Map(seen.map((t) => [t.name, t]));
    const matched = new Set(all.map((t) => t.name));
    const goneTables = opts.only?.length
      ? []
      : seen.filter((t) => !matched.has(t.name)).map((t) => ({ table: t.name, lastSeen: t.lastSeen }));
    for (const g of goneTables)
      log.warn({ table: g.table, lastSeen: g.lastSeen }, 'no longer matched; its backups stay');
    const join = opts.join && !opts.dryRun ? opts.join : undefined;
    const worker = workerIdentity(join?.workerId);
    let queue: TaskQueue;
    let local: LocalTaskQueue | undefined;
    if (join) {
      // the first process to arrive plans the run (its tables, its backup run id); the others find it
      const planKey = joinPlanKey(joinKey(join.key), strategy.destination);
      const plan = await state.planRun({
        planKey,
        backupRun: backupRunId,
        strategy: strategy.file,
        plannedBy: worker.id,
        tasks: tableTasks(tables),
      });
      backupRunId = plan.backupRun;
      queue = new StateTaskQueue(state, planKey);
      log.info(
        { plan: planKey, planned: plan.planned, worker: worker.id },
        plan.planned ? 'planned the shared run' : 'joined the shared run',
      );
    } else queue = local = localQueue(backupRunId, tables);
    // every read of a run of one process reads one snapshot: the tables agree with one another as
    // pg_dump's do. A shared run's workers are on other machines: each table reads its own.
    const snapshot =
      opts.dryRun || join || strategy.snapshot === 'per-table' ? undefined : await source.openSnapshot(readers);
    const reading = new ReadSlots(readers);
    if (snapshot?.warning) log.warn(snapshot.warning);
    // tables in flight: twice the reads. A table holds a read slot from before its lock until its
    // reads are done, so at most `readers` read (and use the source) at once, and what it does
    // after (stale parts, manifest, the run's end, the unlock: waits on the destination and the
    // state store, most of a small table's time) overlaps the next tables' reads. Each table in
    // flight holds a lock connection to the state store.
    let results: TableResult[];
    try {
      const worked = await workTables(
        tables,
        {
          strategy,
          source,
          state,
          dest,
          log,
          opts,
          memory,
          peak,
          encoders: (fn) => pool.use(fn),
          readers,
          snapshot,
          backupRunId,
          readSlot: () => reading.acquire(),
        },
        {
          queue,
          shared: !!join,
          worker,
          leaseMs: leaseMs(join?.leaseMs),
          exitWhenIdle: join ? !!join.exitWhenIdle : undefined,
          slots: readers * TABLES_PER_READ,
          mirrors: () => (mirrors ??= new MirrorStores(strategy)),
        },
      );
      results = join
        ? (await state.planTasks(queue.planKey))
            .filter(isTableTask)
            .map((row) =>
              taskTableResult(
                row,
                byName.get(row.name)?.settings ?? { strategy: 'incremental' },
                !!opts.signal?.aborted,
              ),
            )
        : [...worked.results, ...local!.unclaimed().map((name) => stoppedResult(byName.get(name)!))];
      results = results.map((r) => ({
        ...r,
        why: byName.get(r.table)?.why,
        ...(known.has(r.table) ? {} : { new: true }),
      }));
    } finally {
      await snapshot?.close();
    }
    const position = new Map(tables.map((t, i) => [t.name, i]));
    results.sort((a, b) => position.get(a.table)! - position.get(b.table)!);
    if (!opts.dryRun)
      await state.recordSeen(
        strategy.destination,
        tables.map((t) => ({ name: t.name, stateKey: stateKey(t, strategy.destination) })),
        known,
      );
    peak.stop();
    return {
      strategy: strategy.file,
      runId: opts.dryRun ? null : backupRunId,
      tables: results,
      snapshot: snapshot
        ? { kind: snapshot.kind, ...(snapshot.warning ? { warning: snapshot.warning } : {}) }
        : opts.dryRun
          ? null
          : join
            ? { kind: 'per-read', warning: SHARED_SNAPSHOT_WARNING }
            : { kind: 'per-read' },
      goneTables,
      peakRssBytes: peak.rss,
      peakHeapBytes: peak.heapUsed,
    };
  } finally {
    peak.stop();
    await pool.close();
    mirrors?.close();
    await source.close().catch(() => {});
    await state.close().catch(() => {});
    dest.store.close();
  }
}
