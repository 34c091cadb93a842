import { Kysely, MysqlDialect, sql } from 'kysely';
import mysql from 'mysql2';
import type { RecordBatch } from 'apache-arrow';
import { BatchAssembler } from '../../arrow/batch.js';
import { inputError } from '../../errors.js';
import { mysqlConnectError } from './errors.js';
import { mysqlConnectionOptions } from './connection.js';
import { sqlAnd } from '../quote.js';
import { quoteMysqlIdent } from './quote.js';
import { describeDbUrl } from '../../redact.js';
import type { ColumnSpec, SourceTable, TableRef } from '../columns.js';
import type { Lag, ReadOptions, Source } from '../source.js';
import { mapMysqlColumn, type MysqlColumnRow } from './types.js';
import { TextRows } from './text-rows.js';
import { readText, valueText } from './text.js';

export { quoteMysqlIdent };

type Conn = mysql.PoolConnection;

function run(conn: Conn, sqlText: string, values?: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) =>
    conn.query(sqlText, values, (err, res) => (err ? reject(err) : resolve(res))),
  );
}

/**
 * A key column's value in text form, as watermarks store it: the text the server sent, or hex
 * for binary columns, whose bytes need not be UTF-8.
 */
function keyText(col: ColumnSpec, raw: Buffer): string {
  return col.kind === 'binary' ? raw.toString('hex') : raw.toString('utf8');
}

export class MysqlSource implements Source {
  readonly engine = 'mysql' as const;
  readonly valueText = valueText;
  readonly label: string;
  private readonly pool: mysql.Pool;
  private readonly db: Kysely<unknown>;
  private readonly database: string;

