import { Kysely, MysqlDialect } from 'kysely';
import mysql from 'mysql2';
import type { RecordBatch } from 'apache-arrow';
import { BatchAssembler, builderCapacity } from '../../arrow/batch.js';
import { mysqlConnectError } from './errors.js';
import { mysqlConnectionOptions } from './connection.js';
import { sqlAnd } from '../quote.js';
import { quoteMysqlIdent } from './quote.js';
import { describeDbUrl } from '../../redact.js';
import type { SourceTable, TableRef } from '../columns.js';
import type { Chunk, ChunkRange, ReadOptions, RunSnapshot, Source, SourceOptions } from '../source.js';
import { checkReaders, maxConnections } from '../connections.js';
import { MysqlRunSnapshot, openMysqlSnapshot, readSession, run, type CommitLock } from './snapshot.js';
import { planMysqlChunks } from './chunks.js';
import { TextRows } from './text-rows.js';
import { readText, valueText } from './text.js';
import { describeTable } from './describe.js';
import { readCatalog } from './catalog.js';
import type { Catalog } from '../../plan/tables.js';
import {
  beforeDaySql,
  keyText,
  isNotNullSql,
  isNullSql,
  tupleAfterSql,
  tupleInSql,
  tupleNotAfterSql,
  withinLagSql,
} from './conditions.js';

export { quoteMysqlIdent };

type Conn = mysql.PoolConnection;

/** A read's connection, in its snapshot; `end` commits and releases it, or (not clean) closes it. */
interface Lease {
  conn: Conn;
  end(clean: boolean): Promise<void>;
}

/** The source's own snapshot object, or an internal error for anything else. */
function mysqlSnapshot(s: RunSnapshot | undefined): MysqlRunSnapshot | undefined {
  if (s === undefined) return undefined;
  if (!(s instanceof MysqlRunSnapshot)) throw new Error('internal: a snapshot from another source');
  return s;
}

export class MysqlSource implements Source {
  readonly engine = 'mysql' as const;
  readonly valueText = valueText;
  // the key, lag, NULL and day conditions, in conditions.ts
  readonly tupleAfterSql = tupleAfterSql;
  readonly tupleNotAfterSql = tupleNotAfterSql;
  readonly tupleInSql = tupleInSql;
  readonly withinLagSql = withinLagSql;
  readonly isNullSql = isNullSql;
  readonly isNotNullSql = isNotNullSql;
  readonly beforeDaySql = beforeDaySql;
  readonly label: string;
  private readonly pool: mysql.Pool;
  private readonly db: Kysely<unknown>;
  private readonly database: string;
  private readonly maxConnections: number;
  private readonly snapshots = new Set<MysqlRunSnapshot>();

