import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import type { RecordBatch } from 'apache-arrow';
import { BatchAssembler } from '../../arrow/batch.js';
import {
  PG_BINARY_KINDS,
  createBuilder,
  createPgBinaryBuilder,
  type ColumnBuilder,
  type PgBinaryWire,
} from '../../arrow/builders.js';
import { inputError } from '../../errors.js';
import { describeDbUrl } from '../../redact.js';
import type { ColumnSpec, SourceTable, TableRef } from '../columns.js';
import type { Lag, ReadOptions, Source } from '../source.js';
import { CopyTextDecoder } from './copy-text.js';
import { CopyBinaryDecoder, type KeyForm } from './copy-binary.js';
import { CopyOut } from './copy-out.js';
import { mapPgColumn, type PgColumnRow } from './types.js';
import { pgConnectError } from './errors.js';
import { SESSION_SETTINGS } from './session.js';
import { readText, valueText } from './text.js';
import { sqlAnd } from '../quote.js';
import { quotePgIdent } from './quote.js';

export { quotePgIdent };

/** Base types read in PostgreSQL's binary COPY form, by pg_type.typname. */
const BINARY_WIRES: Record<string, PgBinaryWire> = {
  bool: 'bool',
  int2: 'int2',
  int4: 'int4',
  int8: 'int8',
  float4: 'float4',
  float8: 'float8',
  numeric: 'numeric',
  text: 'varlena',
  varchar: 'varlena',
  bpchar: 'varlena',
  name: 'varlena',
  json: 'varlena',
  bytea: 'varlena',
  jsonb: 'jsonb',
  date: 'date',
  time: 'time',
  timestamp: 'timestamp',
  timestamptz: 'timestamp',
};

/** How one read decodes its COPY: the select list, one builder per column, and the key columns' text forms. */
interface ReadPlan {
  binary: boolean;
  selectList: string;
  builders?: ColumnBuilder[];
  keyForms: KeyForm[];
}

/** A row decoder for either COPY format. */
interface RowDecoder {
  rows: number;
  readonly lastKey: string[];
  row(buf: Buffer, start: number, end: number): void;
  end(): void;
}

export class PostgresSource implements Source {
  readonly engine = 'postgres' as const;
  readonly label: string;
  readonly valueText = valueText;
  private readonly pool: pg.Pool;
  private readonly db: Kysely<unknown>;

