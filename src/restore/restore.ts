import { errorMessage, inputError, isTablevaultError, runtimeError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { PeakMemory } from '../memory/peak.js';
import { redactUrl } from '../redact.js';
import type { S3Options } from '../s3/client.js';
import { parseTableRef, type ColumnSpec, type TableRef } from '../source/columns.js';
import { engineFor, engineNamed } from '../source/engine.js';
import type { LoadPlan, Loader } from '../source/loader.js';
import type { Source } from '../source/source.js';
import type { ProgressSink } from '../progress.js';
import { openBackup, type OpenedBackup } from '../manifest/open.js';
import {
  columnsAddedLater,
  expiredRun,
  filesThrough,
  runEnd,
  type BackupManifest,
  type FileChoice,
} from '../manifest/view.js';
import { CHOICES, DEFAULTS } from '../defaults.js';
import { oneOf, wholeNumber } from '../config/validate.js';
import { addPrimaryKeySql, createTableSql } from './ddl.js';
import { loadInGroups } from './groups.js';
import { restoreBatches, type BatchCounts } from './batches.js';

export type RestoreMode = 'insert' | 'upsert' | 'replace';

export interface RestoreOptions {
  /** s3://bucket/prefix/<schema.table> (or file:///dir/<schema.table>): the table's backup. */
  from: string;
  /** postgres://… or mysql://… */
  target: string;
  /** [schema.]table to load into. */
  table: string;
  /** Incremental backups: the table as it was after this backup run (its run id from the manifest or `status`). */
  asOf?: string;
  /** Create the table from the manifest's schema when it does not exist. */
  create?: boolean;
  /** insert (default): add rows; upsert: replace rows with the same primary key; replace: empty the table first. */
  mode?: RestoreMode;
  /** Rows per batch and per transaction (a table restored in one transaction, `create` into PostgreSQL: decoded at most 10,000 at a time). Default 50,000. */
  batchRows?: number;
  s3?: S3Options;
  /** Rows loaded, as they go (the CLI's progress line). */
  progress?: ProgressSink;
}

export interface RestoreSummary {
  from: string;
  target: string;
  table: string;
  format: BackupManifest['format'];
  mode: RestoreMode;
  created: boolean;
  files: number;
  /** The base generation (compaction) the objects start with, when one covers the point restored. */
  generation?: number;
  /** Rows loaded (for an incremental backup: row versions applied, the newest per key kept). */
  rows: number;
  /**
   * Keys of the tombstone objects applied (an incremental backup with deletions): each deleted
   * every version of its key from the objects before it. Counted as read, whether or not the
   * target held the key.
   */
  deletedKeys: number;
  /** Per column: values the target type cannot hold, loaded as NULL (the restore fails instead when the column is NOT NULL). */
  unrepresentable: Record<string, number>;
  warnings: string[];
  /** Batches loaded per wire format, where the target's loader tells (PostgreSQL: binary COPY, or text for types it has no binary writer for). */
  formats?: Record<string, number>;
  durationMs: number;
  peakRssBytes: number;
}

/**
 * Which objects to apply: all (the latest state), or an incremental backup's as of the last file
 * of run `asOf` (the table's run, or the whole backup run it was part of), each starting at the
 * newest base generation that fits (filesThrough); tombstone objects of the runs up to it
 * included, later ones not, like row objects. A full export keeps only its latest copy: as
 * of the backup run that made it, or not at all.
 */
function selectFiles(m: BackupManifest, asOf: string | undefined, from: string): FileChoice {
  if (m.format !== 'tablevault.incremental.v1') {
    if (asOf === undefined || m.backupRunId === asOf) return { files: m.files };
    throw inputError(
      'AS_OF',
      `--as-of ${asOf}: ${from} is a full export, which keeps only its latest copy${m.backupRunId ? ` (made by backup run ${m.backupRunId})` : ''}; restore it without --as-of`,
    );
  }
  if (asOf === undefined) return filesThrough(m);
  if (m.keptFrom && expiredRun(m, asOf)) {
    const k = m.keptFrom;
    throw inputError(
      'AS_OF',
      `--as-of ${asOf}: ${from} no longer keeps that run (retention expired it, or it never wrote there); the oldest kept run is ${k.runId}${k.backupRunId ? ` (backup run ${k.backupRunId})` : ''} of ${k.at}: restore --as-of it or a later run`,
    );
  }
  const end = runEnd(m, asOf);
  if (end < 0) {
    const runs = [...new Set(m.files.map((f) => f.runId))];
    throw inputError(
      'AS_OF',
      `--as-of ${asOf}: no backup run with that id wrote to ${from}; its runs are ${runs.slice(-5).join(', ')}${runs.length > 5 ? ' (last 5)' : ''}`,
    );
  }
  return filesThrough(m, end);
}

/**
 * Loads a table's backup into a database: reads the manifest, then each Parquet object one batch
 * at a time, and loads each batch in its own transaction with the target's fast path
 * (`COPY FROM STDIN` for PostgreSQL, multi-row INSERT for MySQL). An incremental backup is applied
 * in file order with "newest cursor wins" per primary key, so the table ends at the latest version
 * of every row (or the one as of `asOf`) without holding the history in memory. A tombstone
 * object (`kind: 'deletes'`) deletes every version of its keys from the objects before it; a
 * version after it (the key inserted again) is loaded as any other.
 *
 * @example
 * ```ts
 * import { restoreTable } from 'tablevault';
 *
 * const s = await restoreTable({
 *   from: 's3://backups/nightly/public.orders',
 *   target: 'postgres://restore@scratch:5432/drill',
 *   table: 'public.orders',
 *   create: true,
 *   mode: 'replace',
 * });
 * console.log(`${s.rows} rows from ${s.files} objects`, s.unrepresentable);
 * ```
 */
/**
 * What restoreTable may be given instead of opening its own: a whole-backup restore's target
 * connections, kept across its tables (each new connection is a server process forked on
 * PostgreSQL). The caller owns and closes them; a loader that failed a table should not be reused.
 */
export interface RestoreDeps {
  logger?: Logger;
  /** The target, for describing the table (a pool). */
  source?: Source;
  /** A loader into the target, used by one table at a time. */
  loader?: Loader;
  /** The table's manifest and target columns, read already (openTableRestore with this table's from, s3 and ref). */
  opening?: TableOpening;
}

/** What a table's restore reads before its first statement: the backup's manifest, the target table's columns (undefined: no such table). */
export interface TableOpening {
  backup: Promise<OpenedBackup>;
  existing: Promise<ColumnSpec[] | undefined>;
}

/**
 * Starts both reads at once (two waits on the way to the first statement, not one after the
 * other); a whole-backup restore starts the next table's while this one loads. Whoever gets it
 * passes it to restoreTable (RestoreDeps.opening), which closes the backup, or closes it itself.
 */
export function openTableRestore(from: string, s3: S3Options | undefined, source: Source, ref: TableRef): TableOpening {
  const backup = openBackup(from, s3);
  const existing = source.describe(ref).then(
    (t) => t.columns,
    (e: unknown) => {
      if (isTablevaultError(e) && e.code === 'TABLE_NOT_FOUND') return undefined;
      throw e;
    },
  );
  // awaited by restoreTable; until then a failure must not be an unhandled rejection
  backup.catch(() => {});
  existing.catch(() => {});
  return { backup, existing };
}

export async function restoreTable(opts: RestoreOptions, deps: RestoreDeps = {}): Promise<RestoreSummary> {
  const log = deps.logger ?? silentLogger();
  const started = Date.now();
  const mode = oneOf('--mode', opts.mode, CHOICES.restoreMode, DEFAULTS.restore.mode);
  const batchRows = wholeNumber('--batch-rows', opts.batchRows, {}, DEFAULTS.restore.batchRows);
  let ref: TableRef;
  try {
    ref = parseTableRef(opts.table);
  } catch (e) {
    throw inputError('TABLE', `--table: ${errorMessage(e)}`);
  }

  const engine = await engineFor(opts.target, '--target');
  const source = deps.source ?? (await engine.openSource(opts.target)); // connects lazily: a bad URL fails here, before any read
  const peak = new PeakMemory().start();
  let backup: OpenedBackup | undefined;
  let loader: Loader | undefined;
  try {
    const opening = deps.opening ?? openTableRestore(opts.from, opts.s3, source, ref);
    const [opened, described] = await Promise.allSettled([opening.backup, opening.existing]);
    if (opened.status === 'rejected') throw opened.reason;
    backup = opened.value;
    if (described.status === 'rejected') throw described.reason;
    const m = backup.manifest;
    const from = m.source.engine === engine.name ? engine : await engineNamed(m.source.engine);
    const choice = selectFiles(m, opts.asOf, opts.from);
    const files = choice.files;
    if (choice.generation !== undefined)
      log.info({ generation: choice.generation, objects: files.length }, 'reading from a base generation');
    const incremental = m.format === 'tablevault.incremental.v1';
    const exists = described.value !== undefined;
    const existing: ColumnSpec[] = described.value ?? [];
    if (!exists && !opts.create)
      throw inputError(
        'TABLE_NOT_FOUND',
        `table ${opts.table} does not exist in ${redactUrl(opts.target)}; create it, or pass --create to create it from the backup's schema`,
      );
    if (exists) {
      const missing = m.columns.filter((c) => !existing.some((e) => e.name === c.name)).map((c) => c.name);
      if (missing.length)
        throw inputError(
          'COLUMNS',
          `table ${opts.table} lacks column(s) ${missing.join(', ')} that the backup has; add them or restore into a new table with --create`,
        );
    }
    if ((incremental || mode === 'upsert') && m.primaryKey.length === 0)
      throw inputError(
        'NO_KEY',
        `${mode === 'upsert' ? '--mode upsert' : 'an incremental restore'} needs a primary key, and the backup's table has none; use --mode insert or replace`,
      );
    loader = deps.loader ?? (await engine.openLoader(opts.target));
    // a loader kept across tables counts all of their batches: this table's are the difference
    const formatsBefore = { ...(loader.formats ?? {}) };
    const created = !exists;
    const plan: LoadPlan = {
      table: ref,
      columns: m.columns,
      primaryKey: m.primaryKey,
      cursor: m.cursor,
      // an incremental backup holds several versions of a row: the newest cursor wins; a full export holds one
      conflict: incremental ? 'newest' : mode === 'upsert' ? 'upsert' : 'insert',
    };
    // a new table into an engine with transactional DDL: created, loaded and keyed in one transaction,
    // the key built once after the data (as pg_restore does)
    const oneTransaction = created && loader.loadTable !== undefined;
    const keyLater = oneTransaction && m.primaryKey.length > 0;
    let ddl: string | undefined;
    if (created) {
      // a column added after the first of these objects is NULL in the older ones
      const later = columnsAddedLater(
        m,
        files.filter((f) => f.kind !== 'deletes'),
      );
      ddl = createTableSql(
        ref,
        m.columns.map((c) => (later.has(c.name) ? { ...c, nullable: true } : c)),
        m.primaryKey,
        from,
        engine,
        keyLater,
      );
      log.info({ table: opts.table }, "creating the table from the backup's schema");
      if (!oneTransaction) await loader.execute(ddl);
    } else if (mode === 'replace') {
      await loader.truncate(ref);
    }
    // a transaction's batches streamed into one statement (MySQL's LOAD DATA): decoded small, each
    // transaction still --batch-rows rows
    const grouped = !oneTransaction && loader.loadMany !== undefined && plan.conflict === 'insert';
    // batches of one transaction are one COPY or LOAD DATA: decoded in small ones (see DEFAULTS.restore)
    const decodeRows = oneTransaction || grouped ? Math.min(batchRows, DEFAULTS.restore.streamBatchRows) : batchRows;
    const counts: BatchCounts = { rows: 0, deletedKeys: 0, unrepresentable: {} };
    const rowFiles = files.filter((f) => f.kind !== 'deletes');
    opts.progress?.({ table: opts.table, estimatedRows: rowFiles.reduce((n, f) => n + f.rows, 0) });
    const src = { store: backup.store, prefix: backup.prefix, manifest: m, from, engine, decodeRows };
    const batches = () =>
      restoreBatches(src, files, counts, {
        batch(f, batch) {
          if (!batch.deletes) opts.progress?.({ table: opts.table, rows: batch.numRows });
          peak.sample();
          log.debug({ file: f.name, rows: counts.rows }, batch.deletes ? 'deleted keys applied' : 'batch loaded');
        },
        file(f) {
          log.info({ file: f.name, rows: counts.rows, deletedKeys: counts.deletedKeys }, 'object restored');
        },
      });
    if (oneTransaction) {
      try {
        await loader.loadTable!(
          { plan, create: ddl, after: keyLater ? [addPrimaryKeySql(ref, m.primaryKey, engine)] : [] },
          batches(),
        );
      } catch (e) {
        if (isTablevaultError(e)) throw e;
        throw runtimeError(
          'RESTORE_FAILED',
          `restore into ${opts.table} failed: ${errorMessage(e)}; nothing was loaded and the table was not created (one transaction): fix the cause and rerun`,
          e,
        );
      }
    } else if (grouped) {
      await loadInGroups(loader, plan, batches(), batchRows);
    } else {
      for await (const batch of batches()) await loader.load(plan, batch);
    }
    const { rows, deletedKeys, unrepresentable } = counts;
    const warnings = Object.entries(unrepresentable).map(
      ([c, n]) => `column "${c}": ${n} value(s) the target cannot hold were loaded as NULL`,
    );
    peak.stop();
    return {
      from: opts.from,
      target: redactUrl(opts.target),
      table: opts.table,
      format: m.format,
      mode,
      created,
      files: files.length,
      ...(choice.generation !== undefined ? { generation: choice.generation } : {}),
      rows,
      deletedKeys,
      unrepresentable,
      warnings,
      ...(loader.formats ? { formats: formatsSince(formatsBefore, loader.formats) } : {}),
      durationMs: Date.now() - started,
      peakRssBytes: peak.rss,
    };
  } catch (e) {
    if (isTablevaultError(e)) throw e;
    throw runtimeError(
      'RESTORE_FAILED',
      `restore into ${opts.table} failed: ${errorMessage(e)}; batches loaded before the failure stay (rerun with --mode replace, or upsert)`,
      e,
    );
  } finally {
    peak.stop();
    if (!deps.loader) await loader?.close();
    if (!deps.source) await source.close().catch(() => {});
    if (backup) backup.close();
    // given one but stopped before taking it: its store is closed all the same
    else
      void deps.opening?.backup.then(
        (b) => b.close(),
        () => {},
      );
  }
}

/** Batches per wire format loaded since `before` (a loader's counts then). */
function formatsSince(before: Record<string, number>, now: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([k, n]) => [k, n - (before[k] ?? 0)]));
}
