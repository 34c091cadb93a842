import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ColumnSpec, TextDialect } from '../source/columns.js';
import { mysqlConnectionOptions } from '../source/mysql/connection.js';
import { SESSION_SETTINGS } from '../source/postgres/session.js';
import { quoteMysqlIdent, quotePgIdent } from '../source/quote.js';

/** One batch to load: `numRows` rows, each column's text (already checked and NULL-ed where it had to be). */
export interface LoadBatch {
  numRows: number;
  /** Per column: (row) => text | null; binary columns give lowercase hex. */
  cells: Array<(row: number) => string | null>;
}

export interface LoadPlan {
  table: { schema?: string; name: string };
  columns: ColumnSpec[];
  /** insert: plain rows; upsert: replace rows with the same key; newest: replace only when the row's cursor is not older. */
  conflict: 'insert' | 'upsert' | 'newest';
  primaryKey: string[];
  cursor?: string;
}

export interface Loader {
  readonly engine: TextDialect;
  /** Loads one batch in one transaction. */
  load(plan: LoadPlan, batch: LoadBatch): Promise<void>;
  /** Empties the table (`--mode replace`). */
  truncate(table: LoadPlan['table']): Promise<void>;
  execute(sqlText: string): Promise<void>;
  close(): Promise<void>;
}

const NUMERIC = new Set(['bool', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'decimal']);

/** COPY text format: backslash, tab, newline and carriage return escaped; NULL is `\N`. */
function copyEscape(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

function* copyLines(plan: LoadPlan, batch: LoadBatch): Generator<string> {
  const binary = plan.columns.map((c) => c.kind === 'binary');
  let chunk = '';
  for (let r = 0; r < batch.numRows; r++) {
    let line = '';
    for (let c = 0; c < batch.cells.length; c++) {
      const v = batch.cells[c]!(r);
      if (c) line += '\t';
      line += v === null ? '\\N' : copyEscape(binary[c] ? `\\x${v}` : v);
    }
    chunk += `${line}\n`;
    if (chunk.length > 1 << 20) { yield chunk; chunk = ''; }
  }
  if (chunk) yield chunk;
}

export async function pgLoader(url: string): Promise<Loader> {
  const pg = (await import('pg')).default;
  const { from } = (await import('pg-copy-streams')).default;
  const client = new pg.Client({ connectionString: url, application_name: 'tablevault-restore' });
  await client.connect();
  for (const s of SESSION_SETTINGS) await client.query(s);
  let staged = '';
  const name = (t: LoadPlan['table']) => (t.schema ? `${quotePgIdent(t.schema)}.${quotePgIdent(t.name)}` : quotePgIdent(t.name));
  return {
    engine: 'postgres',
    async load(plan, batch) {
      const cols = plan.columns.map((c) => quotePgIdent(c.name)).join(', ');
      const target = name(plan.table);
      await client.query('BEGIN');
      try {
        let into = target;
        if (plan.conflict !== 'insert') {
          if (staged !== target) {
            await client.query(`DROP TABLE IF EXISTS pg_temp.tablevault_stage; CREATE TEMP TABLE tablevault_stage (LIKE ${target}) ON COMMIT DELETE ROWS`);
            staged = target;
          }
          into = 'pg_temp.tablevault_stage';
        }
        await pipeline(Readable.from(copyLines(plan, batch)), client.query(from(`COPY ${into} (${cols}) FROM STDIN`)));
        if (plan.conflict !== 'insert') {
          const set = plan.columns.filter((c) => !plan.primaryKey.includes(c.name)).map((c) => `${quotePgIdent(c.name)} = EXCLUDED.${quotePgIdent(c.name)}`);
          const action = set.length ? `DO UPDATE SET ${set.join(', ')}${plan.conflict === 'newest' ? ` WHERE ${target}.${quotePgIdent(plan.cursor!)} <= EXCLUDED.${quotePgIdent(plan.cursor!)}` : ''}` : 'DO NOTHING';
          await client.query(`INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${into} ON CONFLICT (${plan.primaryKey.map(quotePgIdent).join(', ')}) ${action}`);
        }
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    async truncate(t) { await client.query(`TRUNCATE ${name(t)}`); },
    async execute(sqlText) { await client.query(sqlText); },
    async close() { await client.end().catch(() => {}); },
  };
}

export async function mysqlLoader(url: string): Promise<Loader> {
  const mysql = (await import('mysql2')).default;
  const conn = mysql.createConnection({ ...mysqlConnectionOptions(url), timezone: 'Z' });
  const q = (s: string) => new Promise<void>((resolve, reject) => conn.query(s, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  // strict: a value the column cannot hold is an error, never a silent truncation; backslash escapes on (they are used below)
  await q("SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'");
  const name = (t: LoadPlan['table']) => (t.schema ? `${quoteMysqlIdent(t.schema)}.${quoteMysqlIdent(t.name)}` : quoteMysqlIdent(t.name));
  return {
    engine: 'mysql',
    async load(plan, batch) {
      const cols = plan.columns.map((c) => quoteMysqlIdent(c.name)).join(', ');
      const kinds = plan.columns.map((c) => (c.kind === 'binary' ? 'hex' : NUMERIC.has(c.kind) ? 'raw' : 'str'));
      let tail = '';
      if (plan.conflict !== 'insert') {
        const cur = plan.cursor ? quoteMysqlIdent(plan.cursor) : '';
        // the cursor is assigned last: the other assignments compare against the stored, not the new, cursor
        const others = plan.columns.filter((c) => !plan.primaryKey.includes(c.name) && c.name !== plan.cursor);
        const assign = (c: string) => (plan.conflict === 'newest' ? `${c} = IF(VALUES(${cur}) >= ${cur}, VALUES(${c}), ${c})` : `${c} = VALUES(${c})`);
        const sets = [...others.map((c) => assign(quoteMysqlIdent(c.name))), ...(plan.cursor && !plan.primaryKey.includes(plan.cursor) ? [assign(cur)] : [])];
        tail = sets.length ? ` ON DUPLICATE KEY UPDATE ${sets.join(', ')}` : ` ON DUPLICATE KEY UPDATE ${quoteMysqlIdent(plan.primaryKey[0]!)} = ${quoteMysqlIdent(plan.primaryKey[0]!)}`;
      }
      const head = `INSERT INTO ${name(plan.table)} (${cols}) VALUES `;
      await q('START TRANSACTION');
      try {
        let values: string[] = [];
        let size = 0;
        const flush = async () => { if (values.length) await q(head + values.join(',') + tail); values = []; size = 0; };
        for (let r = 0; r < batch.numRows; r++) {
          const row = batch.cells.map((cell, c) => {
            const v = cell(r);
            if (v === null) return 'NULL';
            // numbers (booleans come as 1/0 for MySQL) as they are; text quoted by mysql2's escaping, as the source's literals
            return kinds[c] === 'hex' ? `X'${v}'` : kinds[c] === 'raw' ? v : mysql.escape(v);
          });
          const text = `(${row.join(',')})`;
          values.push(text);
          size += text.length;
          if (size > 1 << 20) await flush(); // well under the default max_allowed_packet (16 MiB)
        }
        await flush();
        await q('COMMIT');
      } catch (e) {
        await q('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    truncate: (t) => q(`TRUNCATE TABLE ${name(t)}`),
    execute: q,
    async close() { await new Promise<void>((r) => conn.end(() => r())); },
  };
}
