import { inputError, isTablevaultError } from '../errors.js';
import type { BackupManifest } from '../manifest/view.js';
import { redactUrl } from '../redact.js';
import { openBackup, type OpenedBackup } from '../manifest/open.js';
import type { S3Options } from '../s3/client.js';
import type { ColumnSpec, TableRef } from '../source/columns.js';
import type { Source } from '../source/source.js';

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

/** An existing table must have every column the backup has; a missing one needs --create. */
export function checkTarget(
  opts: { table: string; target: string; create?: boolean },
  m: BackupManifest,
  existing: ColumnSpec[] | undefined,
): void {
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
