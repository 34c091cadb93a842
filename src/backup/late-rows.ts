import { createHash } from 'node:crypto';
import type { RecordBatch } from 'apache-arrow';
import { sqlAnd } from '../source/quote.js';
import type { Lag, ReadOptions, ReadStats } from '../source/source.js';
import type { IncrementalContext } from './incremental.js';
import type { TablePlan } from './incremental-plan.js';

/** A row version's key tuple (cursor, primary key…) as recorded in the lag window. */
export function versionHash(key: string[]): string {
  return createHash('sha1').update(JSON.stringify(key)).digest('hex');
}

/**
 * Writes the rows of one read as the next object and commits it with the watermark `to` gives
 * (unchanged for late rows) and the versions `recent` gives; false when the read had no rows.
 */
export type WriteAndCommit = (
  read: (stats: ReadStats) => AsyncGenerator<RecordBatch>,
  to: (stats: ReadStats) => string[],
  recent: (stats: ReadStats) => string[][],
  /** day partitions: the object goes under dt=<day>/ */
  day?: string,
) => Promise<{ rows: number } | false>;

/**
 * The lag window (watermark.cursor − lag, watermark]: row versions there that no earlier object
 * holds were committed late; they are written as objects of their own (the watermark stays).
 * Recorded versions that left the window are pruned (unless `prune` is false: a resumed chunked
 * run's chunks have recorded versions past the watermark, which are not in the window yet).
 */
export async function backupLateRows(
  plan: TablePlan,
  lag: Lag,
  watermark: string[],
  ctx: Pick<IncrementalContext, 'source' | 'state' | 'log' | 'settings' | 'snapshot'>,
  writeAndCommit: WriteAndCommit,
  liveRead: (o: Omit<ReadOptions, 'batchRows'>) => ReadOptions,
  opts: { prune: boolean } = { prune: true },
): Promise<void> {
  const { source, state } = ctx;
  const t = plan.table;
  const windowWhere = sqlAnd(
    plan.where,
    source.tupleNotAfterSql(t, plan.keyColumns, watermark),
    source.withinLagSql(t, plan.keyColumns[0]!, watermark[0]!, lag),
  );
  const window = await source.readKeys(t, plan.keyColumns, windowWhere, { snapshot: ctx.snapshot });
  const recorded = new Set(await state.recentVersions(plan.tableKey));
  const hashes = window.map(versionHash);
  const late = window.filter((_, i) => !recorded.has(hashes[i]!));
  const inWindow = new Set(hashes);
  const stale = [...recorded].filter((v) => !inWindow.has(v));
  if (opts.prune) await state.pruneRecentVersions(plan.tableKey, stale);
  if (late.length) ctx.log.info({ rows: late.length }, 'rows committed late, within the lag window');
  const chunk = Math.min(1000, ctx.settings.fileMaxRows);
  // with day partitions, late rows go to their own day's folder: grouped by the cursor's day (its key text starts with it)
  const groups = new Map<string | undefined, string[][]>();
  for (const k of late) {
    const day = plan.partition ? k[0]!.slice(0, 10) : undefined;
    groups.set(day, [...(groups.get(day) ?? []), k]);
  }
  for (const [day, keysOfDay] of groups) {
    for (let i = 0; i < keysOfDay.length; i += chunk) {
      const keys = keysOfDay.slice(i, i + chunk);
      const where = sqlAnd(plan.where, source.tupleInSql(t, plan.keyColumns, keys));
      await writeAndCommit(
        (stats) => source.read(t, liveRead({ keyColumns: plan.keyColumns, where, stats })),
        () => watermark,
        () => keys,
        day,
      );
    }
  }
}
