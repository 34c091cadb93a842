import type { ColumnSpec } from '../source/columns.js';
import { commitTransaction, type StateDb } from './db.js';
import { advanceTable } from './object-commit.js';
import { insertRecentVersions } from './recent-versions.js';
import { now } from './timestamps.js';

/** One key range of a chunked incremental run, and how far it has got. */
export interface PlannedChunk {
  index: number;
  /** The range as SQL in the source's dialect, literals inlined (none: the plan's whole range). */
  rangeSql?: string;
  estimatedRows: number;
  /** The key of the chunk's last row durable in the store; null before its first object. */
  progress: string[] | null;
  /** Objects the chunk has made durable (its next object is number `parts`). */
  parts: number;
  done: boolean;
}

/** An object a chunk made durable, waiting for the plan to finish to join the table's files. */
export interface ChunkFile {
  chunk: number;
  part: number;
  objectKey: string;
  rows: number;
  bytes: number;
  sha256: string;
  after: string[] | null;
  through: string[];
  schemaVersion: number;
  runId: string;
}

/**
 * An incremental run read in chunks: rows with key past `after` up to `through` (the last key
 * in the snapshot it was planned in), split into `chunks`. It stays in the state store until
 * every chunk is done, so a rerun after a crash reads the same ranges into the same object keys.
 */
export interface ChunkPlan {
  tableKey: string;
  /** The table's file count when planned; the chunks' objects are named by it. */
  planSeq: number;
  keyColumns: string[];
  after: string[] | null;
  through: string[];
  runId: string;
  chunks: PlannedChunk[];
  files: ChunkFile[];
}

const json = (v: unknown): string => JSON.stringify(v);
const parsed = (v: string | null): string[] | null => (v === null ? null : (JSON.parse(v) as string[]));

/** The table's pending chunk plan, if a run left one. */
export async function loadChunkPlan(s: StateDb, tableKey: string): Promise<ChunkPlan | undefined> {
  const rows = await s.db
    .selectFrom('tablevault_chunks')
    .selectAll()
    .where('table_key', '=', tableKey)
    .orderBy('chunk')
    .execute();
  const first = rows[0];
  if (!first) return undefined;
  const files = await s.db
    .selectFrom('tablevault_chunk_files')
    .selectAll()
    .where('table_key', '=', tableKey)
    .orderBy('chunk')
    .orderBy('part')
    .execute();
  return {
    tableKey,
    planSeq: first.plan_seq,
    keyColumns: JSON.parse(first.key_columns) as string[],
    after: parsed(first.key_after),
    through: JSON.parse(first.key_through) as string[],
    runId: first.run_id,
    chunks: rows.map((r) => ({
      index: r.chunk,
      ...(r.range_sql !== null ? { rangeSql: r.range_sql } : {}),
      estimatedRows: Number(r.estimated_rows),
      progress: parsed(r.progress),
      parts: r.parts,
      done: Boolean(r.done),
    })),
    files: files.map((f) => ({
      chunk: f.chunk,
      part: f.part,
      objectKey: f.object_key,
      rows: Number(f.rows),
      bytes: Number(f.bytes),
      sha256: f.sha256,
      after: parsed(f.key_from),
      through: JSON.parse(f.key_to) as string[],
      schemaVersion: f.schema_version,
      runId: f.run_id,
    })),
  };
}

/** Records a new plan, every chunk at its start, in one transaction. */
export async function saveChunkPlan(s: StateDb, p: Omit<ChunkPlan, 'files'>): Promise<void> {
  const created = now();
  await commitTransaction(s, async (tx) => {
    await tx
      .insertInto('tablevault_chunks')
      .values(
        p.chunks.map((c) => ({
          table_key: p.tableKey,
          chunk: c.index,
          plan_seq: p.planSeq,
          key_columns: json(p.keyColumns),
          key_after: p.after ? json(p.after) : null,
          key_through: json(p.through),
          range_sql: c.rangeSql ?? null,
          estimated_rows: c.estimatedRows,
          progress: null,
          parts: 0,
          done: 0,
          run_id: p.runId,
          created_at: created,
        })),
      )
      .execute();
  });
}

/** An object of a chunk, durable in the store, and the chunk's progress with it. */
export interface ChunkObjectCommit extends Omit<ChunkFile, 'objectKey'> {
  tableKey: string;
  objectKey: string;
  /** The chunk's last object (its read ended short of a full object). */
  done: boolean;
  /** Hashes of the row versions written within the lag window of the plan's end. */
  recentVersions: string[];
}

/**
 * Records a chunk's object and moves the chunk's progress to its last key, in one transaction,
 * only while the chunk still counts `part` objects: a second writer of the chunk fails here.
 */
