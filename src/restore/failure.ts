import { errorMessage, isTablevaultError, runtimeError, TablevaultError } from '../errors.js';

/**
 * What a failed restore left in the target, said in its one-line error and in a whole backup's
 * summary (`tables[].left`):
 * - `nothing`: the table it was to create does not exist (one transaction, or built aside and dropped);
 * - `unchanged`: the table it was to replace holds its rows as before;
 * - `batches`: the batches committed before the failure stay (insert or upsert into an existing table);
 * - `objects`: a table too large for one transaction, committed object by object under its aside
 *   name, which a rerun of the same command resumes (`objects`: the numbers, from 1, of those
 *   committed, which several connections may have committed out of order);
 * - `aside`: the aside table could not be dropped; the next restore into the target drops it.
 */
export type RestoreLeft =
  | { kind: 'nothing' }
  | { kind: 'unchanged' }
  | { kind: 'batches' }
  | { kind: 'objects'; committed: number; of: number; aside: string; objects?: number[] }
  | { kind: 'aside'; aside: string };

export class RestoreError extends TablevaultError {
  readonly left: RestoreLeft;
  constructor(e: TablevaultError, left: RestoreLeft) {
    super(e.code, e.message, { exitCode: e.exitCode, cause: e.cause });
    this.left = left;
  }
}

function leftText(table: string, left: RestoreLeft): string {
  switch (left.kind) {
    case 'nothing':
      return `nothing of it was left (no table ${table} was created): fix the cause and rerun`;
    case 'unchanged':
      return `${table} is as it was before (its rows were not replaced): fix the cause and rerun`;
    case 'batches':
      return 'batches loaded before the failure stay (rerun with --mode replace, or upsert)';
    case 'objects':
      if (left.committed === left.of)
        return `all ${left.of} objects were committed into ${left.aside}, which was not put in place as ${table}: rerun the same command to finish, or drop ${left.aside} to start over`;
      if (left.objects && left.objects.some((o, i) => o !== i + 1))
        return `objects ${left.objects.join(', ')} of ${left.of} were committed into ${left.aside} (${table} was not created yet): rerun the same command to load the other ${left.of - left.committed}, or drop ${left.aside} to start over`;
      return `objects 1-${left.committed} of ${left.of} were committed into ${left.aside} (${table} was not created yet): rerun the same command to resume with object ${left.committed + 1}, or drop ${left.aside} to start over`;
    case 'aside':
      return `${table} was not changed; the rows were loaded into ${left.aside}, which could not be dropped: the next restore into ${table} drops it`;
  }
}

/** The restore's error, saying what failed and what it left; an input error (exit 2, nothing loaded) as it was. */
export function restoreFailure(table: string, e: unknown, left: RestoreLeft): RestoreError {
  const said = isTablevaultError(e)
    ? e.message
    : `restore into ${table} failed: ${errorMessage(e).replace(/\s*\n\s*/g, ' ')}`;
  const code = isTablevaultError(e) ? e.code : 'RESTORE_FAILED';
  return new RestoreError(runtimeError(code, `${said}; ${leftText(table, left)}`, e), left);
}
