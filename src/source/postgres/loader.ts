import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LoadBatch, LoadPlan, Loader } from '../loader.js';
import { quotePgIdent } from './quote.js';
import { SESSION_SETTINGS } from './session.js';

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
    if (chunk.length > 1 << 20) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

/** A restore's loader into PostgreSQL: COPY FROM STDIN, through a temporary table when rows may conflict. */
export async function openLoader(url: string): Promise<Loader> {
  const pg = (await import('pg')).default;
  const { from } = (await import('pg-copy-streams')).default;
  const client = new pg.Client({ connectionString: url, application_name: 'tablevault-restore' });
  await client.connect();
  for (const s of SESSION_SETTINGS) await client.query(s);
  let staged = '';
  const name = (t: LoadPlan['table']) =>
    t.schema ? `${quotePgIdent(t.schema)}.${quotePgIdent(t.name)}` : quotePgIdent(t.name);
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
            await client.query(
              `DROP TABLE IF EXISTS pg_temp.tablevault_stage; CREATE TEMP TABLE tablevault_stage (LIKE ${target}) ON COMMIT DELETE ROWS`,
            );
            staged = target;
          }
          into = 'pg_temp.tablevault_stage';
        }
        await pipeline(Readable.from(copyLines(plan, batch)), client.query(from(`COPY ${into} (${cols}) FROM STDIN`)));
        if (plan.conflict !== 'insert') {
          const set = plan.columns
            .filter((c) => !plan.primaryKey.includes(c.name))
            .map((c) => `${quotePgIdent(c.name)} = EXCLUDED.${quotePgIdent(c.name)}`);
          const action = set.length
            ? `DO UPDATE SET ${set.join(', ')}${plan.conflict === 'newest' ? ` WHERE ${target}.${quotePgIdent(plan.cursor!)} <= EXCLUDED.${quotePgIdent(plan.cursor!)}` : ''}`
            : 'DO NOTHING';
          await client.query(
            `INSERT INTO ${target} (${cols}) SELECT ${cols} FROM ${into} ON CONFLICT (${plan.primaryKey.map(quotePgIdent).join(', ')}) ${action}`,
          );
        }
        await client.query('COMMIT');
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    async truncate(t) {
      await client.query(`TRUNCATE ${name(t)}`);
    },
    async execute(sqlText) {
      await client.query(sqlText);
    },
    async close() {
      await client.end().catch(() => {});
    },
  };
}
