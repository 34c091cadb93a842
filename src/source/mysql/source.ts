import { Kysely, MysqlDialect, sql } from 'kysely';
import mysql from 'mysql2';
import type { RecordBatch } from 'apache-arrow';
import { BatchAssembler } from '../../arrow/batch.js';
import { inputError } from '../../errors.js';
import { mysqlConnectError } from './errors.js';
import { mysqlConnectionOptions } from './connection.js';
import { quoteMysqlIdent, sqlAnd } from '../quote.js';
import { describeDbUrl } from '../../redact.js';
import type { ColumnSpec, SourceTable, TableRef } from '../columns.js';
import type { Lag, ReadOptions, Source } from '../source.js';
import { mapMysqlColumn, type MysqlColumnRow } from './types.js';

export { quoteMysqlIdent };

type Conn = mysql.PoolConnection;

function run(conn: Conn, sqlText: string, values?: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => conn.query(sqlText, values, (err, res) => (err ? reject(err) : resolve(res))));
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
  readonly label: string;
  private readonly pool: mysql.Pool;
  private readonly db: Kysely<unknown>;
  private readonly database: string;

  constructor(url: string) {
    this.label = describeDbUrl(url);
    const conn = mysqlConnectionOptions(url);
    this.database = conn.database ?? '';
    this.pool = mysql.createPool({
      ...conn, timezone: 'Z', connectionLimit: 6, connectTimeout: 15_000,
      supportBigNumbers: true, bigNumberStrings: true, dateStrings: true,
    });
    this.db = new Kysely<unknown>({ dialect: new MysqlDialect({ pool: this.pool }) });
  }

  private connect(): Promise<Conn> {
    return new Promise((resolve, reject) => this.pool.getConnection((err, c) => (err ? reject(mysqlConnectError(err, this.label)) : resolve(c))));
  }

  async describe(ref: TableRef): Promise<SourceTable> {
    (await this.connect()).release();
    const schema = ref.schema ?? this.database;
    if (!schema) throw inputError('TABLE_NOT_FOUND', `no database given: put it in the --source URL (mysql://…/db) or use --table db.table`);
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
      SELECT TABLE_ROWS AS \`rows\` FROM information_schema.TABLES WHERE TABLE_SCHEMA = ${schema} AND TABLE_NAME = ${ref.name}`.execute(this.db);
    return {
      engine: 'mysql', schema, name: ref.name,
      columns: cols.rows.map((r) => mapMysqlColumn({ ...r, precision: r.precision === null ? null : Number(r.precision), scale: r.scale === null ? null : Number(r.scale) })),
      primaryKey: pk.rows.map((r) => r.name),
      estimatedRows: Number(est.rows[0]?.rows ?? 0),
    };
  }

  /**
   * One consistent-snapshot transaction. With a primary key: keyset pages
   * (`WHERE (pk) > (last) ORDER BY pk LIMIT n`); without: one streamed SELECT. Rows arrive as
   * raw text-protocol bytes and go straight into the column builders.
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
      const asm = new BatchAssembler(table.columns, 'mysql', opts.batchRows);
      asmRef = asm;
      const builders = asm.builders;
      const keyCols = opts.keyColumns ?? table.primaryKey;
      const keyIdx = keyCols.map((k) => table.columns.findIndex((c) => c.name === k));
      if (keyIdx.some((i) => i < 0)) throw new Error(`internal: key columns ${keyCols.join(', ')} must be among the columns read`);
      // typeCast false: every value arrives as the raw bytes of the text protocol (no per-field
      // wrapper or conversion); the builders parse MySQL's text format themselves, once
      const stream = (sqlText: string) =>
        conn.query({ sql: sqlText, rowsAsArray: true, typeCast: false }).stream({ highWaterMark: 1024 });
      const addRow = (row: Array<Buffer | null>): void => {
        for (let i = 0; i < builders.length; i++) {
          const v = row[i];
          if (v === null || v === undefined) builders[i]!.appendNull();
          else builders[i]!.append(v, 0, v.length);
        }
        asm.endRow();
      };
      const maxRows = opts.maxRows ?? Infinity;
      let total = 0;
      if (keyIdx.length) {
        const keys = keyIdx.map((i) => table.columns[i]!);
        const order = keys.map((c) => quoteMysqlIdent(c.name)).join(', ');
        let last = opts.after;
        while (total < maxRows) {
          const where = sqlAnd(opts.where, last && this.tupleAfterSql(table, keyCols, last));
          const limit = Math.min(opts.batchRows, maxRows - total);
          // a page is at most `limit` rows, going straight into the builders: taken as events,
          // not through an async iterator, which costs a promise per row
          const { rows, lastRow } = await new Promise<{ rows: number; lastRow: Array<Buffer | null> | undefined }>((resolve, reject) => {
            let n = 0;
            let lastOfPage: Array<Buffer | null> | undefined;
            let failed: unknown;
            conn.query({ sql: `${select}${where ? ` WHERE ${where}` : ''} ORDER BY ${order} LIMIT ${limit}`, rowsAsArray: true, typeCast: false })
              .on('result', (row) => {
                if (failed !== undefined) return; // a value that would not parse: the rest of the page is drained, then the error
                try { addRow(row as Array<Buffer | null>); } catch (e) { failed = e; return; }
                lastOfPage = row as Array<Buffer | null>;
                n++;
              })
              .on('error', reject)
              .on('end', () => (failed !== undefined ? reject(failed) : resolve({ rows: n, lastRow: lastOfPage })));
          });
          total += rows;
          if (rows > 0) {
            last = keyIdx.map((i, k) => keyText(keys[k]!, lastRow![i]!));
            if (opts.stats) { opts.stats.lastKey = last; opts.stats.rows = total; }
            yield asm.flush();
          }
          if (rows < limit) break;
        }
        if (opts.recordKeys && last && opts.stats) {
          const where = sqlAnd(opts.where, opts.after && this.tupleAfterSql(table, keyCols, opts.after), `NOT ${this.tupleAfterSql(table, keyCols, last)}`, opts.recordKeys(last));
          opts.stats.keys = await this.keyQuery(conn, table, keyCols, where);
        }
      } else {
        for await (const row of stream(`${select}${opts.where ? ` WHERE ${opts.where}` : ''}`)) {
          addRow(row as Array<Buffer | null>);
          if (asm.rows >= opts.batchRows) yield asm.flush();
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

  tupleInSql(table: SourceTable, keyColumns: string[], tuples: string[][]): string {
    if (tuples.length === 0) return 'FALSE';
    return `(${keyColumns.map(quoteMysqlIdent).join(', ')}) IN (${tuples.map((t) => `(${t.map((v, i) => this.literal(table, keyColumns[i]!, v)).join(', ')})`).join(', ')})`;
  }

  withinLagSql(table: SourceTable, column: string, value: string, lag: Lag): string {
    const lit = this.literal(table, column, value);
    const bound = 'seconds' in lag ? `${lit} - INTERVAL ${Math.round(lag.seconds * 1e6)} MICROSECOND` : `${lit} - ${lag.amount}`;
    return `${quoteMysqlIdent(column)} > ${bound}`;
  }

  private async keyQuery(conn: Conn, table: SourceTable, keyColumns: string[], where: string | undefined): Promise<string[][]> {
    const from = `${quoteMysqlIdent(table.schema)}.${quoteMysqlIdent(table.name)}`;
    const rows = await new Promise<Array<Array<Buffer | null>>>((resolve, reject) => conn.query({
      sql: `SELECT ${keyColumns.map(quoteMysqlIdent).join(', ')} FROM ${from}${where ? ` WHERE ${where}` : ''} ORDER BY ${keyColumns.map(quoteMysqlIdent).join(', ')}`,
      rowsAsArray: true, typeCast: false,
    }, (err, res) => (err ? reject(err) : resolve(res as Array<Array<Buffer | null>>))));
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
