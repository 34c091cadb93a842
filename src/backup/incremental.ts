import { createHash, randomUUID } from 'node:crypto';
import type { RecordBatch } from 'apache-arrow';
import { sql } from 'kysely';
import { inputError, runtimeError } from '../errors.js';
import { describeDiff, diffSchemas, isEmptyDiff } from './schema.js';
import { cellReader } from '../restore/values.js';
import type { Logger } from '../log.js';
import type { MemoryManager } from '../memory/manager.js';
import { ParquetEncoder } from '../parquet/encode.js';
import { deltaColumns, type IntegerEncoding } from '../parquet/compression.js';
import { joinKey } from '../s3/location.js';
import type { ColumnSpec, SourceTable } from '../source/columns.js';
import { quoteMysqlIdent, quotePgIdent, sqlAnd } from '../source/quote.js';
import type { Lag, ReadOptions, ReadStats, Source } from '../source/source.js';
import type { StateDb } from '../state/db.js';
import type { ObjectStore } from '../store/store.js';
import type { StrategyTable } from '../config/strategy.js';
import { VERSION } from '../version.js';
import { MANIFEST_NAME, parquetMetadata, putJson } from './objects.js';

export const INCREMENTAL_MANIFEST_FORMAT = 'tablevault.incremental.v1';

export interface TablePlan {
  table: SourceTable;
  /** The columns written (all, or the strategy's list plus the key columns). */
  columns: ColumnSpec[];
  /** (cursor, primary key…): the keyset and the watermark's shape. */
  keyColumns: string[];
  where?: string;
  /** Re-read window for rows committed late (strategy `lag`). */
  lag?: Lag;
  tableKey: string;
  tablePrefix: string;
  /** `day`: objects go under `dt=YYYY-MM-DD/` of their rows' cursor (UTC), one day per object. */
  partition?: 'day';
}

const TEMPORAL = new Set(['date', 'timestamp', 'timestamptz']);
const UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

function parseLag(where: string, lag: string | number | undefined, cursor: ColumnSpec): Lag | undefined {
  if (lag === undefined) return undefined;
  if (TEMPORAL.has(cursor.kind)) {
    const m = typeof lag === 'string' ? /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(lag) : null;
    if (!m) throw inputError('STRATEGY', `${where}: lag: cursor "${cursor.name}" is a ${cursor.dbType}; give lag as a duration such as 15m or 2h`);
    return { seconds: Number(m[1]) * UNITS[m[2]!]! };
  }
  if (typeof lag !== 'number') throw inputError('STRATEGY', `${where}: lag: cursor "${cursor.name}" is a ${cursor.dbType}; give lag as a number of cursor units`);
  return { amount: lag };
}

