import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { chooseBackupTables, type BackupTable } from '../manifest/backup-tables.js';
import { PeakMemory } from '../memory/peak.js';
import type { ProgressSink } from '../progress.js';
import { redactUrl } from '../redact.js';
import type { S3Options } from '../s3/client.js';
import { parseTableRef, quotedName } from '../source/columns.js';
import { engineFor } from '../source/engine.js';
import type { Loader } from '../source/loader.js';
import type { Source } from '../source/source.js';
import { DEFAULTS } from '../defaults.js';
import { RestoreError, type RestoreLeft } from './failure.js';
import { JobPool, type Helpers } from './split.js';
import { openTableRestore, restoreTable, type RestoreMode, type RestoreSummary, type TableOpening } from './restore.js';

export interface RestoreManyOptions {
  /** s3://bucket/prefix (or file:///dir): a backup's destination, holding one folder per table. */
  from: string;
  /** postgres://… or mysql://… */
  target: string;
  /** Table patterns (`shop.*`, `*.orders`; without a schema, a name in any schema). Default: every table. */
  tables?: string[];
  exclude?: string[];
  /** Every table into this schema (MySQL: database) instead of its own. */
  targetSchema?: string;
  /** Incremental tables as they were after this backup run (see RestoreOptions.asOf). */
  asOf?: string;
  create?: boolean;
  mode?: RestoreMode;
  batchRows?: number;
  /**
   * Connections loading at once (1 to 16): tables, each on a connection of its own, and a large
   * full export's objects (see RestoreOptions.jobs), which the jobs with no table left to start
   * help to load. Default 1.
   */
  jobs?: number;
  s3?: S3Options;
  progress?: ProgressSink;
  /** The crash tests' hook (see RestoreOptions.hook). */
  hook?: (point: string) => Promise<void>;
}

/** One table of a whole-backup restore. */
export interface TableRestore {
  /** The backed-up table, `schema.table`. */
  table: string;
  /** Where it went, `schema.table` in the target. */
  target: string;
  status: 'ok' | 'failed';
  format?: RestoreSummary['format'];
  created?: boolean;
  files: number;
  rows: number;
  /** Keys of the tombstone objects applied (see RestoreSummary.deletedKeys). */
  deletedKeys: number;
  seconds: number;
  unrepresentable: Record<string, number>;
  warnings: string[];
  error?: string;
  /** A failed table: what it left in the target (nothing, the table unchanged, committed batches…; see RestoreLeft). */
  left?: RestoreLeft;
  /** Its objects loaded over several connections at once: objects per connection, its own first (see RestoreSummary.connections). */
  connections?: number[];
}

export interface RestoreManySummary {
  from: string;
  target: string;
  jobs: number;
  tables: TableRestore[];
  rows: number;
  deletedKeys: number;
  failed: number;
  durationMs: number;
  peakRssBytes: number;
}

/** Errors about the target itself, which every other table would meet too: the restore stops. */
const STOPS_ALL: ReadonlySet<string> = new Set(['SOURCE_URL', 'SOURCE_UNREACHABLE', 'SOURCE_AUTH', 'SOURCE_DATABASE']);

/**
 * Restores every table of a backup (or those `tables` match, less `exclude`) into a target
 * database, `jobs` tables at once, each through `restoreTable`: a table that fails is reported
 * and the others go on. Tables start largest first (by the bytes of their objects), so the last to finish is not a
 * large one started late. `from` may also be one table's folder. The summary lists the tables in
 * the order they started.
 *
 * @example
 * ```ts
 * const s = await restoreTables({
 *   from: 's3://backups/nightly',
 *   target: 'postgres://restore@scratch:5432/drill',
 *   tables: ['shop.*'],
 *   targetSchema: 'drill',
 *   create: true,
 *   jobs: 2,
 * });
 * for (const t of s.tables) console.log(t.table, t.status, t.rows);
 * ```
 */
