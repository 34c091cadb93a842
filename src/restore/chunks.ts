import { createHash } from 'node:crypto';
import { runtimeError } from '../errors.js';
import type { Logger } from '../log.js';
import type { BackupFile } from '../manifest/view.js';
import type { TableRef } from '../source/columns.js';
import type { Engine } from '../source/engine.js';
import type { LoadBatch, LoadPlan, Loader } from '../source/loader.js';
import { asideRef } from './aside.js';
import { addPrimaryKeySql } from './ddl.js';
import { SplitLoad, type Helpers } from './split.js';

/**
 * A chunked load's note: the objects' identity (names and checksums, in order), how many there
 * are, and the number (from 1) of each committed, in the order they committed. Before parallel
 * loads it was `<id> <committed>/<n>`, objects committed in order: still read, so a restore
 * killed by an older version resumes.
 */
const NOTE = /^tablevault restore ([0-9a-f]{16}) of (\d+):((?: \d+)*)$/;
const OLD_NOTE = /^tablevault restore ([0-9a-f]{16}) (\d+)\/(\d+)$/;

/** The objects (numbered from 1) a note of these objects says are committed; undefined: another load's note, or none. */
function committedBy(note: string | undefined, id: string, n: number): number[] | undefined {
  const m = NOTE.exec(note ?? '');
  if (m) return m[1] === id && Number(m[2]) === n ? m[3]!.trim().split(' ').filter(Boolean).map(Number) : undefined;
  const old = OLD_NOTE.exec(note ?? '');
  if (old && old[1] === id && Number(old[3]) === n) return Array.from({ length: Number(old[2]) }, (_, i) => i + 1);
  return undefined;
}

export interface ChunkJob {
  ref: TableRef;
  plan: LoadPlan;
  files: BackupFile[];
  /** The CREATE TABLE of the aside table, without its primary key. */
  create: (aside: TableRef) => string;
  /** One object's batches, `connection` the SplitLoad's index of the connection loading it (for its log lines). */
  batchesOf: (files: BackupFile[], connection: number) => AsyncIterable<LoadBatch>;
  engine: Engine;
  log: Logger;
  /** Each object's commit noted, so that a failed or killed load resumes (a table above oneTransactionRows). */
  keep: boolean;
  /** Other connections that may load objects alongside this one. */
  helpers?: Helpers;
  /** Updated as it goes, for the failure's message: the objects committed (from 1), the aside table's name. */
  progress: { committed: number[]; aside: string; created: boolean };
  /** Set once the objects are loaded: the SplitLoad that loaded them. */
  split?: SplitLoad;
}

/**
 * A new table built under its aside name (PostgreSQL, transactional DDL): created empty in a
 * transaction of its own, then each object's COPY in a transaction of its own, on this
 * connection and on any Helpers lend (SplitLoad), so one table loads over several connections;
 * once all are in, one transaction renames it into place and adds the primary key. With `keep`,
 * each object's commit adds its number to the note (the table's comment; TableNotes.addSql, safe
 * when several commit at once), so the note and the rows never disagree, and a rerun finding the
 * aside table with these objects' note loads only the objects it lacks (another note, or none:
 * dropped and begun again). The target's lock (an advisory lock, held to the end) keeps a second
 * restore into it from dropping or loading the same aside table. Returns the objects skipped as
 * already committed.
 */
export async function loadInChunks(loader: Loader, job: ChunkJob): Promise<number> {
  const notes = loader.notes!;
  const aside = asideRef(job.ref, 'restoring');
  const name = notes.name(aside);
  if (loader.lock && !(await loader.lock.take(job.ref)))
    throw runtimeError(
      'RESTORE_FAILED',
      `another restore into ${notes.name(job.ref)} is running (it holds the target's lock): wait for it to end, or restore into another table`,
    );
  const id = createHash('sha1')
    .update(job.files.map((f) => `${f.name}:${f.sha256}`).join('\n'))
    .digest('hex')
    .slice(0, 16);
  const n = job.files.length;
  job.progress.aside = name;
  const found = await notes.read(aside);
  const done = found && committedBy(found.note, id, n);
  if (found && !done) await loader.execute(`DROP TABLE ${name}`);
  const header = `tablevault restore ${id} of ${n}:`;
  if (!done)
    await loader.execute(
      ['BEGIN', job.create(aside), ...(job.keep ? [notes.writeSql(aside, header)] : []), 'COMMIT'].join('; '),
    );
  else job.log.info({ aside: name, committed: done.length, of: n }, 'resuming a chunked restore');
  job.progress.created = true;
  job.progress.committed = [...(done ?? [])];
  const skip = new Set(done ?? []);
  const pending = job.files.map((_, i) => i).filter((i) => !skip.has(i + 1));
  const plan = { ...job.plan, table: aside };
  const load = new SplitLoad(pending, async (l, i, connection) => {
    await l.loadTable!(
      { plan, after: job.keep ? [l.notes!.addSql(aside, String(i + 1))] : [] },
      job.batchesOf([job.files[i]!], connection),
    );
    job.progress.committed.push(i + 1);
  });
  if (pending.length > 1 && job.helpers?.count) job.helpers.offer(load);
  else job.helpers?.decided();
  await load.work(loader);
  await load.settled();
  job.split = load;
  const key = job.plan.primaryKey.length ? [addPrimaryKeySql(job.ref, job.plan.primaryKey, job.engine)] : [];
  // renamed first: the key's index is then named for the table, as one created with it would be
  await loader.execute(
    [
      'BEGIN',
      notes.writeSql(aside, undefined),
      job.engine.ddl.renameTableSql(aside, job.ref.name),
      ...key,
      'COMMIT',
    ].join('; '),
  );
  await loader.lock?.give(job.ref);
  return done?.length ?? 0;
}
