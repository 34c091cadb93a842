import { Readable, type Writable } from 'node:stream';
import type pg from 'pg';
import { pipeline } from 'node:stream/promises';
import { keyPlan, type LoadBatch, type LoadPlan, type Loader, type TableLoad } from '../loader.js';
import { nullWriter, type ValueWriter } from './binary-value.js';
import { binaryWriterFor, type TargetType } from './binary-writers.js';
import { binaryRows, writeHeader, writeTrailer } from './copy-binary-writer.js';
import { ChunkPool, CopyOut } from './copy-chunks.js';
import { textRows } from './copy-text-writer.js';
import { pgNotes, pgRestoreLock } from './notes.js';
import { quotePgIdent } from './quote.js';
import { SESSION_SETTINGS } from './session.js';
import { targetTypes, targetTypesSql, typesFromRows } from './target-types.js';
import {
  createDeletedSql,
  createTombstonesSql,
  DELETED,
  deleteFromTargetSql,
  deleteTombstonedSql,
  TOMBSTONES,
  tombstoneOrdSql,
} from './tombstones.js';

const STAGE = 'pg_temp.tablevault_stage';
const VERSIONS = 'pg_temp.tablevault_versions';

/**
 * The rows a merge batch by batch would leave, in one INSERT: per key the version with the
 * greatest cursor and, among those, the last in file order (a merge replaces a row when the
 * stored cursor is not newer: `<=`); upsert, the last in file order. A version without a cursor
 * loses to one with a cursor.
 */
function newestOfEach(plan: LoadPlan, target: string): string {
  const cols = plan.columns.map((c) => quotePgIdent(c.name)).join(', ');
  const key = plan.primaryKey.map(quotePgIdent).join(', ');
  const cursor = plan.conflict === 'newest' ? `${quotePgIdent(plan.cursor!)} DESC NULLS LAST, ` : '';
  return `INSERT INTO ${target} (${cols}) SELECT DISTINCT ON (${key}) ${cols} FROM ${VERSIONS} ORDER BY ${key}, ${cursor}tablevault_ord DESC`;
}

/**
 * The binary writers for a batch, one per plan column, or undefined when some column has none
 * (then the batch goes as text). A column the object predates is NULL throughout, in any type.
 */
function binaryWriters(plan: LoadPlan, batch: LoadBatch, types: Map<string, TargetType>): ValueWriter[] | undefined {
  if (!batch.columns) return undefined;
  const writers: ValueWriter[] = [];
  for (const [i, c] of plan.columns.entries()) {
    const col = batch.columns[i]!;
    if (!col.data || !col.written) {
      writers.push(nullWriter);
      continue;
    }
    const target = types.get(c.name);
    const factory = target && binaryWriterFor(col.written, target);
    if (!factory) return undefined;
    writers.push(factory(col.data));
  }
  return writers;
}