const ORDERABLE = new Set(['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'decimal', 'string', 'date', 'timestamp', 'timestamptz', 'float32', 'float64', 'time']);

/**
 * Checks a strategy table against the live schema, before anything is read, and works out what
 * will be read: the columns, the keyset (cursor, primary key…) and the filter.
 */
export function planIncremental(file: string, t: StrategyTable, table: SourceTable, destPrefix: string, destination: string): TablePlan {
  const where = `${file}: table ${t.table}`;
  const byName = new Map(table.columns.map((c) => [c.name, c]));
  const cursor = byName.get(t.cursor!);
  if (!cursor) throw inputError('STRATEGY', `${where}: cursor: column "${t.cursor}" does not exist in ${table.schema}.${table.name}`);
  if (!ORDERABLE.has(cursor.kind)) throw inputError('STRATEGY', `${where}: cursor: column "${t.cursor}" has type ${cursor.dbType}, which cannot order rows; use a timestamp or an ever-growing number`);
  if (cursor.nullable && !t.null_cursor) {
    throw inputError('STRATEGY', `${where}: cursor: column "${t.cursor}" is nullable; add null_cursor: skip (rows with a NULL cursor are not backed up) or null_cursor: fail, or make the column NOT NULL`);
  }
  const pk = t.primary_key ?? table.primaryKey;
  if (pk.length === 0) throw inputError('STRATEGY', `${where}: ${table.schema}.${table.name} has no primary key; set primary_key: [columns that identify a row]`);
  for (const k of pk) if (!byName.has(k)) throw inputError('STRATEGY', `${where}: primary_key: column "${k}" does not exist`);
  for (const c of t.columns ?? []) if (!byName.has(c)) throw inputError('STRATEGY', `${where}: columns: column "${c}" does not exist in ${table.schema}.${table.name}`);
  const keyColumns = [t.cursor!, ...pk.filter((k) => k !== t.cursor)];
  const lag = parseLag(where, t.lag, cursor);
  if (t.partition === 'day' && !TEMPORAL.has(cursor.kind)) {
    throw inputError('STRATEGY', `${where}: partition: day needs a date or timestamp cursor; "${cursor.name}" is ${cursor.dbType}`);
  }
  const wanted = t.columns ? new Set([...t.columns, ...keyColumns]) : undefined;
  const columns = wanted ? table.columns.filter((c) => wanted.has(c.name)) : table.columns;
  const q = table.engine === 'postgres' ? quotePgIdent : quoteMysqlIdent;
  const qualified = `${table.schema}.${table.name}`;
  return {
    table: { ...table, columns }, columns, keyColumns, lag,
    where: sqlAnd(t.where, cursor.nullable && t.null_cursor === 'skip' && `${q(cursor.name)} IS NOT NULL`),
    tableKey: `${qualified.slice(0, 200)}@${createHash('sha1').update(destination).digest('hex').slice(0, 16)}`,
    tablePrefix: joinKey(destPrefix, qualified),
    ...(t.partition === 'day' ? { partition: 'day' as const } : {}),
  };
}

export function incrementalObjectName(seq: number): string {
  return `incr-${String(seq).padStart(8, '0')}.parquet`;
}

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
  state: StateDb;
  source: Source;
  log: Logger;
  runId: string;
  settings: { batchRows: number; fileMaxRows: number; rowGroupRows: number; compression: 'zstd' | 'snappy' | 'gzip' | 'none'; integerEncoding?: IntegerEncoding };
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
}

const now = () => new Date().toISOString();

/**
 * Backs up the rows past the watermark, one object at a time. Each object's key is fixed by its
 * sequence number, and the sequence number and the watermark advance together, in one state-store
 * transaction, only after the object is durable: a run killed anywhere and run again writes the
 * same key from the same watermark, replacing whatever a half-finished attempt left.
 */
export async function backupIncremental(plan: TablePlan, ctx: IncrementalContext): Promise<IncrementalResult> {
  const { state, store, log } = ctx;
  const db = state.db;
  await db.insertInto('tablevault_tables')
    .values({ table_key: plan.tableKey, destination: store.label, source_table: `${plan.table.schema}.${plan.table.name}`, watermark: null, files: 0, rows: 0, bytes: 0, columns_json: null, last_run_id: null, updated_at: now() })
    .$call((qb) => state.dialect.ignoreDuplicates(qb))
    .execute();
  const row = await db.selectFrom('tablevault_tables').selectAll().where('table_key', '=', plan.tableKey).executeTakeFirstOrThrow();
  const schemaVersion = await resolveSchemaVersion(plan, ctx, row);
  if (ctx.reset) row.watermark = null;
  const before: string[] | null = row.watermark ? (JSON.parse(row.watermark) as string[]) : null;
  let watermark = before;
  let seq = row.files;
  if (ctx.nullCursor === 'fail') await failOnNullCursor(plan, ctx);
  const encoder = new ParquetEncoder();
  const result: IncrementalResult = { rows: 0, files: 0, bytes: 0, watermarkBefore: before, watermarkAfter: before, counters: [] };
  const record = (rows: number, bytes: number, stats: ReadStats) => {
    result.rows += rows;
    result.files++;
    result.bytes += bytes;
    for (const c of stats.counters) {
      const prev = result.counters.find((p) => p.column === c.column);
      if (prev) { prev.zeroDates += c.zeroDates; prev.notRepresentable += c.notRepresentable; } else result.counters.push({ ...c });
    }
  };
  /** The live batch size: the memory manager may shrink it between pages. */
  const live = { batchRows: ctx.settings.batchRows };
  /** Read options whose batchRows is always the live one, read by the reader for each page. */
  const liveRead = (o: Omit<ReadOptions, 'batchRows'>): ReadOptions => ({ ...o, get batchRows() { return live.batchRows; } });
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
    const key = joinKey(plan.tablePrefix, day ? `dt=${day}` : '', incrementalObjectName(seq));
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
      compression: ctx.settings.compression, rowGroupRows: ctx.settings.rowGroupRows, deltaColumns: deltaColumns(plan.table.columns, ctx.settings.integerEncoding),
      metadata: parquetMetadata(plan.table, {
        'tablevault.after': JSON.stringify(watermark), 'tablevault.schema_version': String(schemaVersion), 'tablevault.key_columns': JSON.stringify(plan.keyColumns),
        // with day partitions the cursor range is known up front: [day, next day); always in the row groups' column statistics
        ...(day ? { 'tablevault.partition': `dt=${day}`, 'tablevault.cursor_from': day, 'tablevault.cursor_before': nextDay(day) } : {}),
      }),
    });
    const put = await store.put({ key, body, contentType: 'application/vnd.apache.parquet' });
    await ctx.hook?.('after-upload');
    const through = to(stats);
    const versions = recent(stats).map(versionHash);
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('tablevault_files').values({
        table_key: plan.tableKey, seq, object_key: key, rows, bytes: put.bytes, sha256: put.sha256,
        key_from: watermark ? JSON.stringify(watermark) : null, key_to: JSON.stringify(through), run_id: ctx.runId, created_at: now(), schema_version: schemaVersion,
      }).execute();
      const upd = await tx.updateTable('tablevault_tables')
        .set({
          watermark: JSON.stringify(through), files: seq + 1,
          rows: sql`${sql.ref('rows')} + ${rows}`, bytes: sql`${sql.ref('bytes')} + ${put.bytes}`,
          columns_json: JSON.stringify(plan.columns), last_run_id: ctx.runId, updated_at: now(),
        })
        .where('table_key', '=', plan.tableKey).where('files', '=', seq)
        .executeTakeFirst();
      if (Number(upd.numUpdatedRows) !== 1) throw new Error(`state of ${plan.tableKey} changed under this run (another backup?); rerun`);
      for (let i = 0; i < versions.length; i += 500) {
        const chunk = versions.slice(i, i + 500).map((version) => ({ table_key: plan.tableKey, version }));
        await tx.insertInto('tablevault_recent').values(chunk)
          .$call((qb) => state.dialect.ignoreDuplicates(qb))
          .execute();
      }
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
      const day = plan.partition ? await nextRowDay(plan, from, ctx) : undefined;
      if (plan.partition && !day) break;
      const where = day ? sqlAnd(plan.where, beforeDaySql(plan.table, plan.columns.find((c) => c.name === cursor)!, nextDay(day))) : plan.where;
      const wrote = await writeAndCommit(
        (stats) => ctx.source.read(plan.table, liveRead({
          keyColumns: plan.keyColumns, after: from ?? undefined,
          maxRows: ctx.settings.fileMaxRows, where, stats,
          recordKeys: lag ? (last: string[]) => ctx.source.withinLagSql(plan.table, cursor, last[0]!, lag) : undefined,
        })),
        (stats) => stats.lastKey!,
        (stats) => stats.keys ?? [],
        day,
      );
      if (!wrote || (!plan.partition && wrote.rows < ctx.settings.fileMaxRows)) break;
    }
  } finally {
    await encoder.close();
  }
  await writeIncrementalManifest(plan, ctx);
  return result;
}

