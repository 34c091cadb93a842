import type { RunTable } from '../plan/run-tables.js';
import type { ChunkPlan } from '../state/repository.js';
import { StaleLeaseError } from '../state/tasks.js';
import { readSharedChunk } from './incremental-chunks.js';
import { incrementalContext, type RunContext } from './table-run.js';
import type { Lease } from './work-plan.js';

/**
 * A shared run's chunked table: the worker holding the table's task (and the table's lock)
 * plans its chunks as today, then offers each as a task of the run's plan, which any worker
 * claims under a lease of its own and reads with commits fenced by it; the table's holder waits
 * until every chunk is done and finishes the plan (the watermark, once). A holder that dies
 * leaves the table's task to the next claimer, who resumes the same chunk plan and finds its
 * chunk tasks there (offered once by name); a chunk reader that dies leaves its chunk to the
 * next, who reads on from the chunk's committed progress.
 */

/** What a chunk task's spec says: the table, the chunk, and the plan it belongs to. */
export interface ChunkSpec {
  table: string;
  chunk: number;
  /** The chunk plan's run id: a task of a plan finished or dropped since has nothing to do. */
  planRun: string;
  schemaVersion: number;
}

/** A chunk task's name: the table, the chunk, and the plan (a replanned table's chunks are new tasks). */
export const chunkTaskName = (table: string, chunk: number, planRun: string): string =>
  `${table} chunk ${chunk} @${planRun.slice(0, 8)}`;

/** How often the table's holder looks whether its chunks are done. */
const CHUNKS_POLL_MS = 500;

/** The table holder's side: offers the plan's chunks to the run and waits for all of them. */
export async function shareChunks(
  ctx: RunContext,
  planKey: string,
  lease: Lease,
  p: ChunkPlan,
  rt: RunTable,
  schemaVersion: number,
  readsDone: () => void,
): Promise<void> {
  const tasks = p.chunks.map((c) => {
    const spec: ChunkSpec = { table: rt.name, chunk: c.index, planRun: p.runId, schemaVersion };
    return { name: chunkTaskName(rt.name, c.index, p.runId), spec: JSON.stringify(spec) };
  });
  await ctx.state.addTasks(planKey, tasks);
  ctx.log.info({ table: rt.name, chunks: tasks.length }, "chunks offered to the run's workers");
  // the holder reads nothing while it waits: its read slot goes to the chunks (its own process's too)
  readsDone();
  const names = tasks.map((t) => t.name);
  for (;;) {
    if (lease.signal.aborted) throw new StaleLeaseError(lease.task);
    if (ctx.opts.signal?.aborted) throw ctx.opts.signal.reason;
    const st = await ctx.state.taskStatuses(planKey, names);
    const failed = names.filter((n) => st.get(n)?.status === 'failed');
    if (failed.length)
      throw new Error(
        `chunk(s) failed on every attempt: ${failed.map((n) => `${n}: ${st.get(n)?.result ?? ''}`).join('; ')}`,
      );
    if (names.every((n) => st.get(n)?.status === 'done')) return;
    await new Promise((r) => setTimeout(r, CHUNKS_POLL_MS));
  }
}

/** A chunk task: reads the chunk from its committed progress on, unless its plan is finished or the chunk done. */
export async function runChunkTask(
  rt: RunTable,
  spec: ChunkSpec,
  ctx: RunContext,
): Promise<{ table: string; chunk: number; rows: number; files: number; bytes: number }> {
  const out = { table: rt.name, chunk: spec.chunk, rows: 0, files: 0, bytes: 0 };
  const plan = rt.plan;
  if (!plan) throw new Error(`internal: chunk task of ${rt.name}, which is not an incremental table here`);
  const p = await ctx.state.chunkPlan(plan.tableKey);
  const c = p?.runId === spec.planRun ? p.chunks.find((x) => x.index === spec.chunk) : undefined;
  if (!p || !c || c.done) return out;
  const release = (await ctx.readSlot?.()) ?? (() => {});
  try {
    const log = ctx.log.child({ table: rt.name, chunk: spec.chunk });
    const ictx = incrementalContext(rt, ctx, { runId: p.runId, log });
    const w = await readSharedChunk(c, p, plan, ictx, spec.schemaVersion);
    return { ...out, rows: w.rows, files: w.files, bytes: w.bytes };
  } finally {
    release();
  }
}
