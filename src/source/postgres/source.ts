import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { RecordBatch } from 'apache-arrow';
import { BatchAssembler, builderCapacity } from '../../arrow/batch.js';
import { describeDbUrl } from '../../redact.js';
import type { SourceTable, TableRef } from '../columns.js';
import type { Chunk, ChunkRange, ReadOptions, RunSnapshot, Source, SourceOptions } from '../source.js';
import { checkReaders, maxConnections } from '../connections.js';
import { CopyTextDecoder } from './copy-text.js';
import { CopyBinaryDecoder } from './copy-binary.js';
import { CopyOut } from './copy-out.js';
import { pgConnectError } from './errors.js';
import { SESSION_SETTINGS } from './session.js';
import { beginRead, exportSnapshot, pgSnapshot, type PgRunSnapshot } from './snapshot.js';
import { planPgChunks } from './chunks.js';
import { readText, valueText } from './text.js';
import { sqlAnd } from '../quote.js';
import { quotePgIdent } from './quote.js';
import { describeTable } from './describe.js';
import { readCatalog } from './catalog.js';
import type { Catalog } from '../../plan/tables.js';
import { planQuery, readPlan, type ColumnTypeRow } from './read-plan.js';
import {
  beforeDaySql,
  isNotNullSql,
  isNullSql,
  tupleAfterSql,
  tupleInSql,
  tupleNotAfterSql,
  withinLagSql,
} from './conditions.js';

export { quotePgIdent };

/**
 * Batches per keyset page. Each page is a statement of its own: the server plans it, starts its
 * index scan, and sits idle while the last rows of the page before cross the wire and the next
 * statement comes back, which at one batch per page (50 pages per 1M bench rows) cost ~0.1 s.
 */
const PAGE_BATCHES = 10;

/** A row decoder for either COPY format. */
interface RowDecoder {
  readonly lastKey: string[];
  row(buf: Buffer, start: number, end: number): void;
  end(): void;
}

/**
 * Runs one COPY into the decoder's assembler, reading the socket only while the batch has room:
 * at each full batch the socket pauses (PostgreSQL then waits on TCP backpressure) and `batch()`
 * is yielded, then reading goes on; the last, partial batch is yielded at the end.
 */
async function* copyInBatches(
  client: pg.PoolClient,
  sql: string,
  dec: RowDecoder,
  asm: BatchAssembler,
  live: { batchRows: number },
  batch: () => RecordBatch,
): AsyncGenerator<RecordBatch> {
  const copy: CopyOut = new CopyOut(sql, (b, s, e) => {
    dec.row(b, s, e);
    if (asm.rows >= live.batchRows) copy.pause();
  });
  client.query(copy);
  while ((await copy.wait()) === 'paused') {
    if (asm.rows > 0) yield batch();
    copy.resume();
  }
  dec.end();
  if (asm.rows > 0) yield batch();
}

export class PostgresSource implements Source {
  readonly engine = 'postgres' as const;
  readonly label: string;
  readonly valueText = valueText;
  // the key, lag, NULL and day conditions, in conditions.ts
  readonly tupleAfterSql = tupleAfterSql;
  readonly tupleNotAfterSql = tupleNotAfterSql;
  readonly tupleInSql = tupleInSql;
  readonly withinLagSql = withinLagSql;
  readonly isNullSql = isNullSql;
  readonly isNotNullSql = isNotNullSql;
  readonly beforeDaySql = beforeDaySql;
  private readonly pool: pg.Pool;
  private readonly db: Kysely<unknown>;
  private readonly maxConnections: number;
  private readonly snapshots = new Set<PgRunSnapshot>();

