import { isStopped } from '../abort.js';
import type { Strategy } from '../config/strategy.js';
import { errorMessage, isTablevaultError } from '../errors.js';
import type { Logger } from '../log.js';
import { MemoryManager, type MemoryOptions } from '../memory/manager.js';
import type { PeakMemory } from '../memory/peak.js';
import { observedStore } from '../progress.js';
import type { RunSnapshot, Source } from '../source/source.js';
import type { UseEncoder } from './export-write.js';
import type { ChunkPlan, StateRepository } from '../state/repository.js';
import type { openDestination } from '../store/open.js';
import { s3Options, uploaderOptions } from './destination-options.js';
import { exportTable } from './export.js';
import { backupIncremental, newRunId, type IncrementalContext } from './incremental.js';
import { compactSettings, compactTable } from '../lifecycle/compact.js';
import { compactDue } from '../lifecycle/compact-due.js';
import { DEFAULTS } from '../defaults.js';
import { StaleLeaseError } from '../state/tasks.js';
import { stateKey, type RunTable } from '../plan/run-tables.js';
import { qualifiedName, quotedName } from '../source/columns.js';
import type { BackupOptions, TableResult } from './run.js';

export interface RunContext {
  strategy: Strategy;
  source: Source;
  state: StateRepository;
  dest: ReturnType<typeof openDestination>;
  log: Logger;
  opts: BackupOptions;
  memory: MemoryOptions;
  peak: PeakMemory;
  /** The run's encoders (its EncoderPool): each read of a table takes one while it runs. */
  encoders: UseEncoder;
  /** Reads at once in the run: a full table above chunk_rows is read in up to this many chunks at once. */
  readers: number;
  /** The run's snapshot, which every read reads (none in a dry run). */
  snapshot?: RunSnapshot;
  /** The backup run's id: every table's objects carry it (restore --as-of it takes all of them to this run). */
  backupRunId: string;
  /** Waits for one of the run's read slots (see runBackup); resolves to its release. */
  readSlot?: () => Promise<() => void>;
  /** A shared run's: offers a table's chunk plan to every worker of the run and waits for it (run-tasks.ts). */
  shareChunks?: (rt: RunTable, p: ChunkPlan, schemaVersion: number, readsDone: () => void) => Promise<void>;
}

/** A table's result before it has read anything: no rows, no files, no watermark. */
export function emptyResult(
  table: string,
  strategy: TableResult['strategy'],
  status: TableResult['status'],
  warnings: string[] = [],
): TableResult {
  return {
    table,
    strategy,
    status,
    rows: 0,
    files: 0,
    bytes: 0,
    watermarkBefore: null,
    watermarkAfter: null,
    durationMs: 0,
    warnings,
  };
}

/**
 * Backs up one table of a run under its lock, recording the run in the state store; another
 * process holding the lock makes it `busy`. Failures become a `failed` result, except bad input.
 */
export async function backupTable(rt: RunTable, ctx: RunContext): Promise<TableResult> {
  const { settings: t, plan } = rt;
  const base = emptyResult(t.table, t.strategy, 'ok');
  const log = ctx.log.child({ table: t.table });
  if (rt.skipped) return { ...base, status: 'skipped', warnings: [`skipped (when_no_cursor: skip): ${rt.skipped}`] };
  if (ctx.opts.dryRun) {
    const wm = plan ? await ctx.state.peekWatermark(plan.tableKey) : null;
    return { ...base, status: 'planned', watermarkBefore: wm, watermarkAfter: wm };
  }
  // held until the table's reads are done (readsDone), at the latest until it ends
  const readsDone = (await ctx.readSlot?.()) ?? (() => {});
  const started = Date.now();
  ctx.opts.progress?.({ table: qualifiedName(rt.table), estimatedRows: rt.table.estimatedRows });
  const lockName = stateKey(rt, ctx.strategy.destination);
  const runId = newRunId();
  try {
    const outcome = await ctx.state.withRun(
      runId,
      lockName,
      async (): Promise<TableResult> => {
        if (plan) {
          const inc = await backupIncremental(plan, incrementalContext(rt, ctx, { runId, log, readsDone }));
          const warnings = inc.counters.flatMap((c) => [
            ...(c.zeroDates ? [`column "${c.column}": ${c.zeroDates} MySQL zero date(s) backed up as NULL`] : []),
            ...(c.notRepresentable
              ? [`column "${c.column}": ${c.notRepresentable} value(s) Parquet cannot hold backed up as NULL`]
              : []),
          ]);
          // compact_every: in the run's lock, once its objects are committed (a failure is a warning: the backup stands)
          const compaction = t.compact_every ? await compactAfterRun(rt, t.compact_every, ctx, log) : undefined;
          if (compaction?.warning) warnings.push(compaction.warning);
          return {
            ...base,
            ...(compaction?.compacted ? { compacted: compaction.compacted } : {}),
            rows: inc.rows,
            files: inc.files,
            bytes: inc.bytes,
            watermarkBefore: inc.watermarkBefore,
            watermarkAfter: inc.watermarkAfter,
            ...(inc.chunks ? { chunks: inc.chunks } : {}),
            ...(inc.resumedChunks ? { resumedChunks: inc.resumedChunks } : {}),
            ...(inc.deletedKeys !== undefined ? { deletedKeys: inc.deletedKeys } : {}),
            warnings,
            durationMs: Date.now() - started,
          };
        } else {
          const ex = await exportTable(
            {
              source: ctx.strategy.source,
              // quoted: a matched table's name may hold dots or quotes (the table is described already)
              table: quotedName(rt.table),
              dest: ctx.strategy.destination,
              compression: t.compression,
              integerEncoding: t.integer_encoding,
              batchRows: t.batch_rows,
              fileMaxRows: t.file_max_rows,
              rowGroupRows: t.row_group_rows,
              chunkRows: t.chunk_rows,
              parallel: ctx.readers,
              s3: s3Options(ctx.strategy),
              upload: uploaderOptions(ctx.strategy),
              memory: ctx.memory,
              signal: ctx.opts.signal,
              progress: ctx.opts.progress,
            },
            // the run's own connections and destination, opened and checked once for all its
            // tables, and the table as the run's catalog described it
            {
              logger: log,
              encoders: ctx.encoders,
              snapshot: ctx.snapshot,
              source: ctx.source,
              dest: ctx.dest,
              table: rt.table,
              backupRunId: ctx.backupRunId,
              readsDone,
            },
          );
          return {
            ...base,
            rows: ex.rows,
            files: ex.files.length,
            bytes: ex.bytes,
            warnings: ex.warnings,
            durationMs: Date.now() - started,
          };
        }
      },
      errorMessage,
    );
    if (outcome === 'busy') {
      log.warn('another backup holds this table; skipped');
      return {
        ...base,
        status: 'busy',
        durationMs: Date.now() - started,
        warnings: ['skipped: another backup run holds this table'],
      };
    }
    return { ...outcome, runId };
  } catch (e) {
    if (isTablevaultError(e) && e.exitCode === 2 && e.code !== 'NULL_CURSOR') throw e;
    // a shared run's task whose lease was lost: its commits were refused; the new holder does it
    if (e instanceof StaleLeaseError) throw e;
    if (isStopped(e)) {
      log.warn('stopped by a signal; committed objects stand');
      return { ...base, status: 'stopped', error: errorMessage(e), durationMs: Date.now() - started };
    }
    log.error({ err: errorMessage(e) }, 'table failed');
    return { ...base, status: 'failed', error: errorMessage(e), durationMs: Date.now() - started };
  } finally {
    readsDone();
  }
}

