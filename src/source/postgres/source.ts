import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import copyStreams from 'pg-copy-streams';
import type { RecordBatch } from 'apache-arrow';
import { BatchAssembler } from '../../arrow/batch.js';
import { inputError } from '../../errors.js';
import { describeDbUrl } from '../../redact.js';
import type { SourceTable, TableRef } from '../columns.js';
import type { Lag, ReadOptions, Source } from '../source.js';
import { CopyTextDecoder } from './copy-text.js';
import { mapPgColumn, type PgColumnRow } from './types.js';
import { pgConnectError } from './errors.js';
import { SESSION_SETTINGS } from './session.js';
import { quotePgIdent, sqlAnd } from '../quote.js';

export { quotePgIdent };


export class PostgresSource implements Source {
  readonly engine = 'postgres' as const;
  readonly label: string;
  private readonly pool: pg.Pool;
  private readonly db: Kysely<unknown>;

  constructor(url: string) {
    this.label = describeDbUrl(url);
    this.pool = new pg.Pool({ connectionString: url, max: 6, application_name: 'tablevault', connectionTimeoutMillis: 15_000 });
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
    const target = ref.schema ? `${quotePgIdent(ref.schema)}.${quotePgIdent(ref.name)}` : quotePgIdent(ref.name);
    const found = await sql<{ oid: number; schema: string; name: string; estimate: number; kind: string }>`
      SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, GREATEST(c.reltuples, 0)::float8 AS estimate, c.relkind::text AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass(${target})`.execute(this.db);
    const rel = found.rows[0];
    if (!rel || !['r', 'p', 'v', 'm', 'f'].includes(rel.kind)) {
      throw inputError('TABLE_NOT_FOUND', `table ${ref.schema ? `${ref.schema}.` : ''}${ref.name} does not exist in ${this.label}; check --table (use schema.table for a schema outside the search_path)`);
    }
    const cols = await sql<PgColumnRow>`
      SELECT a.attname AS name, a.attnotnull AS notnull,
             bt.typname AS typname, bt.typtype::text AS typtype,
             format_type(a.atttypid, a.atttypmod) AS formatted,
             CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS typmod,
             et.typname AS elemtypname, et.typtype::text AS elemtyptype, a.attndims AS ndims
      FROM pg_attribute a
      JOIN pg_type t ON t.oid = a.atttypid
      JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      LEFT JOIN pg_type et ON et.oid = bt.typelem AND bt.typcategory = 'A'
      WHERE a.attrelid = ${rel.oid} AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`.execute(this.db);
    const pk = await sql<{ name: string }>`
      SELECT a.attname AS name
      FROM pg_index i CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
      JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = ${rel.oid} AND i.indisprimary
      ORDER BY k.ord`.execute(this.db);
    return {
      engine: 'postgres', schema: rel.schema, name: rel.name,
      columns: cols.rows.map(mapPgColumn),
      primaryKey: pk.rows.map((r) => r.name),
      estimatedRows: Math.round(rel.estimate),
    };
  }

