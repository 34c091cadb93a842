import { inputError } from '../errors.js';
import type { RunTable } from '../plan/run-tables.js';

/** `--confirm-deletes`: each must be a table of the run that detects deletes. */
export function checkConfirmDeletes(names: string[], tables: RunTable[], file: string): void {
  for (const r of names) {
    const t = tables.find((x) => x.name === r);
    if (!t) throw inputError('CONFIRM_DELETES', `--confirm-deletes ${r}: not a table of ${file}`);
    if (t.settings.strategy !== 'incremental' || t.settings.deletes !== 'detect')
      throw inputError(
        'CONFIRM_DELETES',
        `--confirm-deletes ${r}: only incremental tables with deletes: detect record deleted keys`,
      );
  }
}

/** `--reset-table`: each must be an incremental table of the run. */
export function checkResetTables(names: string[], tables: RunTable[], file: string): void {
  for (const r of names) {
    const t = tables.find((x) => x.name === r);
    if (!t) throw inputError('RESET_TABLE', `--reset-table ${r}: not a table of ${file}`);
    if (t.settings.strategy !== 'incremental')
      throw inputError(
        'RESET_TABLE',
        `--reset-table ${r}: a full table is copied whole every run; there is nothing to reset`,
      );
  }
}
