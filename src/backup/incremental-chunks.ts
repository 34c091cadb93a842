import { errorMessage } from '../errors.js';
import { incrementalChunkObjectKey } from '../manifest/layout.js';
import { sqlAnd } from '../source/quote.js';
import type { ReadStats } from '../source/source.js';
import type { ChunkPlan, FinishedPlan, PlannedChunk } from '../state/repository.js';
import type { IncrementalContext } from './incremental.js';
import type { TablePlan } from './incremental-plan.js';
import { liveReadOptions, writeIncrementalObject, type LiveBatch } from './incremental-object.js';
import { versionHash } from './late-rows.js';

/** A watermark as the state store keeps it, for comparing. */
const wmText = (w: string[] | null): string | null => (w ? JSON.stringify(w) : null);

/**
 * Plans the run's new rows (key past `watermark`) in chunks read at once, when the run reads more
 * than one thing at once and they are estimated above `chunkRows`; undefined reads them in one
 * stream. The plan ends at the greatest key in the run's snapshot, read before any chunk, and
 * is recorded before the first read, so a rerun reads the same ranges into the same keys.
 */
export async function planChunkedRun(
  plan: TablePlan,
  ctx: IncrementalContext,
  watermark: string[] | null,
  planSeq: number,
): Promise<ChunkPlan | undefined> {
  const { source } = ctx;
  if (ctx.readers <= 1 || plan.partition || plan.table.estimatedRows <= ctx.chunkRows) return undefined;
  const rangeWhere = sqlAnd(plan.where, !!watermark && source.tupleAfterSql(plan.table, plan.keyColumns, watermark));
  const chunks = await source.planChunks(plan.table, ctx.chunkRows, {
    column: plan.keyColumns[0]!,
    ...(rangeWhere ? { where: rangeWhere } : {}),
  });
  if (chunks.length < 2) return undefined;
  const [through] = await source.readKeys(plan.table, plan.keyColumns, rangeWhere, {
    snapshot: ctx.snapshot,
    last: true,
  });
  if (!through) return undefined;
  const p: ChunkPlan = {
    tableKey: plan.tableKey,
    planSeq,
    keyColumns: plan.keyColumns,
    after: watermark,
    through,
    runId: ctx.runId,
    chunks: chunks.map((c) => ({
      index: c.index,
      ...(c.where ? { rangeSql: c.where } : {}),
      estimatedRows: c.estimatedRows,
      progress: null,
      parts: 0,
      done: false,
    })),
    files: [],
  };
  await ctx.state.saveChunkPlan(p);
  ctx.log.info({ chunks: chunks.length, chunkRows: ctx.chunkRows, through }, 'reading new rows in chunks');
  return p;
}

/**
 * Whether a plan a run left can be resumed by this one: it starts at the table's watermark, on
 * the same key. If not (a reset, another cursor), its objects are removed and it is dropped.
 */
export async function resumablePlan(
  plan: TablePlan,
  ctx: IncrementalContext,
  watermark: string[] | null,
): Promise<ChunkPlan | undefined> {
  const p = await ctx.state.chunkPlan(plan.tableKey);
  if (!p) return undefined;
  const same =
    !ctx.reset &&
    wmText(p.after) === wmText(watermark) &&
    JSON.stringify(p.keyColumns) === JSON.stringify(plan.keyColumns);
  if (same) {
    const done = p.chunks.filter((c) => c.done).length;
    ctx.log.info({ chunks: p.chunks.length, done, through: p.through }, 'resuming the chunked run left unfinished');
    return p;
  }
  ctx.log.warn(
    { chunks: p.chunks.length, objects: p.files.length },
    'an unfinished chunked run cannot be resumed (the watermark or the key changed); its objects are removed and its rows read again',
  );
  await ctx.store
    .delete(p.files.map((f) => f.objectKey))
    .catch((e: unknown) =>
      ctx.log.error(
        { err: errorMessage(e) },
        `could not remove ${p.files.length} object(s) of an abandoned chunked run; they are in no manifest`,
      ),
    );
  await ctx.state.dropChunkPlan(plan.tableKey);
  return undefined;
}

/** What a chunked run wrote, for the table's result. */
export interface ChunkedOutcome extends FinishedPlan {
  /** Objects, rows and bytes this process wrote (a resumed plan's earlier ones not counted). */
  written: { files: number; rows: number; bytes: number; stats: ReadStats[] };
}

/**
 * Reads every chunk of the plan not yet done, as many at once as the run's encoders allow, each
 * from its progress on, each object committed to the plan as it is durable; when all are done,
 * finishes the plan (the watermark moves to its end). A chunk that fails stops the others at
 * their next batch; what they committed stays for the rerun.
 */
