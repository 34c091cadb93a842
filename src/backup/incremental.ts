import { randomUUID } from 'node:crypto';
import type { RecordBatch } from 'apache-arrow';
import { inputError } from '../errors.js';
import type { Logger } from '../log.js';
import type { MemoryManager } from '../memory/manager.js';
import { ParquetEncoder } from '../parquet/encode.js';
import { deltaColumns, type CompressionName, type IntegerEncoding } from '../parquet/compression.js';
import type { ColumnSpec } from '../source/columns.js';
import { sqlAnd } from '../source/quote.js';
import type { ReadOptions, ReadStats, RunSnapshot, Source } from '../source/source.js';
import type { ManifestState, StateRepository } from '../state/repository.js';
import type { ObjectStore } from '../store/store.js';
import { incrementalMetadata } from '../manifest/footer.js';
import { incrementalObjectKey, nextDay } from '../manifest/layout.js';
import { writeIncrementalManifest, type IncrementalManifestInput } from '../manifest/write.js';
import { nextRowDay } from './day-partition.js';
import type { TablePlan } from './incremental-plan.js';
import { backupLateRows, versionHash, type WriteAndCommit } from './late-rows.js';
import { resolveSchemaVersion } from './schema-version.js';

export interface IncrementalResult {
  rows: number;
  files: number;
  bytes: number;
  watermarkBefore: string[] | null;
  watermarkAfter: string[] | null;
  counters: ReadStats['counters'];
}

export interface IncrementalContext {
  store: ObjectStore;
  state: StateRepository;
  source: Source;
  log: Logger;
  runId: string;
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
  /** An encoder the caller owns, kept warm across tables (the backup run's); else the table starts its own. */
  encoder?: ParquetEncoder;
  /** The run's snapshot: the table's reads (and the lag window's keys) read it. */
  snapshot?: RunSnapshot;
}

/**
 * Backs up the rows past the watermark, one object at a time. Each object's key is fixed by its
 * sequence number, and the sequence number and the watermark advance together, in one state-store
 * transaction, only after the object is durable: a run killed anywhere and run again writes the
 * same key from the same watermark, replacing whatever a half-finished attempt left.
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
  // the run's encoder, kept across its tables; else one of this table's own
  const encoder = ctx.encoder ?? new ParquetEncoder();
  const result: IncrementalResult = {
    rows: 0,
    files: 0,
    bytes: 0,
    watermarkBefore: before,
    watermarkAfter: before,
    counters: [],
  };
  const record = (rows: number, bytes: number, stats: ReadStats) => {
    result.rows += rows;
    result.files++;
    result.bytes += bytes;
    for (const c of stats.counters) {
      const prev = result.counters.find((p) => p.column === c.column);
      if (prev) {
        prev.zeroDates += c.zeroDates;
        prev.notRepresentable += c.notRepresentable;
      } else result.counters.push({ ...c });
    }
  };
  /** The live batch size: the memory manager may shrink it between pages. */
  const live = { batchRows: ctx.settings.batchRows };
  /** Read options whose batchRows is always the live one, read by the reader for each page. */
  const liveRead = (o: Omit<ReadOptions, 'batchRows'>): ReadOptions => ({
    ...o,
    ...(ctx.snapshot ? { snapshot: ctx.snapshot } : {}),
    get batchRows() {
      return live.batchRows;
    },
  });
  /**
   * Writes the rows of one read as object number `seq`, then commits it: the file row, the
   * table's counters and watermark (`to`, or unchanged for late rows) and the recent versions,
   * in one transaction, only after the object is durable. False when the read had no rows.
   */
  const writeAndCommit: WriteAndCommit = async (read, to, recent, day) => {
    const stats: ReadStats = { counters: [] };
    const it = read(stats)[Symbol.asyncIterator]();
    const first = await it.next();
    if (first.done) return false;
    const key = incrementalObjectKey(plan.tablePrefix, seq, day);
    let rows = 0;
    const counted = (async function* (): AsyncGenerator<RecordBatch> {
      let n: IteratorResult<RecordBatch> = first;
      while (!n.done) {
        rows += n.value.numRows;
        await ctx.memory.afterBatch(live, () => encoder.drained());
        yield n.value;
        n = await it.next();
      }
    })();
    const body = encoder.encode(counted, {
      compression: ctx.settings.compression,
      rowGroupRows: ctx.settings.rowGroupRows,
      deltaColumns: deltaColumns(plan.table.columns, ctx.settings.integerEncoding),
      metadata: incrementalMetadata(plan.table, { after: watermark, schemaVersion, keyColumns: plan.keyColumns, day }),
    });
    const put = await store.put({ key, body, contentType: 'application/vnd.apache.parquet' });
    await ctx.hook?.('after-upload');
    const through = to(stats);
    const versions = recent(stats).map(versionHash);
    await state.commitObject({
      tableKey: plan.tableKey,
      seq,
      objectKey: key,
      rows,
      bytes: put.bytes,
      sha256: put.sha256,
      after: watermark,
      through,
      runId: ctx.runId,
      schemaVersion,
      columns: plan.columns,
      recentVersions: versions,
    });
    await ctx.hook?.('after-commit');
    log.info({ key, rows, bytes: put.bytes, watermark: through }, 'committed');
    seq++;
    watermark = result.watermarkAfter = through;
    record(rows, put.bytes, stats);
    return { rows };
  };
  try {
    if (plan.lag && watermark) await backupLateRows(plan, plan.lag, watermark, ctx, writeAndCommit, liveRead);
    const cursor = plan.keyColumns[0]!;
    const lag = plan.lag;
    for (;;) {
      const from = watermark;
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
  } finally {
    if (!ctx.encoder) await encoder.close();
  }
  await writeIncrementalManifest(
    store,
    plan.tablePrefix,
    manifestInput(plan, await ctx.state.manifestState(plan.tableKey)),
  );
  return result;
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

/** The table's manifest, from the state store's record: everything needed to read the backup from the bucket alone. */
function manifestInput(plan: TablePlan, { table: t, files, schemas }: ManifestState): IncrementalManifestInput {
  return {
    table: plan.table,
    columns: plan.columns,
    keyColumns: plan.keyColumns,
    primaryKey: plan.primaryKey,
    schemaVersion: Number(t.schema_version ?? 1),
    schemas: schemas.map((v) => ({
      version: v.version,
      columns: JSON.parse(v.columns_json) as ColumnSpec[],
      keyColumns: JSON.parse(v.key_columns) as string[],
      changes: v.changes ? (JSON.parse(v.changes) as string[]) : [],
      reset: Boolean(v.reset),
      createdAt: v.created_at,
    })),
    watermark: t.watermark ? (JSON.parse(t.watermark) as string[]) : null,
    rows: Number(t.rows),
    objects: files.map((f) => ({
      key: f.object_key,
      rows: Number(f.rows),
      bytes: Number(f.bytes),
      sha256: f.sha256,
      schemaVersion: Number(f.schema_version ?? 1),
      after: f.key_from ? (JSON.parse(f.key_from) as string[]) : null,
      through: JSON.parse(f.key_to) as string[],
      runId: f.run_id,
    })),
  };
}

export function newRunId(): string {
  return randomUUID();
}