  constructor(url: string, opts: SourceOptions = {}) {
    this.label = describeDbUrl(url);
    this.maxConnections = maxConnections(opts);
    this.pool = new pg.Pool({
      connectionString: url,
      max: this.maxConnections,
      application_name: 'tablevault',
      connectionTimeoutMillis: 15_000,
    });
    this.pool.on('error', () => {}); // an idle client's error surfaces on its next use
    this.db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool: this.pool }) });
  }

  private async connect(): Promise<pg.PoolClient> {
    try {
      return await this.pool.connect();
    } catch (e) {
      throw pgConnectError(e, this.label);
    }
  }

  async describe(ref: TableRef): Promise<SourceTable> {
    const client = await this.connect(); // fail early, with a clear message, before kysely hides the cause
    client.release();
    return describeTable(this.db, this.label, ref);
  }

  async catalog(): Promise<Catalog> {
    (await this.connect()).release(); // as describe: a failed connection says what to fix
    return readCatalog(this.db);
  }

  /**
   * See Source.openSnapshot: a coordinating connection exports the snapshot; each read imports
   * it on a connection of its own.
   */
  async openSnapshot(readers: number): Promise<RunSnapshot> {
    checkReaders(readers, this.maxConnections);
    const snapshot = await exportSnapshot(await this.connect(), (s) => this.snapshots.delete(s));
    this.snapshots.add(snapshot);
    return snapshot;
  }

  async planChunks(table: SourceTable, chunkRows: number, range?: ChunkRange): Promise<Chunk[]> {
    const client = await this.connect();
    try {
      for (const s of SESSION_SETTINGS) await client.query(s); // bounds in the text form literals are read back in
      return await planPgChunks(client, table, chunkRows, range);
    } finally {
      client.release();
    }
  }

  /**
   * One REPEATABLE READ snapshot for the whole table (the run's, given `opts.snapshot`). With a
   * primary key: keyset pages, each `COPY (SELECT … WHERE (pk) > (last) ORDER BY pk LIMIT n)` of
   * PAGE_BATCHES batches, cut into batches as it streams, so no statement runs long. Without one:
   * a single COPY, cut the same way.
   */
  async *read(table: SourceTable, opts: ReadOptions): AsyncGenerator<RecordBatch> {
    const snapshot = pgSnapshot(opts.snapshot);
    const client = await this.connect();
    let clean = false;
    let asmRef: BatchAssembler | undefined;
    try {
      const types = await beginRead<ColumnTypeRow>(client, snapshot, this.label, planQuery(table));
      const from = `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`;
      const keyCols = opts.keyColumns ?? table.primaryKey;
      const keyIdx = keyCols.map((k) => table.columns.findIndex((c) => c.name === k));
      if (keyIdx.some((i) => i < 0))
        throw new Error(`internal: key columns ${keyCols.join(', ')} must be among the columns read`);
      const capacity = builderCapacity(table.estimatedRows, opts.batchRows);
      const plan = readPlan(types, table, keyIdx, capacity);
      const select = `SELECT ${plan.selectList} FROM ${from}`;
      const format = plan.binary ? ' (FORMAT binary)' : '';
      const asm = new BatchAssembler(table.columns, readText, capacity, plan.builders);
      asmRef = asm;
      const decoder = (keys: number[]): RowDecoder =>
        plan.binary ? new CopyBinaryDecoder(asm, keys, plan.keyForms) : new CopyTextDecoder(asm, keys);
      const maxRows = opts.maxRows ?? Infinity;
      let total = 0;
      if (keyIdx.length) {
        const keyList = keyCols.map(quotePgIdent).join(', ');
        let last = opts.after;
        while (total < maxRows) {
          const where = sqlAnd(opts.where, last && this.tupleAfterSql(table, keyCols, last));
          const limit = Math.min(opts.batchRows * PAGE_BATCHES, maxRows - total);
          const dec = decoder(keyIdx);
          let pageRows = 0;
          const batch = (): RecordBatch => {
            total += asm.rows;
            pageRows += asm.rows;
            last = dec.lastKey;
            if (opts.stats) {
              opts.stats.lastKey = last;
              opts.stats.rows = total;
            }
            return asm.flush();
          };
          // a page is cut into batches as it streams, as the keyless COPY below is
          yield* copyInBatches(
            client,
            `COPY (${select}${where ? ` WHERE ${where}` : ''} ORDER BY ${keyList} LIMIT ${limit}) TO STDOUT${format}`,
            dec,
            asm,
            opts,
            batch,
          );
          if (pageRows < limit) break;
        }
        if (opts.recordKeys && last && opts.stats) {
          const where = sqlAnd(
            opts.where,
            opts.after && this.tupleAfterSql(table, keyCols, opts.after),
            this.tupleNotAfterSql(table, keyCols, last),
            opts.recordKeys(last),
          );
          opts.stats.keys = await this.keyQuery(client, table, keyCols, where);
        }
      } else {
        // one COPY for the whole table, cut into batches as it streams
        yield* copyInBatches(
          client,
          `COPY (${select}${opts.where ? ` WHERE ${opts.where}` : ''}) TO STDOUT${format}`,
          decoder([]),
          asm,
          opts,
          () => asm.flush(),
        );
      }
      // sent, not waited on: every row is in, and the COMMIT of a read-only transaction has
      // nothing to fail on but the connection, which the pool then drops; the connection's next
      // user (most often the next table's read) queues its statements behind it on the wire
      // instead of waiting a round trip first
      client.query('COMMIT').catch(() => {});
      clean = true;
    } finally {
      if (opts.stats && asmRef) opts.stats.counters = asmRef.counters();
      // a COPY abandoned mid-stream leaves the connection unusable: destroy it instead of reusing it
      client.release(clean ? undefined : new Error('read abandoned'));
    }
  }

  private async keyQuery(
    client: pg.PoolClient,
    table: SourceTable,
    keyColumns: string[],
    where: string | undefined,
    last = false,
  ): Promise<string[][]> {
    const from = `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`;
    const cols = keyColumns.map((k) => `${quotePgIdent(k)}::text`).join(', ');
    // qualified: a bare name in ORDER BY is the output column first, here the key's text (so '9999' > '10000')
    const order = keyColumns.map((k) => `${from}.${quotePgIdent(k)}${last ? ' DESC' : ''}`).join(', ');
    const res = await client.query<string[]>({
      text: `SELECT ${cols} FROM ${from}${where ? ` WHERE ${where}` : ''} ORDER BY ${order}${last ? ' LIMIT 1' : ''}`,
      rowMode: 'array',
    });
    return res.rows;
  }

  async readKeys(
    table: SourceTable,
    keyColumns: string[],
    where: string | undefined,
    opts: { snapshot?: RunSnapshot; last?: boolean } = {},
  ): Promise<string[][]> {
    const snapshot = pgSnapshot(opts.snapshot);
    const client = await this.connect();
    let clean = false;
    try {
      await beginRead(client, snapshot, this.label);
      const keys = await this.keyQuery(client, table, keyColumns, where, opts.last);
      await client.query('COMMIT');
      clean = true;
      return keys;
    } finally {
      client.release(clean ? undefined : new Error('key read failed'));
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.snapshots].map((s) => s.close()));
    await this.db.destroy();
  }
}