  constructor(url: string, opts: SourceOptions = {}) {
    this.label = describeDbUrl(url);
    this.maxConnections = maxConnections(opts);
    const conn = mysqlConnectionOptions(url);
    this.database = conn.database ?? '';
    this.pool = mysql.createPool({
      ...conn,
      timezone: 'Z',
      connectionLimit: this.maxConnections,
      connectTimeout: 15_000,
      supportBigNumbers: true,
      bigNumberStrings: true,
      dateStrings: true,
    });
    this.db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool: this.pool }) });
  }

  private connect(): Promise<Conn> {
    return new Promise((resolve, reject) =>
      this.pool.getConnection((err, c) => (err ? reject(mysqlConnectError(err, this.label)) : resolve(c))),
    );
  }

  async describe(ref: TableRef): Promise<SourceTable> {
    (await this.connect()).release();
    return describeTable(this.db, this.label, this.database, ref);
  }

  async catalog(): Promise<Catalog> {
    (await this.connect()).release();
    return readCatalog(this.db, this.database);
  }

  /**
   * See Source.openSnapshot. `lock` forces how commits are blocked (tests take each way on one
   * server); by default BACKUP STAGE on MariaDB ≥ 10.4, FLUSH TABLES WITH READ LOCK on MySQL.
   */
  async openSnapshot(readers: number, lock?: CommitLock): Promise<RunSnapshot> {
    checkReaders(readers, this.maxConnections);
    const snapshot = await openMysqlSnapshot(
      () => this.connect(),
      readers,
      this.label,
      (s) => this.snapshots.delete(s),
      lock,
    );
    this.snapshots.add(snapshot);
    return snapshot;
  }

  async planChunks(table: SourceTable, chunkRows: number, range?: ChunkRange): Promise<Chunk[]> {
    const conn = await this.connect();
    let clean = false;
    try {
      await run(conn, "SET SESSION time_zone = '+00:00'");
      const chunks = await planMysqlChunks(conn, table, chunkRows, range);
      clean = true;
      return chunks;
    } finally {
      if (clean) conn.release();
      else conn.destroy();
    }
  }

  /**
   * A read's connection: one lent by the run's snapshot, or one of its own in a snapshot of its
   * own (`transaction`: START TRANSACTION WITH CONSISTENT SNAPSHOT; else each statement is its own).
   */
  private async lease(snapshot: MysqlRunSnapshot | undefined, transaction: boolean): Promise<Lease> {
    const lent = await snapshot?.borrow();
    if (lent) return { conn: lent, end: (clean) => snapshot!.giveBack(lent, clean) };
    const conn = await this.connect();
    const end = async (clean: boolean): Promise<void> => {
      if (!clean) return conn.destroy(); // a result stream abandoned mid-way leaves the connection unusable
      try {
        if (transaction) await run(conn, 'COMMIT');
      } catch (e) {
        conn.destroy();
        throw e;
      }
      conn.release();
    };
    try {
      await readSession(conn);
      if (transaction) await run(conn, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
    } catch (e) {
      await end(false);
      throw e;
    }
    return { conn, end };
  }

  /**
   * One consistent-snapshot transaction (the run's, given `opts.snapshot`). With a primary key:
   * keyset pages (`WHERE (pk) > (last) ORDER BY pk LIMIT n`); without: one streamed SELECT. Each
   * field goes from the text-protocol packet straight into its column builder (text-rows.ts).
   */
  async *read(table: SourceTable, opts: ReadOptions): AsyncGenerator<RecordBatch> {
    const lease = await this.lease(mysqlSnapshot(opts.snapshot), true);
    const conn = lease.conn;
    let clean = false;
    let asmRef: BatchAssembler | undefined;
    try {
      const from = `${quoteMysqlIdent(table.schema)}.${quoteMysqlIdent(table.name)}`;
      // FLOAT prints with ~6 significant digits, too few to get the stored float32 back; as DOUBLE it is exact
      const select = `SELECT ${table.columns.map((c) => (c.kind === 'float32' ? `CAST(${quoteMysqlIdent(c.name)} AS DOUBLE)` : quoteMysqlIdent(c.name))).join(', ')} FROM ${from}`;
      const asm = new BatchAssembler(table.columns, readText, builderCapacity(table.estimatedRows, opts.batchRows));
      asmRef = asm;
      const builders = asm.builders;
      const keyCols = opts.keyColumns ?? table.primaryKey;
      const keyIdx = keyCols.map((k) => table.columns.findIndex((c) => c.name === k));
      if (keyIdx.some((i) => i < 0))
        throw new Error(`internal: key columns ${keyCols.join(', ')} must be among the columns read`);
      // each field goes from mysql2's packet straight into its builder (see text-rows.ts)
      const field = (buf: Buffer, s: number, e: number, col: number): void => {
        if (s < 0) builders[col]!.appendNull();
        else builders[col]!.append(buf, s, e);
      };
      const ncols = builders.length;
      const maxRows = opts.maxRows ?? Infinity;
      let total = 0;
      if (keyIdx.length) {
        const keys = keyIdx.map((i) => table.columns[i]!);
        const order = keys.map((c) => quoteMysqlIdent(c.name)).join(', ');
        let last = opts.after;
        while (total < maxRows) {
          const where = sqlAnd(opts.where, last && this.tupleAfterSql(table, keyCols, last));
          const limit = Math.min(opts.batchRows, maxRows - total);
          const page = new TextRows(
            conn,
            `${select}${where ? ` WHERE ${where}` : ''} ORDER BY ${order} LIMIT ${limit}`,
            ncols,
            field,
            () => asm.endRow(),
          );
          await page.wait();
          total += page.rows;
          if (page.rows > 0) {
            const lastRow = page.lastFields();
            last = keyIdx.map((i, k) => keyText(keys[k]!, lastRow[i]!));
            if (opts.stats) {
              opts.stats.lastKey = last;
              opts.stats.rows = total;
            }
            yield asm.flush();
          }
          if (page.rows < limit) break;
        }
        if (opts.recordKeys && last && opts.stats) {
          const where = sqlAnd(
            opts.where,
            opts.after && this.tupleAfterSql(table, keyCols, opts.after),
            this.tupleNotAfterSql(table, keyCols, last),
            opts.recordKeys(last),
          );
          opts.stats.keys = await this.keyQuery(conn, table, keyCols, where);
        }
      } else {
        // one SELECT for the whole table: the connection pauses at each full batch until it is taken
        const all: TextRows = new TextRows(
          conn,
          `${select}${opts.where ? ` WHERE ${opts.where}` : ''}`,
          ncols,
          field,
          () => {
            asm.endRow();
            if (asm.rows >= opts.batchRows) all.pause();
          },
        );
        while ((await all.wait()) === 'paused') {
          yield asm.flush();
          all.resume();
        }
        if (asm.rows > 0) yield asm.flush();
      }
      clean = true;
    } finally {
      if (opts.stats && asmRef) opts.stats.counters = asmRef.counters();
      await lease.end(clean);
    }
  }

  private async keyQuery(
    conn: Conn,
    table: SourceTable,
    keyColumns: string[],
    where: string | undefined,
    last = false,
  ): Promise<string[][]> {
    const from = `${quoteMysqlIdent(table.schema)}.${quoteMysqlIdent(table.name)}`;
    const order = keyColumns.map((k) => `${quoteMysqlIdent(k)}${last ? ' DESC' : ''}`).join(', ');
    const rows = await new Promise<Array<Array<Buffer | null>>>((resolve, reject) =>
      conn.query(
        {
          sql: `SELECT ${keyColumns.map(quoteMysqlIdent).join(', ')} FROM ${from}${where ? ` WHERE ${where}` : ''} ORDER BY ${order}${last ? ' LIMIT 1' : ''}`,
          rowsAsArray: true,
          typeCast: false,
        },
        (err, res) => (err ? reject(err) : resolve(res as Array<Array<Buffer | null>>)),
      ),
    );
    const cols = keyColumns.map((k) => table.columns.find((c) => c.name === k)!);
    return rows.map((r) => r.map((b, i) => (b === null ? '' : keyText(cols[i]!, b))));
  }

  async readKeys(
    table: SourceTable,
    keyColumns: string[],
    where: string | undefined,
    opts: { snapshot?: RunSnapshot; last?: boolean } = {},
  ): Promise<string[][]> {
    const lease = await this.lease(mysqlSnapshot(opts.snapshot), false);
    let clean = false;
    try {
      const keys = await this.keyQuery(lease.conn, table, keyColumns, where, opts.last);
      clean = true;
      return keys;
    } finally {
      await lease.end(clean);
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.snapshots].map((s) => s.close()));
    await this.db.destroy();
  }
}
