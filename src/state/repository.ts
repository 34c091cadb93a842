import {
  commitChunkObject,
  dropChunkPlan,
  finishChunkPlan,
  loadChunkPlan,
  markChunkDone,
  saveChunkPlan,
  type ChunkObjectCommit,
  type ChunkPlan,
  type FinishedPlan,
} from './chunk-plans.js';
import {
  migrateState,
  openStateDb,
  withLock,
  type FilesRow,
  type GenerationsRow,
  type RetentionRow,
  type SchemasRow,
  type StateDb,
  type TablesRow,
  type TasksRow,
} from './db.js';
import {
  dropGeneration,
  finishGeneration,
  listGenerations,
  startGeneration,
  type GenerationObject,
  type GenerationStart,
} from './generations.js';
import type { ColumnSpec } from '../source/columns.js';
import { commitObject, type ObjectCommit } from './object-commit.js';
import { pruneRecentVersions, recentVersions } from './recent-versions.js';
import { finishRunFailed, finishRunOk, okRuns, startRun, withRun, type RunTotals } from './runs.js';
import { addSchemaVersion, latestSchema, schemaVersion, type SchemaVersion } from './schema-versions.js';
import { manifestState, tableState, type ManifestState, type TableState } from './table-reads.js';
import { ensureTable, peekWatermark } from './tables.js';
import {
  addTasks,
  finishPlanIfDone,
  planProgress,
  planRun,
  planTasks,
  taskStatuses,
  type PlannedTask,
  type PlanProgress,
  type RunPlan,
} from './plans.js';
import {
  claimTask,
  fenceTask,
  finishAndClaim,
  finishTask,
  releaseTask,
  renewLease,
  type ClaimedTask,
  type Worker,
} from './tasks.js';
import { advanceRetention, markSwept, retentionRow, unlistedObjects, type RetentionBoundary } from './retention.js';
import { recordSeen, seenTables, type MatchedTable, type SeenTable } from './seen.js';
import { activePlans, readyTaskCounts, type PlanStatus } from './run-status.js';

export type { ChunkFile, ChunkPlan, PlannedChunk } from './chunk-plans.js';
export type { FailedTask, HeldTask, PlanStatus } from './run-status.js';
export type {
  ChunkObjectCommit,
  GenerationObject,
  GenerationsRow,
  GenerationStart,
  FinishedPlan,
  ClaimedTask,
  ManifestState,
  MatchedTable,
  PlanProgress,
  RunPlan,
  Worker,
  RetentionBoundary,
  RetentionRow,
  ObjectCommit,
  RunTotals,
  SchemaVersion,
  SeenTable,
  TableState,
};

/**
 * The state store, as the operations backups need: every statement on the `tablevault_*`
 * tables is in this folder, grouped by what it records (tables.ts, object-commit.ts,
 * recent-versions.ts, schema-versions.ts, runs.ts, table-reads.ts), and this class is the one
 * way in. Engine differences (locks, insert-or-skip) come from the engine's state dialect, so
 * each operation is written once for PostgreSQL and MySQL.
 * @example
 * ```ts
 * const state = await openState(stateUrl(flags.state, strategy));
 * try {
 *   await state.migrate();
 *   const row = await state.ensureTable({ tableKey, destination, sourceTable: 'public.orders' });
 * } finally {
 *   await state.close();
 * }
 * ```
 */
export class StateRepository {
  constructor(private readonly s: StateDb) {}

  /** The state store's URL without credentials, for messages. */
  get label(): string {
    return this.s.label;
  }

  /**
   * The same store as a shared run's task holder sees it: every commit (objects, chunks, schema
   * versions, generations, retention) checks in its own transaction that `task`'s lease is still
   * the holder's, and throws StaleLeaseError when another worker may have taken it over.
   */
  fenced(task: ClaimedTask): StateRepository {
    return new StateRepository({ ...this.s, fence: (tx) => fenceTask(this.s, tx, task) });
  }

  /** Creates or upgrades the schema; the names of the migrations applied. */
  migrate(): Promise<string[]> {
    return migrateState(this.s);
  }

  /** Runs `fn` holding the lock `name`, or returns `busy` when another process holds it. */
  withLock<T>(name: string, fn: () => Promise<T>): Promise<T | 'busy'> {
    return withLock(this.s, name, fn);
  }

  async close(): Promise<void> {
    await this.s.db.destroy();
  }

  /** The table's row, created empty (no watermark, no files) on its first backup. */
  ensureTable(t: { tableKey: string; destination: string; sourceTable: string }): Promise<TablesRow> {
    return ensureTable(this.s, t);
  }

  /** The watermark a dry run reports: read only, null when there is none yet or no schema (see tables.ts). */
  peekWatermark(tableKey: string): Promise<string[] | null> {
    return peekWatermark(this.s, tableKey);
  }