/** What a table's incremental run reads and commits with, in this run (a chunk task of a shared run too). */
export function incrementalContext(
  rt: RunTable,
  ctx: RunContext,
  run: { runId: string; log: Logger; readsDone?: () => void },
): IncrementalContext {
  const t = rt.settings;
  const { runId, log, readsDone } = run;
  return {
    store: observedStore(ctx.dest.store, ctx.opts.progress),
    state: ctx.state,
    source: ctx.source,
    log,
    runId,
    backupRun: ctx.backupRunId,
    hook: ctx.opts.hook,
    nullCursor: t.null_cursor,
    onSchemaChange: t.on_schema_change ?? 'evolve',
    reset: ctx.opts.resetTables?.includes(t.table),
    strategyFile: ctx.strategy.file,
    tableName: t.table,
    memory: new MemoryManager(ctx.memory, ctx.peak, log),
    encoders: ctx.encoders,
    readers: ctx.readers,
    chunkRows: t.chunk_rows,
    snapshot: ctx.snapshot,
    readsDone,
    ...(ctx.shareChunks
      ? { shareChunks: (p: ChunkPlan, v: number) => ctx.shareChunks!(rt, p, v, readsDone ?? (() => {})) }
      : {}),
    ...(t.deletes === 'detect'
      ? {
          deletes: {
            every: t.delete_check_every,
            maxFraction: t.max_delete_fraction,
            confirmed: ctx.opts.confirmDeletes?.includes(t.table) ?? false,
            name: t.table,
          },
        }
      : {}),
    settings: {
      batchRows: t.batch_rows,
      fileMaxRows: t.file_max_rows,
      rowGroupRows: Math.min(t.row_group_rows, t.file_max_rows),
      compression: t.compression,
      integerEncoding: t.integer_encoding,
    },
  };
}

/** A base generation of the table when compact_every says it is due; what it wrote, or the warning of its failure. */
async function compactAfterRun(
  rt: RunTable,
  every: number,
  ctx: RunContext,
  log: Logger,
): Promise<{ compacted?: TableResult['compacted']; warning?: string }> {
  try {
    if (!(await compactDue(ctx.state, rt.plan!.tableKey, every))) return {};
    const c = await compactTable(rt.plan!, {
      store: ctx.dest.store,
      state: ctx.state,
      log,
      encoders: ctx.encoders,
      settings: compactSettings(rt),
      keysPerPass: DEFAULTS.compact.keysPerPass,
      hook: ctx.opts.hook,
    });
    if (c.generation === undefined) return {};
    return { compacted: { generation: c.generation, rows: c.rows, objects: c.objects, bytes: c.bytes } };
  } catch (e) {
    if (isStopped(e)) throw e;
    log.warn({ err: errorMessage(e) }, 'compaction after the run failed; the backup stands');
    return {
      warning: `compact_every: the compaction after this run failed (${errorMessage(e)}); run tablevault compact`,
    };
  }
}