/**
 * The schema version new objects are written under: the last one recorded, or a new one when the
 * table changed in a way `on_schema_change: evolve` accepts (columns added or dropped, types
 * widened). Anything else fails this table with what changed and what to run. `--reset-table`
 * starts a new version whose backup begins again from nothing.
 */
async function resolveSchemaVersion(plan: TablePlan, ctx: IncrementalContext, row: { columns_json: string | null; files: number }): Promise<number> {
  const db = ctx.state.db;
  const name = ctx.tableName ?? `${plan.table.schema}.${plan.table.name}`;
  let latest = await db.selectFrom('tablevault_schemas').selectAll().where('table_key', '=', plan.tableKey).orderBy('version', 'desc').limit(1).executeTakeFirst();
  const insert = async (version: number, columns: ColumnSpec[], changes: string[] | null, reset: boolean) => {
    await db.transaction().execute(async (tx) => {
      await tx.insertInto('tablevault_schemas').values({
        table_key: plan.tableKey, version, columns_json: JSON.stringify(columns), key_columns: JSON.stringify(plan.keyColumns),
        changes: changes ? JSON.stringify(changes) : null, reset: reset ? 1 : 0, created_at: now(),
      }).execute();
      await tx.updateTable('tablevault_tables').set({ schema_version: version, ...(reset ? { watermark: null } : {}) }).where('table_key', '=', plan.tableKey).execute();
    });
    return version;
  };
  if (ctx.reset) {
    ctx.log.warn('--reset-table: a new full backup under a new schema version');
    return insert((latest?.version ?? 0) + 1, plan.columns, ['reset: a new full backup'], true);
  }
  if (!latest) {
    // the first run, or a state store from before schema versions: version 1 is what was backed up so far
    const recorded = row.files > 0 && row.columns_json ? (JSON.parse(row.columns_json) as ColumnSpec[]) : plan.columns;
    await insert(1, recorded, null, false);
    latest = await db.selectFrom('tablevault_schemas').selectAll().where('table_key', '=', plan.tableKey).where('version', '=', 1).executeTakeFirstOrThrow();
  }
  const d = diffSchemas(JSON.parse(latest.columns_json) as ColumnSpec[], plan.columns, JSON.parse(latest.key_columns) as string[], plan.keyColumns);
  if (isEmptyDiff(d)) return latest.version;
  const changes = describeDiff(d);
  const breaking = d.incompatible.length > 0 || d.keyChanged !== undefined;
  if (breaking || ctx.onSchemaChange === 'fail') {
    const run = `tablevault backup ${ctx.strategyFile ?? '<strategy.yaml>'} --only ${name} --reset-table ${name}`;
    throw runtimeError('SCHEMA_CHANGED', `${name} changed since its last backup (${changes.join('; ')}); ${breaking
      ? 'objects already written cannot be read under the new schema'
      : 'on_schema_change is fail'}. To start a new full backup under a new schema version, run: ${run}${breaking ? '' : ' (or set on_schema_change: evolve)'}`);
  }
  ctx.log.warn({ changes, version: latest.version + 1 }, 'the table changed; new objects use a new schema version');
  return insert(latest.version + 1, plan.columns, changes, false);
}

