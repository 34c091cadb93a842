import { abortableSource, isStopped } from '../abort.js';
import { MAX_PARALLEL } from '../defaults.js';
import { observedSource, observedStore, type ProgressSink } from '../progress.js';
import { exportTable, validateMemoryOptions } from './export.js';
import { DEFAULT_MEMORY_OPTIONS, MemoryManager, type MemoryOptions } from '../memory/manager.js';
import { PeakMemory } from '../memory/peak.js';
import { backupIncremental, newRunId, planIncremental, type TablePlan } from './incremental.js';
import { loadStrategy, type Strategy } from '../config/strategy.js';
import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import type { S3Options } from '../s3/client.js';
import { DEFAULT_UPLOADER_OPTIONS, validateUploaderOptions, type UploaderOptions } from '../s3/uploader.js';
import { parseTableRef, qualifiedName } from '../source/columns.js';
import { checkLocation, syncPrefixes } from '../sync/sync.js';
import { openSource } from '../source/open.js';
import type { Source } from '../source/source.js';
import { migrateState, openStateDb, withLock, type StateDb } from '../state/db.js';
import { openDestination } from '../store/open.js';

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

export interface MirrorResult { dest: string; copied: number; skipped: number; failed: number; bytes: number; error?: string }

export interface BackupSummary { strategy: string; tables: TableResult[]; peakRssBytes: number; peakHeapBytes: number }

const now = () => new Date().toISOString();

function s3Options(s: Strategy): S3Options {
  return { endpoint: s.s3.endpoint, region: s.s3.region, maxAttempts: s.s3.max_attempts };
}

function uploaderOptions(s: Strategy): UploaderOptions {
  return validateUploaderOptions({ ...DEFAULT_UPLOADER_OPTIONS, sse: s.s3.sse, sseKmsKeyId: s.s3.sse_kms_key_id, storageClass: s.s3.storage_class });
}

export { MAX_PARALLEL };

export function selectTables(s: Strategy, only?: string[]): Strategy['tables'] {
  if (!only?.length) return s.tables;
  const unknown = only.filter((o) => !s.tables.some((t) => t.table === o));
  if (unknown.length) throw inputError('ONLY', `--only ${unknown.join(', ')}: not in ${s.file}; it lists ${s.tables.map((t) => t.table).join(', ')}`);
  return s.tables.filter((t) => only.includes(t.table));
}

/**
 * Runs a strategy: every table (or --only some) is validated against the live schema first, then
 * backed up, one after another (or --parallel N), each under a lock in the state store so two
 * runs never back up the same table at once (the second reports it busy).
 */
