import type { StateRepository } from '../state/repository.js';

/**
 * `compact_every: N`: whether a table is due a new base generation, after a successful run: when
 * the objects after its newest generation (all of them, with none) were written by N runs or more.
 * Runs that found nothing wrote no object and add nothing to compact, so they do not count.
 */
export async function compactDue(state: StateRepository, tableKey: string, every: number): Promise<boolean> {
  const ms = await state.manifestState(tableKey);
  const since = ms.generations.at(-1)?.through_seq ?? 0;
  return new Set(ms.files.filter((f) => f.seq >= since).map((f) => f.run_id)).size >= every;
}