export function versionHash(key: string[]): string {
  return createHash('sha1').update(JSON.stringify(key)).digest('hex');
}

type WriteAndCommit = (
  read: (stats: ReadStats) => AsyncGenerator<RecordBatch>, to: (stats: ReadStats) => string[], recent: (stats: ReadStats) => string[][],
  /** day partitions: the object goes under dt=<day>/ */
  day?: string,
) => Promise<{ rows: number } | false>;

/** `YYYY-MM-DD` → the next day, in the proleptic Gregorian calendar. */
export function nextDay(day: string): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const t = new Date(0);
  t.setUTCFullYear(y, m - 1, d + 1); // unlike Date.UTC, years 0-99 stay what they are
  return `${String(t.getUTCFullYear()).padStart(4, '0')}-${String(t.getUTCMonth() + 1).padStart(2, '0')}-${String(t.getUTCDate()).padStart(2, '0')}`;
}

/** SQL: the cursor is before the start (UTC) of `day`. */
function beforeDaySql(t: SourceTable, cursor: ColumnSpec, day: string): string {
  const q = t.engine === 'postgres' ? quotePgIdent : quoteMysqlIdent;
  const literal = cursor.kind === 'date' ? `'${day}'` : t.engine === 'postgres' && cursor.kind === 'timestamptz' ? `'${day} 00:00:00+00'` : `'${day} 00:00:00'`;
  return `${q(cursor.name)} < ${literal}`;
}

/** The cursor day (UTC, `YYYY-MM-DD`) of the first row past the watermark, or undefined when there is none. */
async function nextRowDay(plan: TablePlan, after: string[] | null, ctx: IncrementalContext): Promise<string | undefined> {
  const keyCols = plan.columns.filter((c) => plan.keyColumns.includes(c.name));
  const cursor = keyCols.find((c) => c.name === plan.keyColumns[0])!;
  for await (const b of ctx.source.read({ ...plan.table, columns: keyCols }, { batchRows: 1, maxRows: 1, keyColumns: plan.keyColumns, after: after ?? undefined, where: plan.where })) {
    if (b.numRows === 0) continue;
    const text = cellReader(cursor, b.getChild(cursor.name)!.data[0]!, plan.table.engine)(0);
    if (typeof text === 'string') return text.slice(0, 10);
  }
  return undefined;
}

/**
 * The lag window (watermark.cursor − lag, watermark]: row versions there that no earlier object
 * holds were committed late; they are written as objects of their own (the watermark stays).
 * Recorded versions that left the window are pruned.
 */