export async function runBackup(opts: BackupOptions, deps: { logger?: Logger } = {}): Promise<BackupSummary> {
  const log = deps.logger ?? silentLogger();
  const strategy = loadStrategy(opts.strategy);
  const tables = selectTables(strategy, opts.only);
  for (const r of opts.resetTables ?? []) {
    const t = strategy.tables.find((x) => x.table === r);
    if (!t) throw inputError('ONLY', `--reset-table ${r}: not in ${strategy.file}`);
    if (t.strategy !== 'incremental') throw inputError('ONLY', `--reset-table ${r}: a full table is copied whole every run; there is nothing to reset`);
  }
  const parallel = opts.parallel ?? 1;
  if (!Number.isInteger(parallel) || parallel < 1 || parallel > MAX_PARALLEL) throw inputError('OPTION', `--parallel must be from 1 to ${MAX_PARALLEL}; got ${parallel}`);
  const source = observedSource(abortableSource(await openSource(strategy.source), opts.signal), opts.progress);
  const state = await openStateDb(opts.state ?? strategy.state ?? strategy.source);
  const dest = openDestination(strategy.destination, s3Options(strategy), uploaderOptions(strategy));
  const memory = validateMemoryOptions({ ...DEFAULT_MEMORY_OPTIONS, ...opts.memory });
  const peak = new PeakMemory().start();
  try {
    await dest.store.check();
    // a mirror that cannot work fails the run up front, not after the backups
    for (const [i, m] of strategy.mirror.entries()) {
      await checkLocation(m.dest, { endpoint: m.endpoint ?? strategy.s3.endpoint, region: m.region ?? strategy.s3.region, profile: m.profile }, `${strategy.file}: mirror[${i}].dest`);
    }
    // every table is checked before any is read: a typo in the file fails the run up front
    const plans = new Map<string, TablePlan | undefined>();
    const prefixes = new Map<string, string>();
    for (const t of tables) {
      let ref;
      try { ref = parseTableRef(t.table); } catch (e) { throw inputError('STRATEGY', `${strategy.file}: table ${t.table}: ${errorMessage(e)}`); }
      let described;
      try {
        described = await source.describe(ref);
      } catch (e) {
        if (isTablevaultError(e) && e.code === 'TABLE_NOT_FOUND') throw inputError('STRATEGY', `${strategy.file}: table ${t.table}: ${e.message}`);
        throw e;
      }
      prefixes.set(t.table, qualifiedName(described));
      plans.set(t.table, t.strategy === 'incremental' ? planIncremental(strategy.file, t, described, dest.prefix, strategy.destination) : undefined);
    }
    if (!opts.dryRun) await migrateState(state);
    const results: TableResult[] = [];
    const queue = [...tables];
    const worker = async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        if (opts.signal?.aborted) {
          results.push({ table: t.table, strategy: t.strategy, status: 'stopped', rows: 0, files: 0, bytes: 0, watermarkBefore: null, watermarkAfter: null, durationMs: 0, warnings: ['not started: stopped by a signal'] });
          continue;
        }
        const r = await backupTable(t, plans.get(t.table), { strategy, source, state, dest, log, opts, memory, peak });
        if (r.status === 'ok' && strategy.mirror.length) await mirrorTable(r, prefixes.get(t.table)!, strategy, log.child({ table: t.table }));
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
    await state.db.destroy().catch(() => {});
    dest.store.close();
  }
}

interface RunContext {
  strategy: Strategy;
  source: Source;
  state: StateDb;
  dest: ReturnType<typeof openDestination>;
  log: Logger;
  opts: BackupOptions;
  memory: MemoryOptions;
  peak: PeakMemory;
}

