import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { PeakMemory } from '../memory/peak.js';
import { redactUrl } from '../redact.js';
import type { S3Options } from '../s3/client.js';
import { parseTableRef, type ColumnSpec, type TableRef } from '../source/columns.js';
import { engineFor, engineNamed } from '../source/engine.js';
import type { LoadPlan, Loader } from '../source/loader.js';
import type { Source } from '../source/source.js';
import type { ProgressSink } from '../progress.js';
import type { OpenedBackup } from '../manifest/open.js';
import { columnsAddedLater, type BackupFile, type BackupManifest } from '../manifest/view.js';
import { CHOICES, DEFAULTS } from '../defaults.js';
import { oneOf, wholeNumber } from '../config/validate.js';
import { addPrimaryKeySql, createTableSql } from './ddl.js';
import { loadInGroups } from './groups.js';
import { restoreBatches, type BatchCounts } from './batches.js';
import { buildAside, type Aside } from './aside.js';
import { restoreFailure, type RestoreLeft } from './failure.js';
import { openTableRestore, type TableOpening } from './opening.js';
import { selectFiles } from './select-files.js';
import { chooseWay, leftBy, loadInChunks } from './ways.js';

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
  /** The crash tests' hook (cli/test-hook.ts): called at `restore-object`, once an object's batches are all given to the loader. */
  hook?: (point: string) => Promise<void>;
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
  /** A chunked load resumed (see LoadWay): the objects an earlier, failed run had committed, skipped. */
  resumedObjects?: number;
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

export { openTableRestore, type TableOpening } from './opening.js';
export { RestoreError, type RestoreLeft } from './failure.js';