  constructor(url: string) {
    this.label = describeDbUrl(url);
    const conn = mysqlConnectionOptions(url);
    this.database = conn.database ?? '';
    this.pool = mysql.createPool({
      ...conn,
      timezone: 'Z',
      connectionLimit: 6,
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
    const schema = ref.schema ?? this.database;
    if (!schema)
      throw inputError(
        'TABLE_NOT_FOUND',
        `no database given: put it in the --source URL (mysql://…/db) or use --table db.table`,
      );
    const cols = await sql<MysqlColumnRow>`
      SELECT COLUMN_NAME AS name, DATA_TYPE AS dataType, COLUMN_TYPE AS columnType, IS_NULLABLE AS nullable,
             NUMERIC_PRECISION AS \`precision\`, NUMERIC_SCALE AS scale
      FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${ref.name}
      ORDER BY ORDINAL_POSITION`.execute(this.db);
    if (cols.rows.length === 0) {
      throw inputError('TABLE_NOT_FOUND', `table ${schema}.${ref.name} does not exist in ${this.label}; check --table`);
    }
    const pk = await sql<{ name: string }>`
      SELECT COLUMN_NAME AS name FROM information_schema.STATISTICS
      WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${ref.name} AND INDEX_NAME = 'PRIMARY'
      ORDER BY SEQ_IN_INDEX`.execute(this.db);
    const est = await sql<{ rows: number | string | null }>`
      SELECT TABLE_ROWS AS \`rows\` FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${ref.name}`.execute(
      this.db,
    );
    return {
      engine: 'mysql',
      schema,
      name: ref.name,
      columns: cols.rows.map((r) =>
        mapMysqlColumn({
          ...r,
          precision: r.precision === null ? null : Number(r.precision),
          scale: r.scale === null ? null : Number(r.scale),
        }),
      ),
      primaryKey: pk.rows.map((r) => r.name),
      estimatedRows: Number(est.rows[0]?.rows ?? 0),
    };
  }

  /**
   * One consistent-snapshot transaction. With a primary key: keyset pages
   * (`WHERE (pk) > (last) ORDER BY pk LIMIT n`); without: one streamed SELECT. Each field goes
   * from the text-protocol packet straight into its column builder (text-rows.ts).
   */
  async *read(table: SourceTable, opts: ReadOptions): AsyncGenerator<RecordBatch> {
    const conn = await this.connect();
    let clean = false;
    let asmRef: BatchAssembler | undefined;
    try {
      await run(conn, "SET SESSION time_zone = '+00:00'");
      await run(conn, 'SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      await run(conn, 'START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY');
      const from = `${quoteMysqlIdent(table.schema)}.${quoteMysqlIdent(table.name)}`;
      // FLOAT prints with ~6 significant digits, too few to get the stored float32 back; as DOUBLE it is exact
      const select = `SELECT ${table.columns.map((c) => (c.kind === 'float32' ? `CAST(${quoteMysqlIdent(c.name)} AS DOUBLE)` : quoteMysqlIdent(c.name))).join(', ')} FROM ${from}`;
      const asm = new BatchAssembler(table.columns, readText, opts.batchRows);
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
      await run(conn, 'COMMIT');
      clean = true;
    } finally {
      if (opts.stats && asmRef) opts.stats.counters = asmRef.counters();
      if (clean) conn.release();
      else conn.destroy(); // a result stream abandoned mid-way leaves the connection unusable
    }
  }

  /**
   * A key value (text form, see keyText) as a literal MySQL compares exactly: integers inline
   * (a string against a BIGINT would compare as DOUBLE), decimals cast to their own type, binary
   * from hex, the rest as strings (temporal columns compare a string as a date).
   */
  private literal(table: SourceTable, column: string, value: string): string {
    const col = table.columns.find((c) => c.name === column);
    if (!col) throw new Error(`internal: no column ${column}`);
    if (/^u?int(8|16|32|64)$/.test(col.kind) && /^-?\d+$/.test(value)) return value;
    if (col.kind === 'decimal') return `CAST(${mysql.escape(value)} AS DECIMAL(${col.precision},${col.scale}))`;
    if (col.kind === 'binary') {
      if (!/^(?:[0-9a-f]{2})*$/.test(value)) throw new Error(`internal: binary key value of ${column} is not hex`);
      return `X'${value}'`;
    }
    return mysql.escape(value);
  }

  /** Expanded form: MariaDB does not use an index for row-constructor comparisons. */
  tupleAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
    const lits = values.map((v, i) => this.literal(table, keyColumns[i]!, v));
    const ors = keyColumns.map((_, i) => {
      const ands = keyColumns.slice(0, i).map((c, j) => `${quoteMysqlIdent(c)} = ${lits[j]}`);
      ands.push(`${quoteMysqlIdent(keyColumns[i]!)} > ${lits[i]}`);
      return `(${ands.join(' AND ')})`;
    });
    return `(${ors.join(' OR ')})`;
  }

  tupleNotAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
    return `NOT ${this.tupleAfterSql(table, keyColumns, values)}`;
  }

  tupleInSql(table: SourceTable, keyColumns: string[], tuples: string[][]): string {
    if (tuples.length === 0) return 'FALSE';
    return `(${keyColumns.map(quoteMysqlIdent).join(', ')}) IN (${tuples.map((t) => `(${t.map((v, i) => this.literal(table, keyColumns[i]!, v)).join(', ')})`).join(', ')})`;
  }

  withinLagSql(table: SourceTable, column: string, value: string, lag: Lag): string {
    const lit = this.literal(table, column, value);
    const bound =
      'seconds' in lag ? `${lit} - INTERVAL ${Math.round(lag.seconds * 1e6)} MICROSECOND` : `${lit} - ${lag.amount}`;
    return `${quoteMysqlIdent(column)} > ${bound}`;
  }

  isNullSql(column: string): string {
    return `${quoteMysqlIdent(column)} IS NULL`;
  }

  isNotNullSql(column: string): string {
    return `${quoteMysqlIdent(column)} IS NOT NULL`;
  }

  /** DATETIME and TIMESTAMP literals are read at the session's +00:00. */
  beforeDaySql(cursor: ColumnSpec, day: string): string {
    return `${quoteMysqlIdent(cursor.name)} < ${cursor.kind === 'date' ? `'${day}'` : `'${day} 00:00:00'`}`;
  }

  private async keyQuery(
    conn: Conn,
    table: SourceTable,
    keyColumns: string[],
    where: string | undefined,
  ): Promise<string[][]> {
    const from = `${quoteMysqlIdent(table.schema)}.${quoteMysqlIdent(table.name)}`;
    const rows = await new Promise<Array<Array<Buffer | null>>>((resolve, reject) =>
      conn.query(
        {
          sql: `SELECT ${keyColumns.map(quoteMysqlIdent).join(', ')} FROM ${from}${where ? ` WHERE ${where}` : ''} ORDER BY ${keyColumns.map(quoteMysqlIdent).join(', ')}`,
          rowsAsArray: true,
          typeCast: false,
        },
        (err, res) => (err ? reject(err) : resolve(res as Array<Array<Buffer | null>>)),
      ),
    );
    const cols = keyColumns.map((k) => table.columns.find((c) => c.name === k)!);
    return rows.map((r) => r.map((b, i) => (b === null ? '' : keyText(cols[i]!, b))));
  }

  async readKeys(table: SourceTable, keyColumns: string[], where: string | undefined): Promise<string[][]> {
    const conn = await this.connect();
    try {
      await run(conn, "SET SESSION time_zone = '+00:00'");
      return await this.keyQuery(conn, table, keyColumns, where);
    } finally {
      conn.release();
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
