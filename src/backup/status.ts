import { loadStrategy } from '../config/strategy.js';
import { planRunTables, stateKey } from '../plan/run-tables.js';
import { openSource } from '../source/open.js';
import { openState, type StateRepository, type TableState } from '../state/repository.js';
import { runPoints } from '../lifecycle/retention.js';
import type { KeptFrom } from '../manifest/types.js';
import { stateUrl } from '../state/url.js';
import { openDestination } from '../store/open.js';
import { s3Options, uploaderOptions } from './destination-options.js';

export interface StatusRow {
  table: string;
  strategy: 'incremental' | 'full';
  watermark: string[] | null;
  files: number;
  rows: number;
  bytes: number;
  lastRun: { status: string; startedAt: string; finishedAt: string | null; rows: number; error: string | null } | null;
  /** Incremental tables: the schema version new objects are written under, and every change seen (oldest first). */
  schemaVersion?: number;
  schemaChanges?: Array<{ version: number; changes: string[]; at: string }>;
  /** Which entry of the file the table got, and why. */
  why?: string;
  /** A table earlier runs backed up that the strategy no longer matches: when it was last seen. Its backups stay. */
  goneSince?: string;
  /**
   * Incremental tables: what the destination holds now (its manifest's listing, retention
   * applied): base generations, the runs restore --as-of can take and the oldest of them, objects and bytes.
   */
  history?: { generations: number; runsKept: number; oldestRun: KeptFrom | null; objects: number; bytes: number };
}

/**
 * Watermark, last run, rows/files/bytes per table, from the state store.
 *
 * @example
 * ```ts
 * import { backupStatus } from 'tablevault';
 *
 * for (const row of await backupStatus({ strategy: 'strategies/nightly-incremental.yaml' })) {
 *   console.log(row.table, row.watermark, row.lastRun?.status);
 * }
 * ```
 */
export async function backupStatus(opts: { strategy: string; state?: string }): Promise<StatusRow[]> {
  const strategy = loadStrategy(opts.strategy);
  const state = await openState(stateUrl(opts.state, strategy));
  const source = await openSource(strategy.source);
  const dest = openDestination(strategy.destination, s3Options(strategy), uploaderOptions(strategy));
  try {
    await state.migrate();
    const out: StatusRow[] = [];
    const { tables } = await planRunTables(strategy, source, {
      prefix: dest.prefix,
      destination: strategy.destination,
    });
    for (const rt of tables) {
      const { settings: t, why } = rt;
      const key = stateKey(rt, strategy.destination);
      const held = await state.tableState(key, { schemaChanges: t.strategy === 'incremental' });
      const { table: row, schemaChanges } = held;
      const history = t.strategy === 'incremental' && row ? await historyOf(state, key) : undefined;
      out.push({
        table: t.table,
        why,
        strategy: t.strategy,
        ...backedUp(held),
        ...(t.strategy === 'incremental'
          ? {
              schemaVersion: row ? Number(row.schema_version ?? 1) : 1,
              schemaChanges: (schemaChanges ?? []).map((v) => ({
                version: v.version,
                changes: JSON.parse(v.changes!) as string[],
                at: v.created_at,
              })),
            }
          : {}),
        ...(history ? { history } : {}),
      });
    }
    const matched = new Set(tables.map((t) => t.name));
    for (const g of await state.seenTables(strategy.destination)) {
      if (matched.has(g.name)) continue;
      // seen before migration 0005: no key kept, and a full table's is the one that can be rebuilt from its name
      const key = g.stateKey ?? stateKey({ name: g.name }, strategy.destination);
      const held = await state.tableState(key, { schemaChanges: false });
      out.push({
        table: g.name,
        strategy: held.table ? 'incremental' : 'full',
        ...backedUp(held),
        goneSince: g.lastSeen,
      });
    }
    return out;
  } finally {
    await source.close().catch(() => {});
    await state.close().catch(() => {});
    dest.store.close();
  }
}

/** What the state store holds of a table's backups: its row (incremental), else its last run's. */
function backedUp({ table: row, lastRun: run }: TableState) {
  return {
    watermark: row?.watermark ? (JSON.parse(row.watermark) as string[]) : null,
    files: row ? Number(row.files) : run ? Number(run.files) : 0,
    rows: row ? Number(row.rows) : run ? Number(run.rows) : 0,
    bytes: row ? Number(row.bytes) : run ? Number(run.bytes) : 0,
    lastRun: run
      ? {
          status: run.status,
          startedAt: run.started_at,
          finishedAt: run.finished_at,
          rows: Number(run.rows),
          error: run.error,
        }
      : null,
  };
}

/** What an incremental table's destination holds now: its manifest's listing (see StatusRow.history). */
async function historyOf(state: StateRepository, key: string): Promise<NonNullable<StatusRow['history']>> {
  const ms = await state.manifestState(key);
  const points = runPoints(ms);
  const genFiles = ms.generations.flatMap((g) => JSON.parse(g.files_json ?? '[]') as Array<{ bytes: number }>);
  const first = points[0];
  return {
    generations: ms.generations.length,
    runsKept: points.length,
    oldestRun: first
      ? { runId: first.runId, ...(first.backupRunId ? { backupRunId: first.backupRunId } : {}), at: first.at }
      : null,
    objects: ms.files.length + genFiles.length,
    bytes: ms.files.reduce((n, f) => n + Number(f.bytes), 0) + genFiles.reduce((n, f) => n + f.bytes, 0),
  };
}