async function backupLateRows(
  plan: TablePlan, lag: Lag, watermark: string[], ctx: IncrementalContext,
  writeAndCommit: WriteAndCommit, liveRead: (o: Omit<ReadOptions, 'batchRows'>) => ReadOptions,
): Promise<void> {
  const { source, state } = ctx;
  const t = plan.table;
  const windowWhere = sqlAnd(plan.where, `NOT ${source.tupleAfterSql(t, plan.keyColumns, watermark)}`, source.withinLagSql(t, plan.keyColumns[0]!, watermark[0]!, lag));
  const window = await source.readKeys(t, plan.keyColumns, windowWhere);
  const recorded = new Set((await state.db.selectFrom('tablevault_recent').select('version').where('table_key', '=', plan.tableKey).execute()).map((r) => r.version));
  const hashes = window.map(versionHash);
  const late = window.filter((_, i) => !recorded.has(hashes[i]!));
  const inWindow = new Set(hashes);
  const stale = [...recorded].filter((v) => !inWindow.has(v));
  for (let i = 0; i < stale.length; i += 500) {
    await state.db.deleteFrom('tablevault_recent').where('table_key', '=', plan.tableKey).where('version', 'in', stale.slice(i, i + 500)).execute();
  }
  if (late.length) ctx.log.info({ rows: late.length }, 'rows committed late, within the lag window');
  const chunk = Math.min(1000, ctx.settings.fileMaxRows);
  // with day partitions, late rows go to their own day's folder: grouped by the cursor's day (its key text starts with it)
  const groups = new Map<string | undefined, string[][]>();
  for (const k of late) {
    const day = plan.partition ? k[0]!.slice(0, 10) : undefined;
    groups.set(day, [...(groups.get(day) ?? []), k]);
  }
  for (const [day, keysOfDay] of groups) {
    for (let i = 0; i < keysOfDay.length; i += chunk) {
      const keys = keysOfDay.slice(i, i + chunk);
      const where = sqlAnd(plan.where, source.tupleInSql(t, plan.keyColumns, keys));
      await writeAndCommit(
        (stats) => source.read(t, liveRead({ keyColumns: plan.keyColumns, where, stats })),
        () => watermark,
        () => keys,
        day,
      );
    }
  }
}

async function failOnNullCursor(plan: TablePlan, ctx: IncrementalContext): Promise<void> {
  const cursor = plan.keyColumns[0]!;
  const q = plan.table.engine === 'postgres' ? quotePgIdent : quoteMysqlIdent;
  const rows = ctx.source.read({ ...plan.table, columns: plan.columns.filter((c) => c.name === cursor), primaryKey: [] }, {
    batchRows: 1, maxRows: 1, where: `${q(cursor)} IS NULL`, keyColumns: [],
  });
  for await (const b of rows) {
    if (b.numRows > 0) throw inputError('NULL_CURSOR', `${plan.table.schema}.${plan.table.name}: rows have a NULL ${cursor} and null_cursor is fail; fix the rows or set null_cursor: skip`);
  }
}

/** The table's manifest, from the state store: everything needed to read the backup from the bucket alone. */
export async function writeIncrementalManifest(plan: TablePlan, ctx: { store: ObjectStore; state: StateDb }): Promise<void> {
  const t = await ctx.state.db.selectFrom('tablevault_tables').selectAll().where('table_key', '=', plan.tableKey).executeTakeFirstOrThrow();
  const files = await ctx.state.db.selectFrom('tablevault_files').selectAll().where('table_key', '=', plan.tableKey).orderBy('seq').execute();
  const schemas = await ctx.state.db.selectFrom('tablevault_schemas').selectAll().where('table_key', '=', plan.tableKey).orderBy('version').execute();
  const manifest = {
    format: INCREMENTAL_MANIFEST_FORMAT,
    tablevaultVersion: VERSION,
    source: { engine: plan.table.engine, schema: plan.table.schema, table: plan.table.name },
    columns: plan.columns,
    keyColumns: plan.keyColumns,
    schemaVersion: Number(t.schema_version ?? 1),
    // every version's columns: objects written under an older one lack added columns and hold narrower types
    schemas: schemas.map((v) => ({
      version: v.version, columns: JSON.parse(v.columns_json) as ColumnSpec[], keyColumns: JSON.parse(v.key_columns) as string[],
      changes: v.changes ? JSON.parse(v.changes) as string[] : [], reset: Boolean(v.reset), createdAt: v.created_at,
    })),
    watermark: t.watermark ? JSON.parse(t.watermark) as string[] : null,
    rows: Number(t.rows),
    files: files.map((f) => ({
      name: f.object_key.slice(plan.tablePrefix.length + 1), rows: Number(f.rows), bytes: Number(f.bytes), sha256: f.sha256, schemaVersion: Number(f.schema_version ?? 1),
      after: f.key_from ? JSON.parse(f.key_from) as string[] : null, through: JSON.parse(f.key_to) as string[], runId: f.run_id,
      // rows committed late, found in the lag window: their cursors are at or below `after`
      late: f.key_from !== null && f.key_from === f.key_to,
    })),
    updatedAt: now(),
  };
  await putJson(ctx.store, joinKey(plan.tablePrefix, MANIFEST_NAME), manifest);
}

export function newRunId(): string { return randomUUID(); }
