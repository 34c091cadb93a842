import type { Logger } from '../log.js';
import type { BackupFile } from '../manifest/view.js';
import type { TableRef } from '../source/columns.js';
import type { Engine } from '../source/engine.js';
import type { LoadBatch, LoadPlan, Loader } from '../source/loader.js';
import { buildAside } from './aside.js';
import { loadInChunks, type ChunkJob } from './chunks.js';
import { addPrimaryKeySql } from './ddl.js';
import type { RestoreLeft } from './failure.js';
import { loadInGroups } from './groups.js';
import { SplitLoad, type Helpers } from './split.js';
import type { LoadWay } from './ways.js';

/** A table's load, its way chosen (chooseWay) and its table created or not yet. */
export interface WayJob {
  loader: Loader;
  engine: Engine;
  /** The target's URL (an aside table is dropped on a connection of its own). */
  target: string;
  ref: TableRef;
  plan: LoadPlan;
  files: BackupFile[];
  way: LoadWay;
  created: boolean;
  replacing: boolean;
  /** The table's CREATE TABLE under a name (with its key unless keyLater). */
  ddl: (t: TableRef) => string;
  /** The primary key added after the data (a new table, transactional DDL). */
  keyLater: boolean;
  /** Objects loaded over these connections too (a full export large enough: see splitRows), else undefined. */
  helpers?: Helpers;
  /** A chunked load notes each commit, so a rerun resumes (above oneTransactionRows). */
  keep: boolean;
  batchRows: number;
  batchesOf: (files: BackupFile[], connection?: number) => AsyncGenerator<LoadBatch>;
  log: Logger;
  /** What a failure leaves, said as the load goes. */
  setLeft: (left: () => Promise<RestoreLeft>) => void;
}

export interface WayResult {
  /** Objects an earlier run had committed, skipped. */
  resumed: number;
  /** Split: objects loaded per connection, this table's own first. */
  perConnection?: number[];
  /** Split: batches per wire format the other connections loaded. */
  helperFormats?: Record<string, number>;
  warnings: string[];
}

/** Whether the way streams a transaction's batches as one statement (they are then decoded small: DEFAULTS.restore). */
export function streamsBatches(way: LoadWay, loader: Loader, plan: LoadPlan): boolean {
  const grouped = (way === 'batches' || way === 'aside') && loader.loadMany !== undefined && plan.conflict === 'insert';
  return way === 'transaction' || way === 'chunks' || grouped;
}

/** Loads the table the chosen way (see LoadWay), putting it in place where it was built aside. */
export async function loadByWay(j: WayJob): Promise<WayResult> {
  const { loader, plan, files, way, created, ref } = j;
  if (way === 'batches') {
    if (created) await loader.execute(j.ddl(ref));
    else if (j.replacing) await loader.truncate(ref);
    if (created || j.replacing) j.setLeft(() => Promise.resolve({ kind: 'batches' }));
  }
  if (way === 'transaction') {
    await loader.loadTable!(
      {
        plan,
        ...(created ? { create: j.ddl(ref) } : { empty: true }),
        after: j.keyLater ? [addPrimaryKeySql(ref, plan.primaryKey, j.engine)] : [],
      },
      j.batchesOf(files),
    );
    return { resumed: 0, warnings: [] };
  }
  if (way === 'chunks') return loadChunks(j);
  const grouped = streamsBatches(way, loader, plan);
  const loadObjects = async (l: Loader, fs: BackupFile[], connection?: number) => {
    if (grouped) await loadInGroups(l, plan, j.batchesOf(fs, connection), j.batchRows);
    else for await (const batch of j.batchesOf(fs, connection)) await l.load(plan, batch);
  };
  if (way === 'batches') {
    await loadObjects(loader, files);
    return { resumed: 0, warnings: [] };
  }
  const aside = await buildAside(loader, j.engine, j.target, ref, created ? j.ddl : undefined);
  j.setLeft(aside.left);
  plan.table = aside.ref;
  let split: SplitLoad | undefined;
  if (j.helpers && files.length > 1) {
    // each object committed on its own into the aside table, which is dropped if any fails
    split = new SplitLoad(
      files.map((_, i) => i),
      (l, i, c) => loadObjects(l, [files[i]!], c),
    );
    j.helpers.offer(split);
    await split.work(loader);
    await split.settled();
  } else {
    j.helpers?.decided();
    await loadObjects(loader, files);
  }
  await aside.putInPlace();
  return { resumed: 0, ...splitCounts(split), warnings: aside.warning() };
}

/** PostgreSQL's aside build (loadInChunks), what a failure leaves said as objects commit. */
async function loadChunks(j: WayJob): Promise<WayResult> {
  const { loader, files } = j;
  const progress = { committed: [] as number[], aside: '', created: false };
  j.setLeft(async (): Promise<RestoreLeft> => {
    if (!progress.created) return { kind: 'nothing' };
    if (j.keep)
      return progress.committed.length
        ? {
            kind: 'objects',
            committed: progress.committed.length,
            of: files.length,
            aside: progress.aside,
            objects: [...progress.committed].sort((a, b) => a - b),
          }
        : { kind: 'nothing' };
    // not worth resuming: dropped (on a connection of its own; this one may be mid-statement)
    const cleaner = await j.engine.openLoader(j.target).catch(() => undefined);
    const dropped = await cleaner?.execute(`DROP TABLE IF EXISTS ${progress.aside}`).then(
      () => true,
      () => false,
    );
    await cleaner?.close();
    return dropped ? { kind: 'nothing' } : { kind: 'aside', aside: progress.aside };
  });
  const job: ChunkJob = {
    ref: j.ref,
    plan: j.plan,
    files,
    create: j.ddl,
    batchesOf: j.batchesOf,
    engine: j.engine,
    log: j.log,
    keep: j.keep,
    progress,
    ...(j.helpers ? { helpers: j.helpers } : {}),
  };
  const resumed = await loadInChunks(loader, job);
  if (resumed) j.log.warn({ objects: resumed }, 'resumed: objects committed by an earlier run were skipped');
  return { resumed, ...splitCounts(job.split), warnings: [] };
}

function splitCounts(load: SplitLoad | undefined): Pick<WayResult, 'perConnection' | 'helperFormats'> {
  return load ? { perConnection: load.perConnection, helperFormats: load.helperFormats } : {};
}

/** Two counts per wire format, added. */
export function addFormats(a: Record<string, number>, b: Record<string, number> = {}): Record<string, number> {
  const out = { ...a };
  for (const [k, n] of Object.entries(b)) out[k] = (out[k] ?? 0) + n;
  return out;
}

/** Batches per wire format loaded since `before` (a loader's counts then). */
export function formatsSince(
  before: Record<string, number>,
  now: Readonly<Record<string, number>>,
): Record<string, number> {
  return Object.fromEntries(Object.entries(now).map(([k, n]) => [k, n - (before[k] ?? 0)]));
}
