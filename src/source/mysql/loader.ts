import type { Loader, LoadPlan } from '../loader.js';
import { quoteMysqlIdent } from './quote.js';
import { mysqlConnectionOptions } from './connection.js';
import { NUMBER_KINDS, type ColumnKind } from '../columns.js';

const NUMERIC: ReadonlySet<ColumnKind> = new Set<ColumnKind>(['bool', ...NUMBER_KINDS]);

/** Bytes of an INSERT after which the next row goes into a new one: well under the default max_allowed_packet (16 MiB). */
const STATEMENT_BYTES = 1 << 16;
const OPEN = 0x28; // (
const CLOSE = 0x29; // )
const COMMA = 0x2c;

/** A restore's loader into MySQL/MariaDB: multi-row INSERT (… ON DUPLICATE KEY UPDATE when rows may conflict), strict mode. */
export async function openLoader(url: string): Promise<Loader> {
  const mysql = (await import('mysql2')).default;
  const conn = mysql.createConnection({ ...mysqlConnectionOptions(url), timezone: 'Z' });
  const q = (s: string) =>
    new Promise<void>((resolve, reject) => conn.query(s, (err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  // strict: a value the column cannot hold is an error, never a silent truncation; backslash escapes on (they are used below)
  await q(
    "SET SESSION time_zone = '+00:00', sql_mode = 'STRICT_ALL_TABLES,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION'",
  );
  // the statements' text is written here, reused for the loader's life (grown for a row larger than it)
  let buf = Buffer.allocUnsafe(STATEMENT_BYTES + 64 * 1024);
  const name = (t: LoadPlan['table']) =>
    t.schema ? `${quoteMysqlIdent(t.schema)}.${quoteMysqlIdent(t.name)}` : quoteMysqlIdent(t.name);
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
        const assign = (c: string) =>
          plan.conflict === 'newest'
            ? `${c} = IF(VALUES(${cur}) >= ${cur}, VALUES(${c}), ${c})`
            : `${c} = VALUES(${c})`;
        const sets = [
          ...others.map((c) => assign(quoteMysqlIdent(c.name))),
          ...(plan.cursor && !plan.primaryKey.includes(plan.cursor) ? [assign(cur)] : []),
        ];
        tail = sets.length
          ? ` ON DUPLICATE KEY UPDATE ${sets.join(', ')}`
          : ` ON DUPLICATE KEY UPDATE ${quoteMysqlIdent(plan.primaryKey[0]!)} = ${quoteMysqlIdent(plan.primaryKey[0]!)}`;
      }
      const head = `INSERT INTO ${name(plan.table)} (${cols}) VALUES `;
      await q('START TRANSACTION');
      // one statement runs while the next is built (the client's CPU overlaps the server's), never more
      let running: Promise<void> | undefined;
      const send = async (text: string) => {
        if (running) await running;
        running = q(text);
        running.catch(() => {}); // awaited before the next statement, the COMMIT or the ROLLBACK: never unhandled
      };
      try {
        const cells = batch.cells;
        // the statement's text is written into one reused buffer, then read out as one flat string
        // (mysql2 sends a string): no string per row or value survives it, so little reaches the old generation
        let at = 0;
        const room = (n: number) => {
          if (at + n <= buf.length) return;
          const bigger = Buffer.allocUnsafe(Math.max(2 * buf.length, at + n));
          buf.copy(bigger, 0, 0, at);
          buf = bigger;
        };
        room(3 * head.length);
        const start = buf.write(head, 0, 'utf8');
        at = start;
        for (let r = 0; r < batch.numRows; r++) {
          room(2);
          if (at > start) buf[at++] = COMMA;
          buf[at++] = OPEN;
          for (let c = 0; c < cells.length; c++) {
            const v = cells[c]!(r);
            // numbers (booleans come as 1/0 for MySQL) as they are; text quoted by mysql2's escaping, as the source's literals
            const text =
              v === null ? 'NULL' : kinds[c] === 'hex' ? `X'${v}'` : kinds[c] === 'raw' ? v : mysql.escape(v);
            room(2 + 3 * text.length);
            if (c) buf[at++] = COMMA;
            at += buf.write(text, at, 'utf8');
          }
          buf[at++] = CLOSE;
          if (at > STATEMENT_BYTES) {
            room(tail.length * 3);
            at += buf.write(tail, at, 'utf8');
            await send(buf.toString('utf8', 0, at));
            at = start;
          }
        }
        if (at > start) {
          room(tail.length * 3);
          at += buf.write(tail, at, 'utf8');
          await send(buf.toString('utf8', 0, at));
        }
        await running;
        await q('COMMIT');
      } catch (e) {
        await running?.catch(() => {});
        await q('ROLLBACK').catch(() => {});
        throw e;
      }
    },
    truncate: (t) => q(`TRUNCATE TABLE ${name(t)}`),
    execute: q,
    async close() {
      await new Promise<void>((r) => conn.end(() => r()));
    },
  };
}