/** A restore's loader into PostgreSQL: COPY FROM STDIN (binary where every column allows), through a temporary table when rows may conflict. */
export async function openLoader(url: string): Promise<Loader> {
  const pgm = (await import('pg')).default;
  const { from } = (await import('pg-copy-streams')).default;
  const client = new pgm.Client({ connectionString: url, application_name: 'tablevault-restore' });
  await client.connect();
  for (const s of SESSION_SETTINGS) await client.query(s);
  // the socket, to give chunks back to the pool once it has handed them all to the kernel
  const socket = (client as unknown as { connection: { stream: Writable } }).connection.stream;
  let staged = '';
  let deletedFor = '';
  const types = new Map<string, Map<string, TargetType>>();
  const pool = new ChunkPool();
  const formats = { binary: 0, text: 0 };
  const name = (t: LoadPlan['table']) =>
    t.schema ? `${quotePgIdent(t.schema)}.${quotePgIdent(t.name)}` : quotePgIdent(t.name);
  const typesOf = async (target: string) => {
    let t = types.get(target);
    if (!t) types.set(target, (t = await targetTypes(client, target)));
    return t;
  };

  /**
   * COPYs the batches into `into`: one COPY per run of batches of one format (binary, or text
   * when a column has no binary writer), each chunk made only when the COPY asks for it (one read
   * ahead at most: the socket's backpressure reaches the writers), and the next batch asked for
   * only when the last one is written, so the server parses one while the next is decoded. Rows,
   * or with `keys` a tombstone's keys: stops at the first batch of the other kind and returns it
   * (from `first` on, when given: a batch already asked for), with the rows COPYed.
   */
  async function copyBatches(
    plan: LoadPlan,
    into: string,
    batches: AsyncIterator<LoadBatch>,
    opts: {
      freeze?: boolean;
      keys?: boolean;
      first?: IteratorResult<LoadBatch> | Promise<IteratorResult<LoadBatch>>;
    } = {},
  ): Promise<{ next: IteratorResult<LoadBatch>; rows: number }> {
    const cols = plan.columns.map((c) => quotePgIdent(c.name)).join(', ');
    const typeMap = await typesOf(name(plan.table));
    let next = await (opts.first ?? batches.next());
    const deletes = opts.keys === true;
    const freeze = opts.freeze === true;
    let rows = 0;
    while (!next.done && (next.value.deletes === true) === deletes) {
      const binary = binaryWriters(plan, next.value, typeMap) !== undefined;
      const options = [...(binary ? ['FORMAT binary'] : []), ...(freeze ? ['FREEZE'] : [])];
      const copy = client.query(
        from(`COPY ${into} (${cols}) FROM STDIN${options.length ? ` (${options.join(', ')})` : ''}`),
      );
      async function* run(): AsyncGenerator<Buffer> {
        const out = new CopyOut(pool);
        if (binary) writeHeader(out);
        while (!next.done) {
          const batch = next.value;
          if ((batch.deletes === true) !== deletes) break;
          const writers = binaryWriters(plan, batch, typeMap);
          if ((writers !== undefined) !== binary) break;
          if (writers) yield* binaryRows(writers, batch.numRows, out);
          else yield* textRows(plan, batch, out);
          formats[writers ? 'binary' : 'text']++;
          rows += batch.numRows;
          // nothing queued in the COPY stream or the socket: every chunk but the one being written is free again
          if (copy.writableLength === 0 && socket.writableLength === 0) pool.reclaim(out.buf);
          next = await batches.next();
        }
        if (binary) writeTrailer(out);
        yield* out.drain(true);
      }
      await pipeline(Readable.from(run(), { highWaterMark: 1 }), copy);
      pool.reclaim();
    }
    return { next, rows };
  }

  /**
   * Every version into the versions table, numbered in file order, less those a later tombstone
   * deletes: its keys are COPYed beside the count of versions before it, and one DELETE at the end
   * removes the versions they cover. Without tombstones: one run of COPYs, nothing more.
   */
  async function copyVersions(
    plan: LoadPlan,
    batches: AsyncIterator<LoadBatch>,
    first: Promise<IteratorResult<LoadBatch>>,
  ) {
    let { next, rows: versions } = await copyBatches(plan, VERSIONS, batches, { freeze: true, first });
    let tombstones = false;
    while (!next.done) {
      if (!tombstones) await client.query(createTombstonesSql(plan, name(plan.table)));
      tombstones = true;
      await client.query(tombstoneOrdSql(versions));
      ({ next } = await copyBatches(keyPlan(plan), TOMBSTONES, batches, { keys: true, first: next }));
      if (next.done) break;
      const more = await copyBatches(plan, VERSIONS, batches, { freeze: true, first: next });
      next = more.next;
      versions += more.rows;
    }
    if (tombstones) await client.query(deleteTombstonedSql(plan, VERSIONS));
  }

  /** A tombstone's keys, deleted from the target (in the caller's transaction). */
  async function deleteKeys(plan: LoadPlan, batch: LoadBatch) {
    const target = name(plan.table);
    if (deletedFor !== target) await client.query(createDeletedSql(plan, target));
    deletedFor = target;
    await copyBatches(keyPlan(plan), DELETED, once(batch), { keys: true });
    await client.query(deleteFromTargetSql(plan, target));
  }

  /** Rows of the staging table into the target: new keys inserted, existing ones replaced (newest: unless the target's cursor is newer). */
  async function merge(plan: LoadPlan) {
    const target = name(plan.table);
    const cols = plan.columns.map((c) => quotePgIdent(c.name)).join(', ');
    const set = plan.columns
      .filter((c) => !plan.primaryKey.includes(c.name))
      .map((c) => `${quotePgIdent(c.name)} = EXCLUDED.${quotePgIdent(c.name)}`);
    const action = set.length
      ? `DO UPDATE SET ${set.join(', ')}${plan.conflict === 'newest' ? ` WHERE ${target}.${quotePgIdent(plan.cursor!)} <= EXCLUDED.${quotePgIdent(plan.cursor!)}` : ''}`
      : 'DO NOTHING';
    await client.query(
      `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${STAGE} ON CONFLICT (${plan.primaryKey.map(quotePgIdent).join(', ')}) ${action}`,
    );
  }

  async function stage(plan: LoadPlan) {
    const target = name(plan.table);
    if (staged === target) return;
    await client.query(
      `DROP TABLE IF EXISTS ${STAGE}; CREATE TEMP TABLE tablevault_stage (LIKE ${target}) ON COMMIT DELETE ROWS`,
    );
    staged = target;
  }

  /** `begin` and `commit` may carry statements of the transaction with them, each list one round trip. */
  async function inTransaction(work: (opened: unknown) => Promise<void>, begin = 'BEGIN', commit = 'COMMIT') {
    try {
      await work(await client.query(begin));
      await client.query(commit);
    } catch (e) {
      pool.forget();
      // the staging table and the types read in the transaction are gone with it
      staged = '';
      deletedFor = '';
      types.clear();
      await client.query('ROLLBACK').catch(() => {});
      throw e;
    }
  }

  /** The rows of the last statement of a simple-protocol list (pg gives an array of results for more than one). */
  const lastRows = (res: unknown) =>
    (Array.isArray(res) ? (res.at(-1) as pg.QueryResult) : (res as pg.QueryResult)).rows;

  async function* once(batch: LoadBatch): AsyncGenerator<LoadBatch> {
    yield batch;
  }

  return {
    engine: 'postgres',
    formats,
    async load(plan, batch) {
      await inTransaction(async () => {
        if (batch.deletes) return deleteKeys(plan, batch);
        if (plan.conflict === 'insert') {
          await copyBatches(plan, name(plan.table), once(batch));
          return;
        }
        await stage(plan);
        await copyBatches(plan, STAGE, once(batch));
        await merge(plan);
      });
    },
    async loadTable(job: TableLoad, batches: AsyncIterable<LoadBatch>) {
      const { plan } = job;
      const target = name(plan.table);
      types.delete(target);
      const it = batches[Symbol.asyncIterator]();
      // the first batch is read and decoded while the server creates the table
      const first = it.next();
      first.catch(() => {}); // awaited by the COPY, or dropped when the transaction fails first
      // a small table's statements are few: the BEGIN, the CREATE TABLE and the read of its column
      // types go in one round trip, the key and the COMMIT in another
      const begin = job.create
        ? `BEGIN; ${job.create}; ${targetTypesSql(target)}`
        : job.empty
          ? `BEGIN; TRUNCATE ${target}`
          : 'BEGIN';
      // created or emptied in this transaction: the versions staged and the newest of each key inserted at once
      const fresh = job.create !== undefined || job.empty === true;
      const commit = [...(job.after ?? []), 'COMMIT'].join('; ');
      try {
        await inTransaction(
          async (opened) => {
            if (job.create) types.set(target, typesFromRows(lastRows(opened)));
            if (plan.conflict === 'insert') {
              // created in this transaction: COPY may write the rows frozen (no later hint-bit or freeze pass);
              // not a truncated one, which may be partitioned (COPY FREEZE refuses those)
              const { next } = await copyBatches(plan, target, it, { freeze: job.create !== undefined, first });
              // only an incremental backup (conflict newest) has tombstones
              if (!next.done) throw new Error('a tombstone object among the rows of a plain load');
            } else if (fresh) {
              // a new (or emptied) table: every version into one staging table, numbered in file order, then the newest
              // of each key into the table in one statement (the key is built after, from `after`)
              await client.query(
                `CREATE TEMP TABLE tablevault_versions (LIKE ${target}, tablevault_ord bigserial) ON COMMIT DROP`,
              );
              await copyVersions(plan, it, first);
              await client.query(newestOfEach(plan, target));
            } else {
              await stage(plan);
              for (let next = await first; !next.done; next = await it.next()) {
                if (next.value.deletes) {
                  await deleteKeys(plan, next.value);
                  await client.query(`TRUNCATE ${DELETED}`);
                  continue;
                }
                await copyBatches(plan, STAGE, once(next.value));
                await merge(plan);
                // one transaction: ON COMMIT DELETE ROWS has not emptied it
                await client.query(`TRUNCATE ${STAGE}`);
              }
            }
          },
          begin,
          commit,
        );
      } finally {
        // ends the read (its object freed) wherever the transaction stopped; after the last batch, a no-op
        await it.return?.(undefined).catch(() => {});
      }
      types.delete(target);
    },
    notes: pgNotes(client, name),
    lock: pgRestoreLock(client),
    async truncate(t) {
      await client.query(`TRUNCATE ${name(t)}`);
    },
    async execute(sqlText) {
      types.clear();
      await client.query(sqlText);
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}