  constructor(url: string) {
    this.label = describeDbUrl(url);
    this.pool = new pg.Pool({
      connectionString: url,
      max: 6,
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
    const target = ref.schema ? `${quotePgIdent(ref.schema)}.${quotePgIdent(ref.name)}` : quotePgIdent(ref.name);
    const found = await sql<{ oid: number; schema: string; name: string; estimate: number; kind: string }>`
      SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, GREATEST(c.reltuples, 0)::float8 AS estimate, c.relkind::text AS kind
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE c.oid = to_regclass(${target})`.execute(this.db);
    const rel = found.rows[0];
    if (!rel || !['r', 'p', 'v', 'm', 'f'].includes(rel.kind)) {
      throw inputError(
        'TABLE_NOT_FOUND',
        `table ${ref.schema ? `${ref.schema}.` : ''}${ref.name} does not exist in ${this.label}; check --table (use schema.table for a schema outside the search_path)`,
      );
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
      engine: 'postgres',
      schema: rel.schema,
      name: rel.name,
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
      const keyCols = opts.keyColumns ?? table.primaryKey;
      const keyIdx = keyCols.map((k) => table.columns.findIndex((c) => c.name === k));
      if (keyIdx.some((i) => i < 0))
        throw new Error(`internal: key columns ${keyCols.join(', ')} must be among the columns read`);
      const plan = await this.readPlan(client, table, keyIdx, opts.batchRows);
      const select = `SELECT ${plan.selectList} FROM ${from}`;
      const format = plan.binary ? ' (FORMAT binary)' : '';
      const asm = new BatchAssembler(table.columns, readText, opts.batchRows, plan.builders);
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
          const limit = Math.min(opts.batchRows, maxRows - total);
          const dec = decoder(keyIdx);
          const copy = new CopyOut(
            `COPY (${select}${where ? ` WHERE ${where}` : ''} ORDER BY ${keyList} LIMIT ${limit}) TO STDOUT${format}`,
            (b, s, e) => dec.row(b, s, e),
          );
          client.query(copy);
          await copy.wait();
          dec.end();
          total += dec.rows;
          if (dec.rows > 0) {
            last = dec.lastKey;
            if (opts.stats) {
              opts.stats.lastKey = last;
              opts.stats.rows = total;
            }
            yield asm.flush();
          }
          if (dec.rows < limit) break;
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
        // one COPY for the whole table: reading the socket pauses at each full batch until it is taken
        const dec = decoder([]);
        const copy: CopyOut = new CopyOut(
          `COPY (${select}${opts.where ? ` WHERE ${opts.where}` : ''}) TO STDOUT${format}`,
          (b, s, e) => {
            dec.row(b, s, e);
            if (asm.rows >= opts.batchRows) copy.pause();
          },
        );
        client.query(copy);
        while ((await copy.wait()) === 'paused') {
          yield asm.flush();
          copy.resume();
        }
        dec.end();
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

  /**
   * Binary COPY when every column has a binary builder or an exact text form by `::text`: types
   * without a builder (uuid, arrays, enums, intervals, …) are cast to text in the SELECT, which
   * binary COPY then sends as their output function wrote them. A key column is read as an
   * integer or as text, so its last value can be put back into the next page's WHERE. Types whose
   * cast to text is not their output (inet, "char") make the whole read use the text format.
   */
  private async readPlan(
    client: pg.PoolClient,
    table: SourceTable,
    keyIdx: number[],
    capacity: number,
  ): Promise<ReadPlan> {
    const res = await client.query<{ name: string; typname: string; textcast: string | null }>(
      `
      SELECT a.attname AS name, bt.typname AS typname,
             (SELECT c.castmethod::text FROM pg_cast c WHERE c.castsource = bt.oid AND c.casttarget = 'text'::regtype) AS textcast
      FROM pg_attribute a
      JOIN pg_type t ON t.oid = a.atttypid
      JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END
      WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped`,
      [`${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`],
    );
    const types = new Map(res.rows.map((r) => [r.name, r]));
    const text: ReadPlan = {
      binary: false,
      selectList: table.columns.map((c) => quotePgIdent(c.name)).join(', '),
      keyForms: [],
    };
    const select: string[] = [];
    const builders: ColumnBuilder[] = [];
    const wires: Array<PgBinaryWire | undefined> = [];
    for (const [i, c] of table.columns.entries()) {
      const t = types.get(c.name);
      if (!t) return text;
      let wire: PgBinaryWire | undefined = BINARY_WIRES[t.typname];
      if (wire && !PG_BINARY_KINDS[wire].includes(c.kind)) wire = undefined;
      if (
        keyIdx.includes(i) &&
        !(wire === 'int2' || wire === 'int4' || wire === 'int8' || (wire === 'varlena' && c.kind !== 'binary'))
      )
        wire = undefined;
      wires.push(wire);
      if (wire) {
        select.push(quotePgIdent(c.name));
        builders.push(createPgBinaryBuilder(c, wire, capacity));
      } else {
        if (t.textcast === 'f' && t.typname !== 'bool') return text; // bool::text is 'true'/'false', which the text builder reads
        select.push(`${quotePgIdent(c.name)}::text`);
        builders.push(createBuilder(c, readText, capacity));
      }
    }
    const keyForms = keyIdx.map((i): KeyForm => {
      const w = wires[i];
      return w === 'int2' || w === 'int4' || w === 'int8' ? w : 'text';
    });
    return { binary: true, selectList: select.join(', '), builders, keyForms };
  }

  private literal(table: SourceTable, column: string, value: string): string {
    const col = table.columns.find((c) => c.name === column);
    if (!col) throw new Error(`internal: no column ${column}`);
    return `${pg.Client.prototype.escapeLiteral(value)}::${col.dbType}`;
  }

  tupleAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
    return `(${keyColumns.map(quotePgIdent).join(', ')}) > (${values.map((v, i) => this.literal(table, keyColumns[i]!, v)).join(', ')})`;
  }

  tupleNotAfterSql(table: SourceTable, keyColumns: string[], values: string[]): string {
    return `NOT ${this.tupleAfterSql(table, keyColumns, values)}`;
  }

  tupleInSql(table: SourceTable, keyColumns: string[], tuples: string[][]): string {
    if (tuples.length === 0) return 'false';
    return `(${keyColumns.map(quotePgIdent).join(', ')}) IN (${tuples.map((t) => `(${t.map((v, i) => this.literal(table, keyColumns[i]!, v)).join(', ')})`).join(', ')})`;
  }

  withinLagSql(table: SourceTable, column: string, value: string, lag: Lag): string {
    const bound =
      'seconds' in lag
        ? `${this.literal(table, column, value)} - interval '${lag.seconds} seconds'`
        : `${this.literal(table, column, value)} - ${lag.amount}`;
    return `${quotePgIdent(column)} > ${bound}`;
  }

  isNullSql(column: string): string {
    return `${quotePgIdent(column)} IS NULL`;
  }

  isNotNullSql(column: string): string {
    return `${quotePgIdent(column)} IS NOT NULL`;
  }

  beforeDaySql(cursor: ColumnSpec, day: string): string {
    const literal =
      cursor.kind === 'date'
        ? `'${day}'`
        : cursor.kind === 'timestamptz'
          ? `'${day} 00:00:00+00'`
          : `'${day} 00:00:00'`;
    return `${quotePgIdent(cursor.name)} < ${literal}`;
  }

  private async keyQuery(
    client: pg.PoolClient,
    table: SourceTable,
    keyColumns: string[],
    where: string | undefined,
  ): Promise<string[][]> {
    const from = `${quotePgIdent(table.schema)}.${quotePgIdent(table.name)}`;
    const cols = keyColumns.map((k) => `${quotePgIdent(k)}::text`).join(', ');
    const res = await client.query<string[]>({
      text: `SELECT ${cols} FROM ${from}${where ? ` WHERE ${where}` : ''} ORDER BY ${keyColumns.map(quotePgIdent).join(', ')}`,
      rowMode: 'array',
    });
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