/**
 * Loads a table's backup into a database: reads the manifest, then each Parquet object one batch
 * at a time, with the target's fast path (binary `COPY FROM STDIN` for PostgreSQL, `LOAD DATA
 * LOCAL` for MySQL). An incremental backup is applied in file order with "newest cursor wins" per
 * primary key, so the table ends at the latest version of every row (or the one as of `asOf`)
 * without holding the history in memory. A tombstone object (`kind: 'deletes'`) deletes every
 * version of its keys from the objects before it; a version after it is loaded as any other.
 * A table it creates, or replaces, is never left half-loaded where the engine allows (see LoadWay);
 * a failure's error says what was left (RestoreError.left).
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
  // what a failure leaves: before the first statement that changes the target, nothing
  let left: () => Promise<RestoreLeft> = () => Promise.resolve({ kind: 'nothing' });
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
    checkTarget(opts, m, described.value);
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
    const rowFiles = files.filter((f) => f.kind !== 'deletes');
    const estimatedRows = rowFiles.reduce((n, f) => n + f.rows, 0);
    const replacing = exists && mode === 'replace';
    const { way, warning } = await chooseWay(loader, { ref, created, replacing, plan, rows: estimatedRows });
    left = () => Promise.resolve(leftBy(way, created));
    // a new table into an engine with transactional DDL: the key built once after the data (as pg_restore does)
    const keyLater = created && (way === 'transaction' || way === 'chunks') && m.primaryKey.length > 0;
    // a column added after the first of these objects is NULL in the older ones
    const later = columnsAddedLater(m, rowFiles);
    const ddl = (t: TableRef) =>
      createTableSql(
        t,
        m.columns.map((c) => (later.has(c.name) ? { ...c, nullable: true } : c)),
        m.primaryKey,
        from,
        engine,
        keyLater,
      );
    if (created) log.info({ table: opts.table, way }, "creating the table from the backup's schema");
    if (way === 'batches') {
      if (created) await loader.execute(ddl(ref));
      else if (replacing) await loader.truncate(ref);
      if (created || replacing) left = () => Promise.resolve({ kind: 'batches' });
    }
    let aside: Aside | undefined;
    if (way === 'aside') {
      aside = await buildAside(loader, engine, opts.target, ref, created ? ddl : undefined);
      left = aside.left;
      plan.table = aside.ref;
    }
    // a transaction's batches streamed into one statement (MySQL's LOAD DATA): decoded small, each
    // transaction still --batch-rows rows
    const grouped =
      (way === 'batches' || way === 'aside') && loader.loadMany !== undefined && plan.conflict === 'insert';
    // batches of one transaction are one COPY or LOAD DATA: decoded in small ones (see DEFAULTS.restore)
    const oneLoad = way === 'transaction' || way === 'chunks' || grouped;
    const decodeRows = oneLoad ? Math.min(batchRows, DEFAULTS.restore.streamBatchRows) : batchRows;
    const counts: BatchCounts = { rows: 0, deletedKeys: 0, unrepresentable: {} };
    opts.progress?.({ table: opts.table, estimatedRows });
    const src = { store: backup.store, prefix: backup.prefix, manifest: m, from, engine, decodeRows };
    const batchesOf = (fs: BackupFile[]) =>
      restoreBatches(src, fs, counts, {
        batch(f, batch) {
          if (!batch.deletes) opts.progress?.({ table: opts.table, rows: batch.numRows });
          peak.sample();
          log.debug({ file: f.name, rows: counts.rows }, batch.deletes ? 'deleted keys applied' : 'batch loaded');
        },
        async file(f) {
          log.info({ file: f.name, rows: counts.rows, deletedKeys: counts.deletedKeys }, 'object restored');
          await opts.hook?.('restore-object');
        },
      });
    let resumed = 0;
    if (way === 'transaction') {
      await loader.loadTable!(
        {
          plan,
          ...(created ? { create: ddl(ref) } : { empty: true }),
          after: keyLater ? [addPrimaryKeySql(ref, m.primaryKey, engine)] : [],
        },
        batchesOf(files),
      );
    } else if (way === 'chunks') {
      const progress = { committed: 0, aside: '' };
      left = () =>
        Promise.resolve(
          progress.committed
            ? { kind: 'objects', committed: progress.committed, of: files.length, aside: progress.aside }
            : { kind: 'nothing' },
        );
      resumed = await loadInChunks(loader, { ref, plan, files, create: ddl, batchesOf, engine, log, progress });
      if (resumed)
        log.warn({ table: opts.table, objects: resumed }, 'resumed: objects committed by an earlier run were skipped');
    } else if (grouped) {
      await loadInGroups(loader, plan, batchesOf(files), batchRows);
    } else {
      for await (const batch of batchesOf(files)) await loader.load(plan, batch);
    }
    if (aside) await aside.putInPlace();
    const { rows, deletedKeys, unrepresentable } = counts;
    const warnings = [
      ...(warning ? [`${opts.table}: ${warning}`] : []),
      ...(aside?.warning() ?? []),
      ...Object.entries(unrepresentable).map(
        ([c, n]) => `column "${c}": ${n} value(s) the target cannot hold were loaded as NULL`,
      ),
    ];
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
      ...(resumed ? { resumedObjects: resumed } : {}),
      rows,
      deletedKeys,
      unrepresentable,
      warnings,
      ...(loader.formats ? { formats: formatsSince(formatsBefore, loader.formats) } : {}),
      durationMs: Date.now() - started,
      peakRssBytes: peak.rss,
    };
  } catch (e) {
    if (isTablevaultError(e) && e.exitCode === 2) throw e;
    throw restoreFailure(opts.table, e, await left());
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

/** An existing table must have every column the backup has; a missing one needs --create. */
function checkTarget(opts: RestoreOptions, m: BackupManifest, existing: ColumnSpec[] | undefined): void {
  if (!existing && !opts.create)
    throw inputError(
      'TABLE_NOT_FOUND',
      `table ${opts.table} does not exist in ${redactUrl(opts.target)}; create it, or pass --create to create it from the backup's schema`,
    );
  if (!existing) return;
  const missing = m.columns.filter((c) => !existing.some((e) => e.name === c.name)).map((c) => c.name);
  if (missing.length)
    throw inputError(
      'COLUMNS',
      `table ${opts.table} lacks column(s) ${missing.join(', ')} that the backup has; add them or restore into a new table with --create`,
    );
}

/** Batches per wire format loaded since `before` (a loader's counts then). */
function formatsSince(before: Record<string, number>, now: Readonly<Record<string, number>>): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([k, n]) => [k, n - (before[k] ?? 0)]));
}