export async function runChunkedPlan(
  p: ChunkPlan,
  plan: TablePlan,
  ctx: IncrementalContext,
  schemaVersion: number,
): Promise<ChunkedOutcome> {
  const written: ChunkedOutcome['written'] = { files: 0, rows: 0, bytes: 0, stats: [] };
  if (ctx.shareChunks) await ctx.shareChunks(p, schemaVersion);
  else await readChunks(p, plan, ctx, schemaVersion, written);
  await ctx.hook?.('before-plan-finish');
  const finished = await ctx.state.finishChunkPlan(p, {
    runId: ctx.runId,
    backupRun: ctx.backupRun,
    columns: plan.columns,
  });
  // a shared run's chunks were read by any of its workers: the result counts what the plan added
  const shared = { files: finished.files, rows: finished.rows, bytes: finished.bytes, stats: [] };
  return { ...finished, written: ctx.shareChunks ? shared : written };
}

/** Every chunk not yet done, as many at once as the run's encoders allow; the first failure stops the others. */
async function readChunks(
  p: ChunkPlan,
  plan: TablePlan,
  ctx: IncrementalContext,
  schemaVersion: number,
  written: ChunkedOutcome['written'],
): Promise<void> {
  const failed = { error: undefined as unknown };
  const stop = () => {
    if (failed.error !== undefined) throw failed.error;
  };
  const results = await Promise.allSettled(
    p.chunks
      .filter((c) => !c.done)
      .map((c) =>
        ctx.encoders(async (encoder) => {
          stop();
          try {
            await readChunk(c, p, plan, ctx, { encoder, schemaVersion, stop, written });
          } catch (e) {
            failed.error ??= e;
            throw e;
          }
        }),
      ),
  );
  const rejected = results.find((r) => r.status === 'rejected');
  if (rejected) throw failed.error ?? rejected.reason;
}

/** One chunk of a shared run's plan, read by whichever worker claimed its task. */
export function readSharedChunk(
  c: PlannedChunk,
  p: ChunkPlan,
  plan: TablePlan,
  ctx: IncrementalContext,
  schemaVersion: number,
): Promise<ChunkedOutcome['written']> {
  const written: ChunkedOutcome['written'] = { files: 0, rows: 0, bytes: 0, stats: [] };
  return ctx.encoders(async (encoder) => {
    await readChunk(c, p, plan, ctx, { encoder, schemaVersion, stop: () => {}, written });
    return written;
  });
}

/** One chunk, object after object from its progress, until a read comes back short of a full object. */
async function readChunk(
  c: PlannedChunk,
  p: ChunkPlan,
  plan: TablePlan,
  ctx: IncrementalContext,
  o: {
    encoder: Parameters<Parameters<IncrementalContext['encoders']>[0]>[0];
    schemaVersion: number;
    stop: () => void;
    written: ChunkedOutcome['written'];
  },
): Promise<void> {
  const { source, state } = ctx;
  const t = plan.table;
  const cursor = plan.keyColumns[0]!;
  const lag = plan.lag;
  const live: LiveBatch = { batchRows: ctx.settings.batchRows };
  const liveRead = liveReadOptions(ctx, live);
  // the chunk's range, and never past the plan's end: rows added since are the next run's
  const where = sqlAnd(plan.where, c.rangeSql, source.tupleNotAfterSql(t, plan.keyColumns, p.through));
  let progress = c.progress ?? p.after;
  for (let part = c.parts; ; part++) {
    const from = progress;
    const wrote = await writeIncrementalObject(
      (stats) =>
        source.read(
          t,
          liveRead({
            keyColumns: plan.keyColumns,
            after: from ?? undefined,
            maxRows: ctx.settings.fileMaxRows,
            where,
            stats,
            // the versions the next run's lag window will look for: within the lag of the plan's end
            recordKeys: lag ? () => source.withinLagSql(t, cursor, p.through[0]!, lag) : undefined,
          }),
        ),
      incrementalChunkObjectKey(plan.tablePrefix, p.planSeq, c.index, part),
      { plan, ctx, encoder: o.encoder, live, after: from, schemaVersion: o.schemaVersion, stop: o.stop },
    );
    if (!wrote) {
      await state.markChunkDone(plan.tableKey, c.index);
      return;
    }
    await ctx.hook?.('after-upload');
    const { object, stats } = wrote;
    const done = object.rows < ctx.settings.fileMaxRows;
    await state.commitChunkObject({
      tableKey: plan.tableKey,
      chunk: c.index,
      part,
      objectKey: object.key,
      rows: object.rows,
      bytes: object.put.bytes,
      sha256: object.put.sha256,
      after: from,
      through: stats.lastKey!,
      schemaVersion: o.schemaVersion,
      runId: ctx.runId,
      done,
      recentVersions: (stats.keys ?? []).map(versionHash),
    });
    await ctx.hook?.('after-commit');
    ctx.log.info({ key: object.key, chunk: c.index, rows: object.rows, bytes: object.put.bytes }, 'committed');
    o.written.files++;
    o.written.rows += object.rows;
    o.written.bytes += object.put.bytes;
    o.written.stats.push(stats);
    if (done) return;
    progress = stats.lastKey!;
  }
}
