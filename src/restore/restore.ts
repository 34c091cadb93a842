import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { PeakMemory } from '../memory/peak.js';
import { redactUrl } from '../redact.js';
import type { S3Options } from '../s3/client.js';
import { parseTableRef, type TableRef } from '../source/columns.js';
import { engineFor, engineNamed } from '../source/engine.js';
import type { LoadPlan, Loader } from '../source/loader.js';
import type { Source } from '../source/source.js';
import type { ProgressSink } from '../progress.js';
import type { OpenedBackup } from '../manifest/open.js';
import { columnsAddedLater, type BackupFile, type BackupManifest } from '../manifest/view.js';
import { CHOICES, DEFAULTS } from '../defaults.js';
import { oneOf, wholeNumber } from '../config/validate.js';
import { createTableSql } from './ddl.js';
import { restoreBatches, type BatchCounts } from './batches.js';
import { restoreFailure, type RestoreLeft } from './failure.js';
import { addFormats, formatsSince, loadByWay, streamsBatches } from './load-way.js';
import { checkTarget, openTableRestore, type TableOpening } from './opening.js';
import { selectFiles } from './select-files.js';
import { ownHelpers, splitRows, type Helpers } from './split.js';
import { chooseWay, leftBy, oneTransactionRows } from './ways.js';

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
  /**
   * Connections to load the table's objects over at once (1 to 16), when it is a full export of
   * several objects and at least DEFAULTS.restore.splitRows rows, created or replaced (into
   * PostgreSQL: created): each connection decodes one object at a time. Default 1.
   */
  jobs?: number;
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
  /** A table whose objects loaded over several connections at once: objects loaded per connection, its own first. */
  connections?: number[];
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
  /** Connections that may load the table's objects alongside its own (a whole backup's idle jobs); instead of `jobs`. */
  helpers?: Helpers;
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
  const jobs = wholeNumber('--jobs', opts.jobs, { max: DEFAULTS.restore.maxJobs }, 1);
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
  let own: ReturnType<typeof ownHelpers> | undefined;
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
    const helpers =
      deps.helpers ?? (jobs > 1 ? (own = ownHelpers(jobs - 1, () => engine.openLoader(opts.target))) : undefined);
    // objects that may load in any order, enough rows to be worth the connections
    const split =
      (helpers?.count ?? 0) > 0 &&
      !incremental &&
      plan.conflict === 'insert' &&
      rowFiles.length > 1 &&
      estimatedRows >= splitRows();
    const { way, warning } = await chooseWay(loader, { ref, created, replacing, plan, rows: estimatedRows, split });
    left = () => Promise.resolve(leftBy(way, created));
    if (!split || (way !== 'chunks' && way !== 'aside')) helpers?.decided();
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
    if (created) log.info({ table: opts.table, way, split }, "creating the table from the backup's schema");
    // batches of one transaction are one COPY or LOAD DATA: decoded in small ones (see DEFAULTS.restore),
    // split between the connections that may decode at once, so that they hold what one would
    const connections = split ? 1 + helpers!.count : 1;
    const decodeRows = streamsBatches(way, loader, plan)
      ? Math.min(batchRows, Math.ceil(DEFAULTS.restore.streamBatchRows / connections))
      : batchRows;
    const counts: BatchCounts = { rows: 0, deletedKeys: 0, unrepresentable: {} };
    opts.progress?.({ table: opts.table, estimatedRows });
    const src = { store: backup.store, prefix: backup.prefix, manifest: m, from, engine, decodeRows };
    const batchesOf = (fs: BackupFile[], connection = 0) =>
      restoreBatches(src, fs, counts, {
        batch(f, batch) {
          if (!batch.deletes) opts.progress?.({ table: opts.table, rows: batch.numRows });
          peak.sample();
          log.debug({ file: f.name, rows: counts.rows }, batch.deletes ? 'deleted keys applied' : 'batch loaded');
        },
        async file(f) {
          log.info(
            { file: f.name, rows: counts.rows, deletedKeys: counts.deletedKeys, ...(split ? { connection } : {}) },
            'object restored',
          );
          await opts.hook?.('restore-object');
        },
      });
    const loaded = await loadByWay({
      loader,
      engine,
      target: opts.target,
      ref,
      plan,
      files,
      way,
      created,
      replacing,
      ddl,
      keyLater,
      ...(split ? { helpers: helpers! } : {}),
      keep: estimatedRows > oneTransactionRows(),
      batchRows,
      batchesOf,
      log,
      setLeft: (l) => (left = l),
    });
    const { rows, deletedKeys, unrepresentable } = counts;
    const warnings = [
      ...(warning ? [`${opts.table}: ${warning}`] : []),
      ...loaded.warnings,
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
      ...(loaded.resumed ? { resumedObjects: loaded.resumed } : {}),
      rows,
      deletedKeys,
      unrepresentable,
      warnings,
      ...(loader.formats
        ? { formats: addFormats(formatsSince(formatsBefore, loader.formats), loaded.helperFormats) }
        : {}),
      ...(loaded.perConnection ? { connections: loaded.perConnection } : {}),
      durationMs: Date.now() - started,
      peakRssBytes: peak.rss,
    };
  } catch (e) {
    if (isTablevaultError(e) && e.exitCode === 2) throw e;
    throw restoreFailure(opts.table, e, await left());
  } finally {
    peak.stop();
    deps.helpers?.decided();
    await own?.close();
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
