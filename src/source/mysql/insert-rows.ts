import type { LoadBatch, LoadPlan } from '../loader.js';
import { quoteMysqlIdent } from './quote.js';
import { NUMBER_KINDS, type ColumnKind } from '../columns.js';

const NUMERIC: ReadonlySet<ColumnKind> = new Set<ColumnKind>(['bool', ...NUMBER_KINDS]);

/** Bytes of an INSERT after which the next row goes into a new one: well under the default max_allowed_packet (16 MiB). */
const STATEMENT_BYTES = 1 << 16;
const OPEN = 0x28; // (
const CLOSE = 0x29; // )
const COMMA = 0x2c;

/**
 * `ON DUPLICATE KEY UPDATE …` for rows that may conflict ('' for plain inserts): upsert takes the
 * new row, newest takes it only when its cursor is not older. `target` qualifies the stored row's
 * columns (needed when the rows come from an INSERT … SELECT, where a bare name is ambiguous).
 */
export function conflictTail(plan: LoadPlan, target = ''): string {
  if (plan.conflict === 'insert') return '';
  const q = (c: string) => (target ? `${target}.${quoteMysqlIdent(c)}` : quoteMysqlIdent(c));
  const cur = plan.cursor ?? '';
  // the cursor is assigned last: the other assignments compare against the stored, not the new, cursor
  const others = plan.columns.filter((c) => !plan.primaryKey.includes(c.name) && c.name !== plan.cursor);
  const assign = (c: string) =>
    plan.conflict === 'newest'
      ? `${q(c)} = IF(VALUES(${quoteMysqlIdent(cur)}) >= ${q(cur)}, VALUES(${quoteMysqlIdent(c)}), ${q(c)})`
      : `${q(c)} = VALUES(${quoteMysqlIdent(c)})`;
  const sets = [
    ...others.map((c) => assign(c.name)),
    ...(plan.cursor && !plan.primaryKey.includes(plan.cursor) ? [assign(plan.cursor)] : []),
  ];
  const key = plan.primaryKey[0]!;
  return ` ON DUPLICATE KEY UPDATE ${sets.length ? sets.join(', ') : `${q(key)} = ${q(key)}`}`;
}

/**
 * Multi-row INSERTs of a batch (… ON DUPLICATE KEY UPDATE when rows may conflict), each under
 * STATEMENT_BYTES, sent by `send`. The statements' text is written into one buffer reused for the
 * loader's life (grown for a row larger than it), then read out as one flat string (mysql2 sends
 * a string): no string per row or value survives it, so little reaches the old generation.
 */
export class InsertWriter {
  private buf = Buffer.allocUnsafe(STATEMENT_BYTES + 64 * 1024);

  constructor(private readonly escape: (v: string) => string) {}

  async write(table: string, plan: LoadPlan, batch: LoadBatch, send: (sql: string) => Promise<void>): Promise<void> {
    const cols = plan.columns.map((c) => quoteMysqlIdent(c.name)).join(', ');
    await this.rows(`INSERT INTO ${table} (${cols}) VALUES `, conflictTail(plan), plan, batch, send);
  }

  /** DELETEs of the rows whose keys a tombstone's batch holds (`plan`: the key columns alone), each under STATEMENT_BYTES. */
  async writeDelete(table: string, plan: LoadPlan, batch: LoadBatch, send: (sql: string) => Promise<void>) {
    const cols = plan.columns.map((c) => quoteMysqlIdent(c.name)).join(', ');
    await this.rows(`DELETE FROM ${table} WHERE (${cols}) IN (`, ')', plan, batch, send);
  }

  /** Statements of `head`, the batch's rows as parenthesized value lists, and `tail`. */
  private async rows(
    head: string,
    tail: string,
    plan: LoadPlan,
    batch: LoadBatch,
    send: (sql: string) => Promise<void>,
  ) {
    const kinds = plan.columns.map((c) => (c.kind === 'binary' ? 'hex' : NUMERIC.has(c.kind) ? 'raw' : 'str'));
    const cells = batch.cells;
    let at = 0;
    const room = (n: number) => {
      if (at + n <= this.buf.length) return;
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.buf.length, at + n));
      this.buf.copy(bigger, 0, 0, at);
      this.buf = bigger;
    };
    room(3 * head.length);
    const start = this.buf.write(head, 0, 'utf8');
    at = start;
    for (let r = 0; r < batch.numRows; r++) {
      room(2);
      if (at > start) this.buf[at++] = COMMA;
      this.buf[at++] = OPEN;
      for (let c = 0; c < cells.length; c++) {
        const v = cells[c]!(r);
        // numbers (booleans come as 1/0 for MySQL) as they are; text quoted by mysql2's escaping, as the source's literals
        const text = v === null ? 'NULL' : kinds[c] === 'hex' ? `X'${v}'` : kinds[c] === 'raw' ? v : this.escape(v);
        room(2 + 3 * text.length);
        if (c) this.buf[at++] = COMMA;
        at += this.buf.write(text, at, 'utf8');
      }
      this.buf[at++] = CLOSE;
      if (at > STATEMENT_BYTES) {
        room(tail.length * 3);
        at += this.buf.write(tail, at, 'utf8');
        await send(this.buf.toString('utf8', 0, at));
        at = start;
      }
    }
    if (at > start) {
      room(tail.length * 3);
      at += this.buf.write(tail, at, 'utf8');
      await send(this.buf.toString('utf8', 0, at));
    }
  }
}