export async function restoreTables(
  opts: RestoreManyOptions,
  deps: { logger?: Logger } = {},
): Promise<RestoreManySummary> {
  const log = deps.logger ?? silentLogger();
  const started = Date.now();
  const jobs = opts.jobs ?? 1;
  if (!Number.isInteger(jobs) || jobs < 1 || jobs > DEFAULTS.restore.maxJobs)
    throw inputError('OPTION', `--jobs ${jobs}: give a whole number from 1 to ${DEFAULTS.restore.maxJobs}`);
  const engine = await engineFor(opts.target, '--target');
  const chosen = await chooseBackupTables(opts.from, opts.s3, opts.tables, opts.exclude);
  const peak = new PeakMemory().start();
  // one pool to describe tables with, and a loader per job kept across its tables: a connection
  // per table would be a server process forked per table on PostgreSQL, for hundreds of small ones
  const source = await engine.openSource(opts.target, { maxConnections: Math.min(jobs, chosen.length) + 1 });
  try {
    if (opts.create) await createSchemas(engine, opts, chosen);
    const results: TableRestore[] = new Array<TableRestore>(chosen.length);
    let next = 0;
    let stop = false; // a table met an error every table would: the others take no new table
    // the next table's manifest (and its target's columns) read while this one loads: a small
    // table's restore is a few round trips, and waiting for these too was a third of its time.
    // Only when no two tables go to one target: the first may create what the second describes
    const targets = chosen.map((t) => quotedName(targetOf(t, opts)));
    const readAhead = new Set(targets).size === targets.length;
    const opened = new Map<number, TableOpening>();
    const open = (i: number) => {
      if (i >= chosen.length || opened.has(i)) return;
      opened.set(i, openTableRestore(chosen[i]!.url, opts.s3, source, parseTableRef(targets[i]!)));
    };
    const take = (i: number): TableOpening | undefined => {
      const o = opened.get(i);
      opened.delete(i);
      return o;
    };
    const pool = new JobPool(jobs);
    const worker = async () => {
      let loader: Loader | undefined;
      try {
        for (let i = next++; i < chosen.length && !stop; i = next++) {
          const helpers = pool.forTable();
          try {
            const opening = take(i);
            if (readAhead) open(next);
            loader ??= await engine.openLoader(opts.target);
            results[i] = await restoreOne(chosen[i]!, opts, log, { source, loader, opening, helpers });
          } catch (e) {
            stop = true;
            throw e;
          } finally {
            helpers.decided();
          }
          // a table that failed may have left its connection mid-statement: the next gets a new one
          if (results[i]!.status === 'failed') {
            await loader.close();
            loader = undefined;
          }
        }
        // no table left to start: the objects of a large one another job is loading
        for (let load = await pool.next(); load && !stop; load = await pool.next()) {
          loader ??= await engine.openLoader(opts.target).catch(() => undefined);
          if (!loader) break;
          if (!(await load.work(loader))) {
            await loader.close();
            loader = undefined;
          }
        }
      } finally {
        await loader?.close();
      }
    };
    // every job, however few the tables: one with no table of its own helps with a large one's objects
    const settled = await Promise.allSettled(Array.from({ length: jobs }, worker));
    // stopped early: what was read ahead for tables no job took
    for (const o of opened.values())
      void o.backup.then(
        (b) => b.close(),
        () => {},
      );
    const stopped = settled.find((r) => r.status === 'rejected');
    if (stopped) throw stopped.reason;
    peak.stop();
    return {
      from: redactUrl(opts.from),
      target: redactUrl(opts.target),
      jobs,
      tables: results,
      rows: results.reduce((n, r) => n + r.rows, 0),
      deletedKeys: results.reduce((n, r) => n + r.deletedKeys, 0),
      failed: results.filter((r) => r.status === 'failed').length,
      durationMs: Date.now() - started,
      peakRssBytes: peak.rss,
    };
  } finally {
    peak.stop();
    await source.close().catch(() => {});
  }
}

/** With --create, the schemas (MySQL: databases) the tables go into, made where missing. */
async function createSchemas(
  engine: Awaited<ReturnType<typeof engineFor>>,
  opts: RestoreManyOptions,
  tables: BackupTable[],
): Promise<void> {
  const schemas = [...new Set(tables.map((t) => opts.targetSchema ?? t.schema))];
  const loader = await engine.openLoader(opts.target);
  try {
    for (const s of schemas) await loader.execute(engine.ddl.createSchemaSql(s));
  } finally {
    await loader.close();
  }
}

function targetOf(t: BackupTable, opts: RestoreManyOptions): { schema: string; name: string } {
  return { schema: opts.targetSchema ?? t.schema, name: t.name };
}

async function restoreOne(
  t: BackupTable,
  opts: RestoreManyOptions,
  log: Logger,
  conns: { source: Source; loader: Loader; opening?: TableOpening; helpers: Helpers },
): Promise<TableRestore> {
  const table = `${t.schema}.${t.name}`;
  const into = targetOf(t, opts);
  const target = `${into.schema}.${into.name}`;
  const started = Date.now();
  const tlog = log.child({ table });
  try {
    const s = await restoreTable(
      {
        from: t.url,
        target: opts.target,
        table: quotedName(into),
        asOf: opts.asOf,
        create: opts.create,
        mode: opts.mode,
        batchRows: opts.batchRows,
        s3: opts.s3,
        progress: opts.progress,
        hook: opts.hook,
      },
      { logger: tlog, ...conns },
    );
    tlog.info({ rows: s.rows, deletedKeys: s.deletedKeys, target }, 'table restored');
    return {
      table,
      target,
      status: 'ok',
      format: s.format,
      created: s.created,
      files: s.files,
      rows: s.rows,
      deletedKeys: s.deletedKeys,
      seconds: s.durationMs / 1000,
      unrepresentable: s.unrepresentable,
      warnings: s.warnings,
      ...(s.connections ? { connections: s.connections } : {}),
    };
  } catch (e) {
    // bad input that concerns every table (a target that cannot be reached) stops the restore
    if (isTablevaultError(e) && STOPS_ALL.has(e.code)) throw e;
    tlog.error({ err: errorMessage(e) }, 'table failed');
    return {
      table,
      target,
      status: 'failed',
      files: 0,
      rows: 0,
      deletedKeys: 0,
      seconds: (Date.now() - started) / 1000,
      unrepresentable: {},
      warnings: [],
      error: errorMessage(e),
      ...(e instanceof RestoreError ? { left: e.left } : {}),
    };
  }
}
