import { randomUUID } from 'node:crypto';
import { inputError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MemoryManager } from '../memory/manager.js';
import type { ParquetEncoder } from '../parquet/encode.js';
import type { CompressionName, IntegerEncoding } from '../parquet/compression.js';
import { sqlAnd } from '../source/quote.js';
import type { ReadStats, RunSnapshot, Source } from '../source/source.js';
import type { ChunkPlan, StateRepository } from '../state/repository.js';
import type { ObjectStore } from '../store/store.js';
import { incrementalObjectKey, nextDay } from '../manifest/layout.js';
import { writeIncrementalManifest } from '../manifest/write.js';
import { manifestInput } from './incremental-manifest.js';
import { recordDeletes, type DeleteCheck, type DeleteSettings } from '../lifecycle/deletes.js';
import { nextRowDay } from './day-partition.js';
import type { TablePlan } from './incremental-plan.js';
import { backupLateRows, versionHash, type WriteAndCommit } from './late-rows.js';
import { resolveSchemaVersion } from './schema-version.js';
import type { UseEncoder } from './export-write.js';
import { planChunkedRun, resumablePlan, runChunkedPlan } from './incremental-chunks.js';
import { liveReadOptions, writeIncrementalObject, type LiveBatch } from './incremental-object.js';

export interface IncrementalResult {
  rows: number;
  files: number;
  bytes: number;
  watermarkBefore: string[] | null;
  watermarkAfter: string[] | null;
  counters: ReadStats['counters'];
  /** The chunks the new rows were read in, when more than one. */
  chunks?: number;
  /** Of those, the chunks an earlier, unfinished attempt had done. */
  resumedChunks?: number;
  /** Keys found deleted in the source and recorded (deletes: detect), when the run looked. */
  deletedKeys?: number;
}

export interface IncrementalContext {
  store: ObjectStore;
  state: StateRepository;
  source: Source;
  log: Logger;
  runId: string;
  /** The backup run (the whole command) this table's run is part of: what `restore --as-of` takes for every table. */
  backupRun?: string;
  settings: {
    batchRows: number;
    fileMaxRows: number;
    rowGroupRows: number;
    compression: CompressionName;
    integerEncoding?: IntegerEncoding;
  };
  memory: MemoryManager;
  nullCursor?: 'fail' | 'skip';
  /** Test hook: awaited at named points (after-upload, after-commit) so tests can kill or pause the process there. */
  hook?: (point: string) => void | Promise<void>;
  /** evolve (default): new objects follow added, dropped and widened columns; fail: any change fails the table. */
  onSchemaChange?: 'evolve' | 'fail';
  /** Start a new full backup under a new schema version (`--reset-table`): the watermark is cleared. */
  reset?: boolean;
  /** The strategy file and table name, for messages that say what to run. */
  strategyFile?: string;
  tableName?: string;
  /** The run's encoders (its EncoderPool): each read of the table takes one while it runs. */
  encoders: UseEncoder;
  /** Reads at once in the run: new rows above `chunkRows` are read in chunks when it is above 1. */
  readers: number;
  chunkRows: number;
  /** The run's snapshot: the table's reads (and the lag window's keys) read it. */
  snapshot?: RunSnapshot;
  /** Called once the table's reads have ended, before its manifest. */
  readsDone?: () => void;
  /** `deletes: detect` (absent: ignore): every N runs of the table, with the guard's share and whether it is confirmed. */
  deletes?: { every: number } & DeleteSettings;
  /**
   * A shared run's: offers the chunks of a plan not yet done to every worker of the run, and
   * resolves once all are done (see run-tasks.ts); absent, this process reads them.
   */
  shareChunks?: (p: ChunkPlan, schemaVersion: number) => Promise<void>;
}

/**
 * Backs up the rows past the watermark, one object at a time. Each object's key is fixed by its
 * sequence number, and the sequence number and the watermark advance together, in one state-store
 * transaction, only after the object is durable: a run killed anywhere and run again writes the
 * same key from the same watermark, replacing whatever a half-finished attempt left. New rows
 * above `chunkRows`, in a run reading more than one thing at once, are read in chunks at once
 * (incremental-chunks.ts): the watermark then moves once, when every chunk is durable.
 */
