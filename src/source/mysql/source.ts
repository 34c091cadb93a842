import { Kysely, MysqlDialect, sql } from 'kysely';
import mysql from 'mysql2';
import type { RecordBatch } from 'apache-arrow';
import { BatchAssembler } from '../../arrow/batch.js';
import { inputError } from '../../errors.js';
import { mysqlConnectError } from './errors.js';
import { quoteMysqlIdent } from '../quote.js';
import { describeDbUrl } from '../../redact.js';
import type { ColumnSpec, SourceTable, TableRef } from '../columns.js';
import type { Lag, ReadOptions, Source } from '../source.js';
import { mapMysqlColumn, type MysqlColumnRow } from './types.js';

export { quoteMysqlIdent };

type Conn = mysql.PoolConnection;

function run(conn: Conn, sqlText: string, values?: unknown[]): Promise<unknown> {
  return new Promise((resolve, reject) => conn.query(sqlText, values, (err, res) => (err ? reject(err) : resolve(res))));
}

/** A key value as a literal MySQL compares exactly (a string against a BIGINT would compare as DOUBLE). */
function keyParam(col: ColumnSpec, raw: Buffer): { sql: string; value?: unknown } {
  const text = raw.toString('utf8');
  if (/^u?int(8|16|32|64)$/.test(col.kind) && /^-?\d+$/.test(text)) return { sql: text };
  if (col.kind === 'decimal') return { sql: `CAST(? AS DECIMAL(${col.precision},${col.scale}))`, value: text };
  if (col.kind === 'binary') return { sql: '?', value: raw };
  return { sql: '?', value: text };
}

export class MysqlSource implements Source {
  readonly engine = 'mysql' as const;
  readonly label: string;
  private readonly pool: mysql.Pool;
  private readonly db: Kysely<unknown>;
  private readonly database: string;

  constructor(url: string) {
    this.label = describeDbUrl(url);
    const u = new URL(url);
    this.database = decodeURIComponent(u.pathname.replace(/^\//, ''));
    this.pool = mysql.createPool({
      host: u.hostname, port: u.port ? Number(u.port) : 3306,
      user: decodeURIComponent(u.username), password: decodeURIComponent(u.password),
      database: this.database || undefined,
      charset: 'utf8mb4', timezone: 'Z', connectionLimit: 6, connectTimeout: 15_000,
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
      const stream = (sqlText: string, values: unknown[]) =>
        conn.query({ sql: sqlText, values, rowsAsArray: true, typeCast: false }).stream({ highWaterMark: 1024 });
      const addRow = (row: Array<Buffer | null>): void => {
        for (let i = 0; i < builders.length; i++) {
          const v = row[i];
          if (v === null || v === undefined) builders[i]!.appendNull();
          else builders[i]!.append(v, 0, v.length);
        }
        asm.endRow();
      };
      const filter = opts.where ? `(${opts.where})` : '';
      const maxRows = opts.maxRows ?? Infinity;
      let total = 0;
      if (keyIdx.length) {
        const keys = keyIdx.map((i) => table.columns[i]!);
        const order = keys.map((c) => quoteMysqlIdent(c.name)).join(', ');
        let last: Buffer[] | undefined = opts.after?.map((v) => Buffer.from(v, 'utf8'));
        while (total < maxRows) {
          const conds: string[] = filter ? [filter] : [];
          const values: unknown[] = [];
          if (last) {
            // expanded form: MariaDB does not use an index for row-constructor comparisons
            const params = keys.map((c, i) => keyParam(c, last![i]!));
            const ors: string[] = [];
            for (let i = 0; i < keys.length; i++) {
              const ands: string[] = [];
              for (let j = 0; j < i; j++) {
                if (params[j]!.value !== undefined) values.push(params[j]!.value);
                ands.push(`${quoteMysqlIdent(keys[j]!.name)} = ${params[j]!.sql}`);
              }
              if (params[i]!.value !== undefined) values.push(params[i]!.value);
              ands.push(`${quoteMysqlIdent(keys[i]!.name)} > ${params[i]!.sql}`);
              ors.push(`(${ands.join(' AND ')})`);
            }
            conds.push(`(${ors.join(' OR ')})`);
          }
          const limit = Math.min(opts.batchRows, maxRows - total);
          let rows = 0;
          let lastRow: Array<Buffer | null> | undefined;
          for await (const row of stream(`${select}${conds.length ? ` WHERE ${conds.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${limit}`, values)) {
            addRow(row as Array<Buffer | null>);
            lastRow = row as Array<Buffer | null>;
            rows++;
          }
          total += rows;
          if (rows > 0) {
            last = keyIdx.map((i) => Buffer.from(lastRow![i]!));
            if (opts.stats) { opts.stats.lastKey = last.map((b) => b.toString('utf8')); opts.stats.rows = total; }
            yield asm.flush();
          }
          if (rows < limit) break;
        }
        if (opts.recordKeys && last && opts.stats) {
          const lastText = last.map((b) => b.toString('utf8'));
          const conds = [filter, opts.after ? this.tupleAfterSql(table, keyCols, opts.after) : '', `NOT ${this.tupleAfterSql(table, keyCols, lastText)}`, `(${opts.recordKeys(lastText)})`].filter(Boolean);
          opts.stats.keys = await this.keyQuery(conn, table, keyCols, conds.join(' AND '));
        }
      } else {
        for await (const row of stream(`${select}${filter ? ` WHERE ${filter}` : ''}`, [])) {
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

  private literal(table: SourceTable, column: string, value: string): string {
    const col = table.columns.find((c) => c.name === column);
    if (!col) throw new Error(`internal: no column ${column}`);
    const p = keyParam(col, Buffer.from(value, 'utf8'));
    return p.value === undefined ? p.sql : p.sql.replace('?', mysql.escape(p.value as string | Buffer));
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
    return rows.map((r) => r.map((b) => (b === null ? '' : b.toString('utf8'))));
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