  /** Commits an object already durable in the store, in one fenced transaction (see object-commit.ts). */
  commitObject(c: ObjectCommit): Promise<void> {
    return commitObject(this.s, c);
  }

  /** The table's pending chunk plan, if a run left one (see chunk-plans.ts). */
  chunkPlan(tableKey: string): Promise<ChunkPlan | undefined> {
    return loadChunkPlan(this.s, tableKey);
  }

  /** Records a new chunk plan, every chunk at its start. */
  saveChunkPlan(p: Omit<ChunkPlan, 'files'>): Promise<void> {
    return saveChunkPlan(this.s, p);
  }

  /** Records a chunk's durable object and the chunk's progress, in one fenced transaction. */
  commitChunkObject(c: ChunkObjectCommit): Promise<void> {
    return commitChunkObject(this.s, c);
  }

  markChunkDone(tableKey: string, chunk: number): Promise<void> {
    return markChunkDone(this.s, tableKey, chunk);
  }

  /** Moves a finished plan's objects into the table's files and its watermark to the plan's end, in one transaction. */
  finishChunkPlan(
    p: ChunkPlan,
    run: { runId: string; backupRun?: string; columns: ColumnSpec[] },
  ): Promise<FinishedPlan> {
    return finishChunkPlan(this.s, p, run);
  }

  /** Forgets a plan that can no longer be resumed. */
  dropChunkPlan(tableKey: string): Promise<void> {
    return dropChunkPlan(this.s, tableKey);
  }

  /** The hashes of the row versions recorded in the table's lag window. */
  recentVersions(tableKey: string): Promise<string[]> {
    return recentVersions(this.s, tableKey);
  }

  /** Forgets recorded versions that left the lag window. */
  pruneRecentVersions(tableKey: string, versions: string[]): Promise<void> {
    return pruneRecentVersions(this.s, tableKey, versions);
  }

  /** The schema version new objects of the table are written under, if any is recorded. */
  latestSchema(tableKey: string): Promise<SchemasRow | undefined> {
    return latestSchema(this.s, tableKey);
  }

  schemaVersion(tableKey: string, version: number): Promise<SchemasRow> {
    return schemaVersion(this.s, tableKey, version);
  }

  /** Records a schema version and makes it the table's current one, in one transaction. */
  addSchemaVersion(v: SchemaVersion): Promise<void> {
    return addSchemaVersion(this.s, v);
  }

  /** Records a table's run as started; `tableKey` is also the lock the run holds. */
  startRun(id: string, tableKey: string): Promise<void> {
    return startRun(this.s, id, tableKey);
  }

  /**
   * Runs `fn` as the table's run `id` under the lock `tableKey`, taken and recorded as started in
   * one statement; its totals (or its error, as `failure` words it) end the run before the lock
   * goes. `busy` when another process holds the lock (see runs.ts).
   */
  withRun<T extends RunTotals>(
    id: string,
    tableKey: string,
    fn: () => Promise<T>,
    failure: (e: unknown) => string,
  ): Promise<T | 'busy'> {
    return withRun(this.s, id, tableKey, fn, failure);
  }

  /** Runs of the table that finished ok. */
  okRuns(tableKey: string): Promise<number> {
    return okRuns(this.s, tableKey);
  }

  finishRunOk(id: string, r: RunTotals): Promise<void> {
    return finishRunOk(this.s, id, r);
  }

  finishRunFailed(id: string, error: string): Promise<void> {
    return finishRunFailed(this.s, id, error);
  }

  /** The table's row, its latest run, and with `schemaChanges` every schema version that changed something (oldest first). */
  tableState(tableKey: string, opts: { schemaChanges: boolean }): Promise<TableState> {
    return tableState(this.s, tableKey, opts);
  }

  /** The tables runs to `destination` have matched (new and gone tables are told apart from these). */
  seenTables(destination: string): Promise<SeenTable[]> {
    return seenTables(this.s, destination);
  }

  /** Records the tables a run matched; `known` are those seenTables returned. */
  recordSeen(destination: string, tables: MatchedTable[], known: Map<string, SeenTable>): Promise<void> {
    return recordSeen(this.s, destination, tables, known);
  }

  /** The table's base generations (compaction), oldest first; with `status`, only those. */
  generations(tableKey: string, status?: 'writing' | 'done'): Promise<GenerationsRow[]> {
    return listGenerations(this.s, tableKey, status);
  }

  /** Records a generation as being written, before its first object is put. */
  startGeneration(g: GenerationStart): Promise<void> {
    return startGeneration(this.s, g);
  }

  /** Marks a generation done with its (durable) objects, in one transaction: restores may read it from then on. */
  finishGeneration(tableKey: string, generation: number, objects: GenerationObject[]): Promise<void> {
    return finishGeneration(this.s, tableKey, generation, objects);
  }