export async function backupIncremental(plan: TablePlan, ctx: IncrementalContext): Promise<IncrementalResult> {
  const { state, store, log } = ctx;
  const row = await state.ensureTable({
    tableKey: plan.tableKey,
    destination: store.label,
    sourceTable: `${plan.table.schema}.${plan.table.name}`,
  });
  const schemaVersion = await resolveSchemaVersion(plan, ctx, row);
  if (ctx.reset) row.watermark = null;
  const before: string[] | null = row.watermark ? (JSON.parse(row.watermark) as string[]) : null;
  let watermark = before;
  let seq = row.files;
  if (ctx.nullCursor === 'fail') await failOnNullCursor(plan, ctx);
  const result: IncrementalResult = {
    rows: 0,
    files: 0,
    bytes: 0,
    watermarkBefore: before,
    watermarkAfter: before,
    counters: [],
  };
  const record = (files: number, rows: number, bytes: number, ...reads: ReadStats[]) => {
    result.rows += rows;
    result.files += files;
    result.bytes += bytes;
    for (const c of reads.flatMap((r) => r.counters)) {
      const prev = result.counters.find((p) => p.column === c.column);
      if (prev) {
        prev.zeroDates += c.zeroDates;
        prev.notRepresentable += c.notRepresentable;
      } else result.counters.push({ ...c });
    }
  };
  const live: LiveBatch = { batchRows: ctx.settings.batchRows };
  const liveRead = liveReadOptions(ctx, live);
  /**
   * Writes the rows of one read as object number `seq`, then commits it: the file row, the
   * table's counters and watermark (`to`, or unchanged for late rows) and the recent versions,
   * in one transaction, only after the object is durable. False when the read had no rows.
   */
  const writeAndCommit =
    (encoder: ParquetEncoder): WriteAndCommit =>
    async (read, to, recent, day) => {
      const key = incrementalObjectKey(plan.tablePrefix, seq, day);
      const wrote = await writeIncrementalObject(read, key, {
        plan,
        ctx,
        encoder,
        live,
        after: watermark,
        schemaVersion,
        day,
      });
      if (!wrote) return false;
      const { object, stats } = wrote;
      await ctx.hook?.('after-upload');
      const through = to(stats);
      await state.commitObject({
        tableKey: plan.tableKey,
        seq,
        objectKey: key,
        rows: object.rows,
        bytes: object.put.bytes,
        sha256: object.put.sha256,
        after: watermark,
        through,
        runId: ctx.runId,
        backupRun: ctx.backupRun,
        schemaVersion,
        columns: plan.columns,
        recentVersions: recent(stats).map(versionHash),
      });
      await ctx.hook?.('after-commit');
      log.info({ key, rows: object.rows, bytes: object.put.bytes, watermark: through }, 'committed');
      seq++;
      watermark = result.watermarkAfter = through;
      record(1, object.rows, object.put.bytes, stats);
      return { rows: object.rows };
    };
  // a chunked run an earlier attempt left: this run finishes it before anything else moves the watermark
  const resumed = await resumablePlan(plan, ctx, watermark);
  // deletions, before any new row: a refused run commits nothing (a resumed plan looks next run)
  if (ctx.deletes && watermark && !resumed && plan.primaryKey.length) {
    const check = await lookForDeletes(plan, ctx, ctx.deletes, { watermark, seq, schemaVersion });
    if (check) {
      result.deletedKeys = check.deleted;
      if (check.deleted) {
        seq++;
        result.files++;
        result.bytes += check.bytes;
      }
    }
  }
  const lag = plan.lag;
  if (lag && watermark) {
    const from = watermark;
    // a resumed plan's chunks recorded versions past the watermark, which pruning would forget
    await ctx.encoders((encoder) =>
      backupLateRows(plan, lag, from, ctx, writeAndCommit(encoder), liveRead, { prune: !resumed }),
    );
  }
  const chunked = resumed ?? (await planChunkedRun(plan, ctx, watermark, seq));
  if (chunked) {
    const out = await runChunkedPlan(chunked, plan, ctx, schemaVersion);
    record(out.written.files, out.written.rows, out.written.bytes, ...out.written.stats);
    result.watermarkAfter = chunked.through;
    result.chunks = chunked.chunks.length;
    if (resumed) result.resumedChunks = resumed.chunks.filter((c) => c.done).length;
  } else await ctx.encoders((encoder) => readInOrder(plan, ctx, () => watermark, writeAndCommit(encoder), liveRead));
  ctx.readsDone?.();
  await writeIncrementalManifest(
    store,
    plan.tablePrefix,
    manifestInput(plan, await ctx.state.manifestState(plan.tableKey)),
  );
  return result;
}