export async function commitChunkObject(s: StateDb, c: ChunkObjectCommit): Promise<void> {
  await commitTransaction(s, async (tx) => {
    await tx
      .insertInto('tablevault_chunk_files')
      .values({
        table_key: c.tableKey,
        chunk: c.chunk,
        part: c.part,
        object_key: c.objectKey,
        rows: c.rows,
        bytes: c.bytes,
        sha256: c.sha256,
        key_from: c.after ? json(c.after) : null,
        key_to: json(c.through),
        schema_version: c.schemaVersion,
        run_id: c.runId,
      })
      .execute();
    const upd = await tx
      .updateTable('tablevault_chunks')
      .set({ progress: json(c.through), parts: c.part + 1, done: c.done ? 1 : 0 })
      .where('table_key', '=', c.tableKey)
      .where('chunk', '=', c.chunk)
      .where('parts', '=', c.part)
      .executeTakeFirst();
    if (Number(upd.numUpdatedRows) !== 1)
      throw new Error(`chunk ${c.chunk} of ${c.tableKey} changed under this run (another backup?); rerun`);
    // recorded with the object: the plan's last run may be another process, which could not know them
    await insertRecentVersions(s, tx, c.tableKey, c.recentVersions);
  });
}

/** Marks a chunk done whose last read found no more rows. */
export async function markChunkDone(s: StateDb, tableKey: string, chunk: number): Promise<void> {
  await commitTransaction(s, (tx) =>
    tx
      .updateTable('tablevault_chunks')
      .set({ done: 1 })
      .where('table_key', '=', tableKey)
      .where('chunk', '=', chunk)
      .execute(),
  );
}

/** What finishing a plan added to the table. */
export interface FinishedPlan {
  files: number;
  rows: number;
  bytes: number;
}

/**
 * Finishes a plan whose chunks are all done, in one transaction: the chunks' objects become the
 * table's next files (in key order: chunk, then part), all of this run's (`restore --as-of` an
 * earlier, killed attempt must not get part of the plan), the watermark moves to the plan's end,
 * and the plan is removed. Fenced like commitObject: the table must still be where the plan began.
 */
export async function finishChunkPlan(
  s: StateDb,
  p: ChunkPlan,
  run: { runId: string; backupRun?: string; columns: ColumnSpec[] },
): Promise<FinishedPlan> {
  return commitTransaction(s, async (tx) => {
    const table = await tx
      .selectFrom('tablevault_tables')
      .select(['files', 'watermark'])
      .where('table_key', '=', p.tableKey)
      .executeTakeFirstOrThrow();
    if ((table.watermark ?? null) !== (p.after ? json(p.after) : null))
      throw new Error(`the watermark of ${p.tableKey} moved under this run (another backup?); rerun`);
    const pending = await tx
      .selectFrom('tablevault_chunks')
      .select(['chunk'])
      .where('table_key', '=', p.tableKey)
      .where('done', '=', 0)
      .execute();
    if (pending.length) throw new Error(`internal: chunks ${pending.map((c) => c.chunk).join(', ')} are not done`);
    const files = await tx
      .selectFrom('tablevault_chunk_files')
      .selectAll()
      .where('table_key', '=', p.tableKey)
      .orderBy('chunk')
      .orderBy('part')
      .execute();
    const at = now();
    const seq0 = table.files;
    if (files.length)
      await tx
        .insertInto('tablevault_files')
        .values(
          files.map((f, i) => ({
            table_key: p.tableKey,
            seq: seq0 + i,
            object_key: f.object_key,
            rows: f.rows,
            bytes: f.bytes,
            sha256: f.sha256,
            key_from: f.key_from,
            key_to: f.key_to,
            // the run that finishes the plan: the table's state as of an earlier attempt has none of them
            run_id: run.runId,
            backup_run: run.backupRun ?? null,
            created_at: at,
            schema_version: f.schema_version,
          })),
        )
        .execute();
    const rows = files.reduce((n, f) => n + Number(f.rows), 0);
    const bytes = files.reduce((n, f) => n + Number(f.bytes), 0);
    await advanceTable(tx, {
      tableKey: p.tableKey,
      seq: seq0,
      files: files.length,
      rows,
      bytes,
      watermark: p.through,
      columns: run.columns,
      runId: run.runId,
    });
    await tx.deleteFrom('tablevault_chunk_files').where('table_key', '=', p.tableKey).execute();
    await tx.deleteFrom('tablevault_chunks').where('table_key', '=', p.tableKey).execute();
    return { files: files.length, rows, bytes };
  });
}

/** Forgets a plan that can no longer be resumed (the watermark or the key moved); its objects are the caller's to remove. */
export async function dropChunkPlan(s: StateDb, tableKey: string): Promise<void> {
  await commitTransaction(s, async (tx) => {
    await tx.deleteFrom('tablevault_chunk_files').where('table_key', '=', tableKey).execute();
    await tx.deleteFrom('tablevault_chunks').where('table_key', '=', tableKey).execute();
  });
}