async function backupTable(t: Strategy['tables'][number], plan: TablePlan | undefined, ctx: RunContext): Promise<TableResult> {
  const started = Date.now();
  const base: TableResult = { table: t.table, strategy: t.strategy, status: 'ok', rows: 0, files: 0, bytes: 0, watermarkBefore: null, watermarkAfter: null, durationMs: 0, warnings: [] };
  const log = ctx.log.child({ table: t.table });
  if (ctx.opts.dryRun) {
    const row = plan ? await ctx.state.db.selectFrom('tablevault_tables').select('watermark').where('table_key', '=', plan.tableKey).executeTakeFirst().catch(() => undefined) : undefined;
    const wm = row?.watermark ? (JSON.parse(row.watermark) as string[]) : null;
    return { ...base, status: 'planned', watermarkBefore: wm, watermarkAfter: wm };
  }
  const lockName = plan?.tableKey ?? `full:${t.table}@${ctx.strategy.destination}`;
  const runId = newRunId();
  try {
    const outcome = await withLock(ctx.state, lockName, async () => {
      await ctx.state.db.insertInto('tablevault_runs').values({
        id: runId, table_key: lockName, started_at: now(), finished_at: null, status: 'running', rows: 0, files: 0, bytes: 0, watermark_before: null, watermark_after: null, error: null,
      }).execute();
      let r: TableResult;
      try {
        if (plan) {
          const inc = await backupIncremental(plan, {
            store: observedStore(ctx.dest.store, ctx.opts.progress), state: ctx.state, source: ctx.source, log, runId, hook: ctx.opts.hook, nullCursor: t.null_cursor,
            onSchemaChange: t.on_schema_change ?? 'evolve', reset: ctx.opts.resetTables?.includes(t.table), strategyFile: ctx.strategy.file, tableName: t.table,
            memory: new MemoryManager(ctx.memory, ctx.peak, log),
            settings: { batchRows: t.batch_rows, fileMaxRows: t.file_max_rows, rowGroupRows: Math.min(t.row_group_rows, t.file_max_rows), compression: t.compression, integerEncoding: t.integer_encoding },
          });
          const warnings = inc.counters.flatMap((c) => [
            ...(c.zeroDates ? [`column "${c.column}": ${c.zeroDates} MySQL zero date(s) backed up as NULL`] : []),
            ...(c.notRepresentable ? [`column "${c.column}": ${c.notRepresentable} value(s) Parquet cannot hold backed up as NULL`] : []),
          ]);
          r = { ...base, rows: inc.rows, files: inc.files, bytes: inc.bytes, watermarkBefore: inc.watermarkBefore, watermarkAfter: inc.watermarkAfter, warnings, durationMs: Date.now() - started };
        } else {
          const ex = await exportTable({
            source: ctx.strategy.source, table: t.table, dest: ctx.strategy.destination, compression: t.compression, integerEncoding: t.integer_encoding,
            batchRows: t.batch_rows, fileMaxRows: t.file_max_rows, rowGroupRows: t.row_group_rows,
            s3: s3Options(ctx.strategy), upload: uploaderOptions(ctx.strategy), memory: ctx.memory, signal: ctx.opts.signal, progress: ctx.opts.progress,
          }, { logger: log });
          r = { ...base, rows: ex.rows, files: ex.files.length, bytes: ex.bytes, warnings: ex.warnings, durationMs: Date.now() - started };
        }
      } catch (e) {
        await ctx.state.db.updateTable('tablevault_runs').set({ finished_at: now(), status: 'failed', error: errorMessage(e) }).where('id', '=', runId).execute().catch(() => {});
        throw e;
      }
      await ctx.state.db.updateTable('tablevault_runs').set({
        finished_at: now(), status: 'ok', rows: r.rows, files: r.files, bytes: r.bytes,
        watermark_before: r.watermarkBefore ? JSON.stringify(r.watermarkBefore) : null, watermark_after: r.watermarkAfter ? JSON.stringify(r.watermarkAfter) : null,
      }).where('id', '=', runId).execute();
      return r;
    });
    if (outcome === 'busy') {
      log.warn('another backup holds this table; skipped');
      return { ...base, status: 'busy', durationMs: Date.now() - started, warnings: ['skipped: another backup run holds this table'] };
    }
    return outcome;
  } catch (e) {
    if (isTablevaultError(e) && e.exitCode === 2 && e.code !== 'NULL_CURSOR') throw e;
    if (isStopped(e)) {
      log.warn('stopped by a signal; committed objects stand');
      return { ...base, status: 'stopped', error: errorMessage(e), durationMs: Date.now() - started };
    }
    log.error({ err: errorMessage(e) }, 'table failed');
    return { ...base, status: 'failed', error: errorMessage(e), durationMs: Date.now() - started };
  }
}

/**
 * Syncs one table's prefix to each `mirror:` target after a successful run: only new or changed
 * objects travel (server-side on one endpoint), the manifest last. A failed mirror fails the table
 * (its backup itself is done and its watermark stands); the next run syncs again.
 */