  /**
   * One REPEATABLE READ snapshot for the whole table. With a primary key: keyset pages, each
   * `COPY (SELECT … WHERE (pk) > (last) ORDER BY pk LIMIT n)`, so a page is one batch and no
   * statement runs long. Without one: a single COPY, cut into batches as it streams.
   */
  async *read(table: SourceTable, opts: ReadOptions): AsyncGenerator<RecordBatch> {
    const client = await this.connect();
    let clean = false;
    let asmRef: BatchAssembler | undefined;
    try {
      for (const s of SESSION_SETTINGS) await client.query(s);
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const from = `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`;
      const select = `SELECT ${table.columns.map((c) => quotePgIdent(c.name)).join(', ')} FROM ${from}`;
      const asm = new BatchAssembler(table.columns, 'postgres', opts.batchRows);
      asmRef = asm;
      const keyCols = opts.keyColumns ?? table.primaryKey;
      const keyIdx = keyCols.map((k) => table.columns.findIndex((c) => c.name === k));
      if (keyIdx.some((i) => i < 0)) throw new Error(`internal: key columns ${keyCols.join(', ')} must be among the columns read`);
      const maxRows = opts.maxRows ?? Infinity;
      let total = 0;
      if (keyIdx.length) {
        const keyList = keyCols.map(quotePgIdent).join(', ');
        let last = opts.after;
        while (total < maxRows) {
          const where = sqlAnd(opts.where, last && this.tupleAfterSql(table, keyCols, last));
          const limit = Math.min(opts.batchRows, maxRows - total);
          const decoder = new CopyTextDecoder(asm, keyIdx);
          const sqlText = `COPY (${select}${where ? ` WHERE ${where}` : ''} ORDER BY ${keyList} LIMIT ${limit}) TO STDOUT`;
          for await (const chunk of client.query(copyStreams.to(sqlText))) decoder.push(chunk as Buffer);
          decoder.end();
          total += decoder.rows;
          if (decoder.rows > 0) {
            last = decoder.lastKey;
            if (opts.stats) { opts.stats.lastKey = last; opts.stats.rows = total; }
            yield asm.flush();
          }
          if (decoder.rows < limit) break;
        }
        if (opts.recordKeys && last && opts.stats) {
          const where = sqlAnd(opts.where, opts.after && this.tupleAfterSql(table, keyCols, opts.after), `NOT ${this.tupleAfterSql(table, keyCols, last)}`, opts.recordKeys(last));
          opts.stats.keys = await this.keyQuery(client, table, keyCols, where);
        }
      } else {
        const decoder = new CopyTextDecoder(asm, []);
        for await (const chunk of client.query(copyStreams.to(`COPY (${select}${opts.where ? ` WHERE ${opts.where}` : ''}) TO STDOUT`))) {
          decoder.push(chunk as Buffer);
          if (asm.rows >= opts.batchRows) yield asm.flush();
        }
        decoder.end();
        if (asm.rows > 0) yield asm.flush();
      }
      await client.query('COMMIT');
      clean = true;
    } finally {
      if (opts.stats && asmRef) opts.stats.counters = asmRef.counters();
      // a COPY abandoned mid-stream leaves the connection unusable: destroy it instead of reusing it
      client.release(clean ? undefined : new Error('read abandoned'));
    }
  }

  private literal(table: SourceTable, column: string, value: string): string {
    const col = table.columns.find((c) => c.name === column);
    if (!col) throw new Error(`internal: no column ${column}`);
    return `${pg.Client.prototype.escapeLiteral(value)}::${col.dbType}`;
  }

  tupleAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
    return `(${keyColumns.map(quotePgIdent).join(', ')}) > (${values.map((v, i) => this.literal(table, keyColumns[i]!, v)).join(', ')})`;
  }

  tupleInSql(table: SourceTable, keyColumns: string[], tuples: string[][]): string {
    if (tuples.length === 0) return 'false';
    return `(${keyColumns.map(quotePgIdent).join(', ')}) IN (${tuples.map((t) => `(${t.map((v, i) => this.literal(table, keyColumns[i]!, v)).join(', ')})`).join(', ')})`;
  }

  withinLagSql(table: SourceTable, column: string, value: string, lag: Lag): string {
    const bound = 'seconds' in lag ? `${this.literal(table, column, value)} - interval '${lag.seconds} seconds'` : `${this.literal(table, column, value)} - ${lag.amount}`;
    return `${quotePgIdent(column)} > ${bound}`;
  }

  private async keyQuery(client: pg.PoolClient, table: SourceTable, keyColumns: string[], where: string | undefined): Promise<string[][]> {
    const from = `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`;
    const cols = keyColumns.map((k) => `${quotePgIdent(k)}::text`).join(', ');
    const res = await client.query<string[]>({ text: `SELECT ${cols} FROM ${from}${where ? ` WHERE ${where}` : ''} ORDER BY ${keyColumns.map(quotePgIdent).join(', ')}`, rowMode: 'array' });
    return res.rows;
  }

  async readKeys(table: SourceTable, keyColumns: string[], where: string | undefined): Promise<string[][]> {
    const client = await this.connect();
    try {
      for (const s of SESSION_SETTINGS) await client.query(s);
      return await this.keyQuery(client, table, keyColumns, where);
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    await this.db.destroy();
  }
}
