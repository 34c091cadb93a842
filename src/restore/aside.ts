import { createHash } from 'node:crypto';
import { errorMessage, runtimeError } from '../errors.js';
import type { TableRef } from '../source/columns.js';
import type { Engine } from '../source/engine.js';
import type { Loader } from '../source/loader.js';
import type { RestoreLeft } from './failure.js';

/**
 * The names of the tables a restore builds beside its target: `tablevault_restoring_<name>` while
 * it loads (a table under that name is never complete: a killed restore leaves it, and the next
 * restore into the same target drops it, or, for PostgreSQL's chunked load, resumes it), and
 * `tablevault_replaced_<name>` for the old table between a swap and its drop. Within 63 bytes
 * (PostgreSQL's identifier limit; MySQL's is 64 characters): a long name is cut and given a hash
 * of the whole, so two long names do not share one.
 */
const MAX_BYTES = 63;

export function asideRef(t: TableRef, kind: 'restoring' | 'replaced'): TableRef {
  const prefix = `tablevault_${kind}_`;
  const whole = prefix + t.name;
  if (Buffer.byteLength(whole) <= MAX_BYTES) return { ...t, name: whole };
  const hash = createHash('sha1').update(t.name).digest('hex').slice(0, 8);
  let cut = '';
  for (const ch of t.name) {
    if (Buffer.byteLength(prefix + cut + ch) + 1 + hash.length > MAX_BYTES) break;
    cut += ch;
  }
  return { ...t, name: `${prefix}${cut}_${hash}` };
}

/** A table being built aside (LoadWay `aside`): where it loads, what a failure leaves, and the swap. */
export interface Aside {
  ref: TableRef;
  /** Drops the aside table (on a connection of its own: the loader's may be mid-statement, or gone). */
  left(): Promise<RestoreLeft>;
  /** Renames it into place (swapped with the old table, which is then dropped). */
  putInPlace(): Promise<void>;
  /** What went wrong after the swap, which the restore still counts as done. */
  warning(): string[];
}

/**
 * Creates the aside table: from the backup's schema (`create`), or like the table it replaces;
 * the leftovers of a killed restore into the same target (never complete tables) dropped first.
 */
export async function buildAside(
  loader: Loader,
  engine: Engine,
  target: string,
  ref: TableRef,
  create: ((t: TableRef) => string) | undefined,
): Promise<Aside> {
  const swap = loader.swap!;
  const aside = asideRef(ref, 'restoring');
  const old = asideRef(ref, 'replaced');
  const name = (t: TableRef) => (t.schema ? `${t.schema}.${t.name}` : t.name);
  let placed = false;
  const warnings: string[] = [];
  // held until the table is in place or dropped, so that the leftovers dropped next are a dead restore's
  if (!(await swap.lock(ref)))
    throw runtimeError(
      'RESTORE_FAILED',
      `another restore into ${name(ref)} is running (it holds the target's lock): wait for it to end, or restore into another table`,
    );
  await swap.drop(aside);
  await swap.drop(old);
  if (create) await loader.execute(create(aside));
  else await swap.createLike(aside, ref);
  return {
    ref: aside,
    async left() {
      if (placed) return create ? { kind: 'nothing' } : { kind: 'unchanged' };
      // dropped first, then the lock given back (a connection that is gone gave it back already)
      const cleaner = await engine.openLoader(target).catch(() => undefined);
      const dropped = await cleaner?.swap?.drop(aside).then(
        () => true,
        () => false,
      );
      await cleaner?.close();
      await swap.unlock(ref).catch(() => {});
      if (!dropped) return { kind: 'aside', aside: name(aside) };
      return create ? { kind: 'nothing' } : { kind: 'unchanged' };
    },
    async putInPlace() {
      await swap.putInPlace(aside, ref, create ? undefined : old);
      placed = true;
      if (!create)
        await swap.drop(old).catch((e: unknown) => {
          warnings.push(`the replaced table, now ${name(old)}, could not be dropped (${errorMessage(e)}): drop it`);
        });
      await swap.unlock(ref);
    },
    warning: () => warnings,
  };
}
