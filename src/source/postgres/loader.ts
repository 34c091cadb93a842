import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { LoadBatch, LoadPlan, Loader } from '../loader.js';
import { quotePgIdent } from './quote.js';
import { SESSION_SETTINGS } from './session.js';

const SPECIAL = /[\\\t\n\r]/;

/** COPY text format: backslash, tab, newline and carriage return escaped; NULL is `\N`. */
function copyEscape(s: string): string {
  return s.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/** Bytes per COPY chunk: large enough that a chunk costs little, small enough that it dies young. */
const CHUNK_BYTES = 64 * 1024;
const TAB = 9;
const NEWLINE = 10;

/**
 * COPY chunk buffers, reused batch after batch: the ones a batch used come back once its COPY has
 * completed (the server has them all, so the socket holds none) instead of each becoming garbage
 * that outlives young-generation collections and waits for a full one. Holds at most one batch's
 * COPY text.
 */
class ChunkPool {
  private free: Buffer[] = [];
  private lent: Buffer[] = [];

  take(bytes: number): Buffer {
    // a value larger than a chunk gets a buffer of its own, not kept
    if (bytes > CHUNK_BYTES) return Buffer.allocUnsafe(bytes);
    const b = this.free.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    this.lent.push(b);
    return b;
  }

  /** After a COPY completed: every buffer it used is free again. */
  reclaim(): void {
    for (const b of this.lent) this.free.push(b);
    this.lent = [];
  }

  /** After a failed COPY the socket may still hold some: they are left to the collector. */
  forget(): void {
    this.lent = [];
  }
}

/**
 * The batch as COPY text, in chunks of about 64 KiB: each value is written straight into the
 * chunk's buffer (no string per line or per chunk), and the next chunk is made only when the
 * COPY stream asks for it, so a batch never sits in memory as text.
 */
function* copyChunks(plan: LoadPlan, batch: LoadBatch, pool: ChunkPool): Generator<Buffer> {
  const binary = plan.columns.map((c) => c.kind === 'binary');
  const cells = batch.cells;
  let buf = pool.take(CHUNK_BYTES);
  let at = 0;
  for (let r = 0; r < batch.numRows; r++) {
    for (let c = 0; c < cells.length; c++) {
      const v = cells[c]!(r);
      // room for the tab, `\N` or `\\x`, the value as UTF-8 (at most 3 bytes per UTF-16 unit) and the newline
      const need = 5 + (v === null ? 0 : 3 * v.length);
      if (at + need > buf.length) {
        yield buf.subarray(0, at);
        buf = pool.take(need);
        at = 0;
      }
      if (c) buf[at++] = TAB;
      if (v === null) at += buf.write('\\N', at, 'latin1');
      else if (binary[c]) at += buf.write(`\\\\x${v}`, at, 'latin1');
      else at += buf.write(SPECIAL.test(v) ? copyEscape(v) : v, at, 'utf8');
    }
    buf[at++] = NEWLINE;
  }
  if (at) yield buf.subarray(0, at);
}

/** A restore's loader into PostgreSQL: COPY FROM STDIN, through a temporary table when rows may conflict. */
export async function openLoader(url: string): Promise<Loader> {
  const pg = (await import('pg')).default;
  const { from } = (await import('pg-copy-streams')).default;
  const client = new pg.Client({ connectionString: url, application_name: 'tablevault-restore' });
  await client.connect();
  for (const s of SESSION_SETTINGS) await client.query(s);
  let staged = '';
  const pool = new ChunkPool();
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
        // one chunk read ahead at most: the socket's backpressure reaches the encoder
        await pipeline(
          Readable.from(copyChunks(plan, batch, pool), { highWaterMark: 1 }),
          client.query(from(`COPY ${into} (${cols}) FROM STDIN`)),
        );
        pool.reclaim();
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
        pool.forget();
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
