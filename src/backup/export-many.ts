import { abortableSource, isStopped } from '../abort.js';
import { wholeNumber } from '../config/validate.js';
import { DEFAULTS, MAX_PARALLEL } from '../defaults.js';
import { errorMessage, inputError, isTablevaultError } from '../errors.js';
import { silentLogger, type Logger } from '../log.js';
import { EncoderPool } from '../parquet/encoder-pool.js';
import { parseTablePattern, type TablePattern } from '../plan/patterns.js';
import { resolveTables } from '../plan/tables.js';
import { observedSource } from '../progress.js';
import { qualifiedName, quotedName } from '../source/columns.js';
import { openSource } from '../source/open.js';
import { openDestination } from '../store/open.js';
import { exportSettings } from './export-options.js';
import { exportTable, type ExportOptions, type ExportSummary } from './export.js';

export interface ExportManyOptions extends Omit<ExportOptions, 'table'> {
  /** A table, a pattern (`public.*`), or undefined: every table of the database. */
  table?: string;
  /** Patterns left out. */
  exclude?: string[];
  /** Tables exported at once (default 1). */
  parallel?: number;
}

export interface ExportManySummary {
  tables: ExportSummary[];
  failed: Array<{ table: string; error: string }>;
  /** Tables not started: stopped by a signal. */
  stopped: string[];
  /** How consistent the tables are with one another (see RunSnapshot.kind), and why not when they are not. */
  snapshot: { kind: string; warning?: string };
}

/** True when `table` names more than one table: a pattern, or nothing (the whole database). */
export function isMultiTable(table: string | undefined): boolean {
  if (table === undefined) return true;
  try {
    return !parseTablePattern(table).exact;
  } catch {
    return false; // exportTable says what is wrong with the name
  }
}

function pattern(text: string, flag: string): TablePattern {
  try {
    return parseTablePattern(text);
  } catch (e) {
    throw inputError('TABLE_NAME', `${flag}: ${errorMessage(e)}`);
  }
}

/**
 * Exports every base table a pattern matches (or, without `table`, every table of the
 * database) as exportTable does one, sharing one source, one destination and one encoder per
 * concurrent table. Views are never matched by a pattern; a partitioned PostgreSQL table is
 * exported once, through its parent. A table that fails is reported and the others go on.
 */
export async function exportTables(
  opts: ExportManyOptions,
  deps: { logger?: Logger } = {},
): Promise<ExportManySummary> {
  const log = deps.logger ?? silentLogger();
  const parallel = wholeNumber('--parallel', opts.parallel, { max: MAX_PARALLEL }, DEFAULTS.backup.parallel);
  const excludes = (opts.exclude ?? []).map((x) => pattern(x, '--exclude'));
  // the options are checked (a placeholder name stands in for the tables) before anything is opened
  const upload = exportSettings({ ...opts, table: 'x' }).upload;
  const source = observedSource(abortableSource(await openSource(opts.source), opts.signal), opts.progress);
  const dest = openDestination(opts.dest, opts.s3 ?? {}, upload);
  // the encoder threads compile their WebAssembly while the destination, the catalog and the
  // snapshot are waited on (see runBackup)
  const pool = new EncoderPool(parallel).warm();
  try {
    await dest.store.check();
    const catalog = await source.catalog();
    const entry = {
      pattern: pattern(opts.table ?? catalog.wholeDatabase, '--table'),
      excludes,
      partitions: 'parent' as const,
    };
    const { tables } = resolveTables([entry], [], catalog);
    if (!tables.length)
      throw inputError(
        'TABLE_NOT_FOUND',
        `--table ${opts.table ?? '(every table)'}: no table of ${source.label} matches; --table takes schema.table or a pattern such as public.*`,
      );
    // every table (and chunk) reads one snapshot, so the tables agree with one another as pg_dump's do
    const snapshot = await source.openSnapshot(parallel);
    const summary: ExportManySummary = {
      tables: [],
      failed: [],
      stopped: [],
      snapshot: { kind: snapshot.kind, ...(snapshot.warning ? { warning: snapshot.warning } : {}) },
    };
    if (snapshot.warning) log.warn(snapshot.warning);
    const queue = [...tables];
    const worker = async () => {
      for (let t = queue.shift(); t; t = queue.shift()) {
        const name = qualifiedName(t.relation.table);
        if (opts.signal?.aborted) {
          summary.stopped.push(name);
          continue;
        }
        try {
          summary.tables.push(
            await exportTable(
              { ...opts, table: quotedName(t.relation.table), parallel },
              {
                logger: log.child({ table: name }),
                encoders: (fn) => pool.use(fn),
                snapshot,
                source,
                dest,
                table: t.relation.table,
              },
            ),
          );
        } catch (e) {
          if (isTablevaultError(e) && e.exitCode === 2) throw e;
          if (!isStopped(e)) log.error({ table: name, err: errorMessage(e) }, 'table failed');
          summary.failed.push({ table: name, error: errorMessage(e) });
        }
      }
    };
    try {
      await Promise.all(Array.from({ length: Math.min(parallel, tables.length) }, worker));
    } finally {
      await snapshot.close();
    }
    const order = new Map(tables.map((t, i) => [qualifiedName(t.relation.table), i]));
    summary.tables.sort((a, b) => order.get(a.table)! - order.get(b.table)!);
    return summary;
  } finally {
    await pool.close();
    await source.close().catch(() => {});
    dest.store.close();
  }
}
