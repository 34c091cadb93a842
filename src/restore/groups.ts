import { runtimeError } from '../errors.js';
import { exposedGc } from '../memory/gc.js';
import type { LoadBatch, LoadPlan, Loader } from '../source/loader.js';

/**
 * A restore's batches in transactions of `--batch-rows` rows for a loader that streams several
 * batches as one statement (Loader.loadMany: MySQL's LOAD DATA), so they are decoded 10,000 rows
 * at a time (DEFAULTS.restore.streamBatchRows) and hold that much memory, not a transaction's.
 *
 * And a full collection every ROWS_PER_COLLECTION rows streamed: turning values into text leaves
 * garbage of which V8 promotes some to the old generation (about 250 bytes a row, the heap's used
 * size growing ~25 MB per 100k rows between full collections), and it collects that only at about
 * three times the live heap (~21 MB). Restoring the --restore-database bench's 244 tables into
 * MariaDB with two jobs (single runs), peak RSS was 220-230 MB with V8's own collections, 216 MB
 * with one every 200k rows, 176-193 MB every 100k, 169-185 MB every 50k; each takes ~10 ms.
 */

/** Rows streamed (loadMany) between two full collections, counted over every table the process restores. */
const ROWS_PER_COLLECTION = 50_000;
let rowsSinceCollection = 0;

/** The batches in transactions of up to `rows` rows, each a loader.loadMany of consecutive batches. */
export async function loadInGroups(loader: Loader, plan: LoadPlan, batches: AsyncIterator<LoadBatch>, rows: number) {
  let next = await batches.next();
  while (!next.done) {
    let n = 0;
    let taken = 0;
    const group = async function* (): AsyncGenerator<LoadBatch> {
      for (; !next.done && n < rows; next = await batches.next()) {
        n += next.value.numRows;
        taken++;
        yield next.value;
      }
    };
    await loader.loadMany!(plan, group());
    if (taken === 0)
      throw runtimeError('RESTORE_FAILED', 'the loader took no batch of a transaction: nothing is loading');
    rowsSinceCollection += n;
    if (rowsSinceCollection >= ROWS_PER_COLLECTION) {
      rowsSinceCollection = 0;
      exposedGc()?.();
    }
  }
}