async function mirrorTable(r: TableResult, qualified: string, strategy: Strategy, log: Logger): Promise<void> {
  r.mirrors = [];
  for (const m of strategy.mirror) {
    const from = `${strategy.destination.replace(/\/+$/, '')}/${qualified}`;
    const to = `${m.dest.replace(/\/+$/, '')}/${qualified}`;
    try {
      const s = await syncPrefixes({
        source: from, dest: to,
        sourceS3: { endpoint: strategy.s3.endpoint, region: strategy.s3.region, maxAttempts: strategy.s3.max_attempts },
        destS3: { endpoint: m.endpoint ?? strategy.s3.endpoint, region: m.region ?? strategy.s3.region, profile: m.profile, maxAttempts: strategy.s3.max_attempts },
        storageClass: m.storage_class, sse: m.sse, sseKmsKeyId: m.sse_kms_key_id,
      }, { logger: log });
      const copied = s.copied.serverSide + s.copied.streamed;
      r.mirrors.push({ dest: to, copied, skipped: s.skipped, failed: s.failed, bytes: s.bytes });
      if (s.failed > 0) {
        r.status = 'failed';
        r.error = `backed up, but ${s.failed} object(s) could not be mirrored to ${to} (first: ${s.failures[0]?.key}: ${s.failures[0]?.error}); the next run mirrors again`;
      }
    } catch (e) {
      r.mirrors.push({ dest: to, copied: 0, skipped: 0, failed: 0, bytes: 0, error: errorMessage(e) });
      r.status = 'failed';
      r.error = `backed up, but mirroring to ${to} failed: ${errorMessage(e)}; the next run mirrors again`;
      log.error({ err: errorMessage(e), mirror: to }, 'mirror failed');
    }
  }
}

export interface StatusRow {
  table: string;
  strategy: 'incremental' | 'full';
  watermark: string[] | null;
  files: number;
  rows: number;
  bytes: number;
  lastRun: { status: string; startedAt: string; finishedAt: string | null; rows: number; error: string | null } | null;
  /** Incremental tables: the schema version new objects are written under, and every change seen (oldest first). */
  schemaVersion?: number;
  schemaChanges?: Array<{ version: number; changes: string[]; at: string }>;
}

/** Watermark, last run, rows/files/bytes per table, from the state store. */
export async function backupStatus(opts: { strategy: string; state?: string }): Promise<StatusRow[]> {
  const strategy = loadStrategy(opts.strategy);
  const state = await openStateDb(opts.state ?? strategy.state ?? strategy.source);
  const source = await openSource(strategy.source);
  const dest = openDestination(strategy.destination, s3Options(strategy), uploaderOptions(strategy));
  try {
    await migrateState(state);
    const out: StatusRow[] = [];
    for (const t of strategy.tables) {
      let key = `full:${t.table}@${strategy.destination}`;
      if (t.strategy === 'incremental') {
        const described = await source.describe(parseTableRef(t.table));
        key = planIncremental(strategy.file, t, described, dest.prefix, strategy.destination).tableKey;
      }
      const row = await state.db.selectFrom('tablevault_tables').selectAll().where('table_key', '=', key).executeTakeFirst();
      const run = await state.db.selectFrom('tablevault_runs').selectAll().where('table_key', '=', key).orderBy('started_at', 'desc').limit(1).executeTakeFirst();
      out.push({
        table: t.table, strategy: t.strategy,
        watermark: row?.watermark ? (JSON.parse(row.watermark) as string[]) : null,
        files: row ? Number(row.files) : (run ? Number(run.files) : 0), rows: row ? Number(row.rows) : (run ? Number(run.rows) : 0), bytes: row ? Number(row.bytes) : (run ? Number(run.bytes) : 0),
        lastRun: run ? { status: run.status, startedAt: run.started_at, finishedAt: run.finished_at, rows: Number(run.rows), error: run.error } : null,
        ...(t.strategy === 'incremental' ? {
          schemaVersion: row ? Number(row.schema_version ?? 1) : 1,
          schemaChanges: (await state.db.selectFrom('tablevault_schemas').selectAll().where('table_key', '=', key).where('changes', 'is not', null).orderBy('version').execute())
            .map((v) => ({ version: v.version, changes: JSON.parse(v.changes!) as string[], at: v.created_at })),
        } : {}),
      });
    }
    return out;
  } finally {
    await source.close().catch(() => {});
    await state.db.destroy().catch(() => {});
    dest.store.close();
  }
}