/** The rows past the watermark in one stream, an object at a time (with day partitions, a day at a time). */
async function readInOrder(
  plan: TablePlan,
  ctx: IncrementalContext,
  watermark: () => string[] | null,
  writeAndCommit: WriteAndCommit,
  liveRead: ReturnType<typeof liveReadOptions>,
): Promise<void> {
  const cursor = plan.keyColumns[0]!;
  const lag = plan.lag;
  for (;;) {
    const from = watermark();
    // day partitions: each object holds the rows of one cursor day, the day of the next row
    const day = plan.partition ? await nextRowDay(plan, from, ctx.source) : undefined;
    if (plan.partition && !day) break;
    const where = day
      ? sqlAnd(
          plan.where,
          ctx.source.beforeDaySql(
            plan.columns.find((c) => c.name === cursor)!,
            nextDay(day),
          ),
        )
      : plan.where;
    const wrote = await writeAndCommit(
      (stats) =>
        ctx.source.read(
          plan.table,
          liveRead({
            keyColumns: plan.keyColumns,
            after: from ?? undefined,
            maxRows: ctx.settings.fileMaxRows,
            where,
            stats,
            recordKeys: lag
              ? (last: string[]) => ctx.source.withinLagSql(plan.table, cursor, last[0]!, lag)
              : undefined,
          }),
        ),
      (stats) => stats.lastKey!,
      (stats) => stats.keys ?? [],
      day,
    );
    if (!wrote || (!plan.partition && wrote.rows < ctx.settings.fileMaxRows)) break;
  }
}

/** recordDeletes on its N-th run (delete_check_every), undefined on the others. */
async function lookForDeletes(
  plan: TablePlan,
  ctx: IncrementalContext,
  d: NonNullable<IncrementalContext['deletes']>,
  at: { watermark: string[]; seq: number; schemaVersion: number },
): Promise<DeleteCheck | undefined> {
  if (d.every > 1 && ((await ctx.state.okRuns(plan.tableKey)) + 1) % d.every !== 0) return undefined;
  return recordDeletes(
    {
      plan,
      store: ctx.store,
      state: ctx.state,
      source: ctx.source,
      snapshot: ctx.snapshot,
      log: ctx.log,
      runId: ctx.runId,
      backupRun: ctx.backupRun,
      encoders: ctx.encoders,
      settings: ctx.settings,
      hook: ctx.hook,
      ...at,
    },
    d,
  );
}

async function failOnNullCursor(plan: TablePlan, ctx: IncrementalContext): Promise<void> {
  const cursor = plan.keyColumns[0]!;
  const rows = ctx.source.read(
    { ...plan.table, columns: plan.columns.filter((c) => c.name === cursor), primaryKey: [] },
    {
      batchRows: 1,
      maxRows: 1,
      where: ctx.source.isNullSql(cursor),
      keyColumns: [],
    },
  );
  for await (const b of rows) {
    if (b.numRows > 0)
      throw inputError(
        'NULL_CURSOR',
        `${plan.table.schema}.${plan.table.name}: rows have a NULL ${cursor} and null_cursor is fail; fix the rows or set null_cursor: skip`,
      );
  }
}

export function newRunId(): string {
  return randomUUID();
}