  /** Forgets an unfinished generation, once its objects are removed. */
  dropGeneration(tableKey: string, generation: number): Promise<void> {
    return dropGeneration(this.s, tableKey, generation);
  }

  /** Records a shared run's plan and its tasks once per plan key (see tasks.ts); whether this call planned it. */
  planRun(p: RunPlan): Promise<{ planned: boolean; backupRun: string }> {
    return planRun(this.s, p);
  }

  /** Claims the plan's next task that is waiting or whose lease ran out; undefined when none is, right now. */
  claimTask(planKey: string, w: Worker, leaseMs: number): Promise<ClaimedTask | undefined> {
    return claimTask(this.s, planKey, w, leaseMs);
  }

  /** Extends a held task's lease; false when it was lost. */
  renewLease(t: ClaimedTask, leaseMs: number): Promise<boolean> {
    return renewLease(this.s, t, leaseMs);
  }

  /** Marks a held task done, fenced by its token (StaleLeaseError when the lease was lost). */
  finishTask(t: ClaimedTask, result: unknown): Promise<void> {
    return finishTask(this.s, t, result);
  }

  /** Finishes a held task (fenced) and claims the next in one transaction; `finished` false when its lease was lost. */
  finishAndClaim(
    t: ClaimedTask,
    result: unknown,
    w: Worker,
    leaseMs: number,
  ): Promise<{ finished: boolean; next?: ClaimedTask }> {
    return finishAndClaim(this.s, t, result, w, leaseMs);
  }

  /** Gives a held task up after its work failed: waiting for another attempt, or failed after `maxAttempts`. */
  releaseTask(t: ClaimedTask, error: string, maxAttempts: number): Promise<void> {
    return releaseTask(this.s, t, error, maxAttempts);
  }

  /** A plan's tasks by state. */
  planProgress(planKey: string): Promise<PlanProgress> {
    return planProgress(this.s, planKey);
  }

  /** A plan's tasks, with who holds which. */
  planTasks(planKey: string): Promise<TasksRow[]> {
    return planTasks(this.s.db, planKey);
  }

  /** Adds tasks to a plan, each once by name (a table's chunks, offered to every worker of the run). */
  addTasks(planKey: string, tasks: PlannedTask[]): Promise<void> {
    return addTasks(this.s, planKey, tasks);
  }

  /** The status of the plan's tasks of these names. */
  taskStatuses(planKey: string, names: string[]): Promise<Map<string, { status: string; result: string | null }>> {
    return taskStatuses(this.s, planKey, names);
  }

  /** Records the plan done once every task is; whether it is. */
  finishPlanIfDone(planKey: string): Promise<boolean> {
    return finishPlanIfDone(this.s, planKey);
  }

  /** The table's row, its listed files in order and every schema version: what its manifest (or with `target`, a mirror's) says. */
  manifestState(tableKey: string, target?: string): Promise<ManifestState> {
    return manifestState(this.s, tableKey, target);
  }

  /** A target's retention (PRIMARY_TARGET or a mirror's dest URL), once an expire moved it. */
  retention(tableKey: string, target: string): Promise<RetentionRow | undefined> {
    return retentionRow(this.s, tableKey, target);
  }

  /** Moves a target's boundary forward in one transaction (see retention.ts); never back. */
  advanceRetention(tableKey: string, target: string, b: RetentionBoundary): Promise<void> {
    return advanceRetention(this.s, tableKey, target, b);
  }

  /** Records that the objects below a target's boundary are deleted. */
  markSwept(tableKey: string, target: string, to: { seq: number; gen: number }): Promise<void> {
    return markSwept(this.s, tableKey, target, to);
  }

  /** The objects no longer listed that may still be there: between what was swept and the boundary. */
  unlistedObjects(
    tableKey: string,
    r: Pick<RetentionRow, 'swept_seq' | 'kept_seq' | 'swept_gen' | 'kept_gen'>,
  ): Promise<{ files: FilesRow[]; generations: GenerationsRow[] }> {
    return unlistedObjects(this.s, tableKey, r);
  }

  /** The strategy's shared runs still ready (and with `latestDone` the last finished): counts, holders, leases (see run-status.ts). */
  activePlans(strategy: string, opts?: { latestDone?: boolean }): Promise<PlanStatus[]> {
    return activePlans(this.s, strategy, opts);
  }

  /** The tasks of the strategy's ready runs summed by state, and how many runs: for /metrics. */
  readyTaskCounts(strategy: string): Promise<PlanProgress & { runs: number }> {
    return readyTaskCounts(this.s, strategy);
  }
}

/** Opens the state store at a postgres:// or mysql:// URL (connects lazily); see stateUrl for which URL (example on StateRepository). */
export async function openState(url: string, opts?: { maxConnections?: number }): Promise<StateRepository> {
  return new StateRepository(await openStateDb(url, opts));
}
