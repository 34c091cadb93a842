import { isTablevaultError } from '../errors.js';
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
