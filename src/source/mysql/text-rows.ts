import type mysql from 'mysql2';

/** What mysql2 hands a command's state functions: one whole protocol packet. */
interface Packet { buffer: Buffer; offset: number; end: number; isEOF(): boolean }
type State = (packet: Packet, connection: unknown) => unknown;
interface QueryCommand { row: State; on(event: string, fn: (...a: unknown[]) => void): QueryCommand }

/** A row's fields as [start, end) pairs in `buf`; start -1 for NULL. */
export type FieldSink = (buf: Buffer, start: number, end: number, column: number) => void;

/**
 * Runs a text-protocol SELECT on mysql2 and hands each field of each row to `field` where it
 * lies in the packet, instead of mysql2's row arrays of one Buffer per field (~0.6 CPU-s and
 * most of the GC per 1M rows of the benchmark table). mysql2 still does everything else
 * (connection, packets, errors, end of result); only its `row` state is taken over, on this
 * one query object.
 *
 * A text row is one length-encoded string per column: a length (1 byte below 251; 0xfc, 0xfd,
 * 0xfe for 2, 3, 8 bytes) and that many bytes, or 0xfb for NULL.
 *
 * `pause()` (from inside `field`/`endRow`) stops the connection after the current packet;
 * `resume()` goes on. `wait()` resolves 'paused' or 'done', or rejects with the query's error.
 */
export class TextRows {
  private paused = false;
  private finished = false;
  /** a value the builders refused: the rest of the result is drained, then wait() rejects */
  private failure: unknown;
  /** the server's or the connection's error: wait() rejects at once */
  private queryError: unknown;
  private wake: (() => void) | undefined;
  rows = 0;
  /** The last row's packet and where its fields start, for the next keyset page's key. */
  lastRow: { buf: Buffer; start: number } | undefined;

  constructor(private readonly conn: mysql.PoolConnection, sqlText: string, columns: number,
    field: FieldSink, endRow: () => void) {
    const query = conn.query({ sql: sqlText, rowsAsArray: true, typeCast: false }) as unknown as QueryCommand;
    const base = Object.getPrototypeOf(query) as { row?: State };
    if (typeof base.row !== 'function') throw new Error('internal: mysql2 Query has no row state; its internals changed (see src/source/mysql/text-rows.ts)');
    const baseRow = base.row;
    const self = this;
    query.row = function row(this: QueryCommand, packet: Packet, connection: unknown): unknown {
      if (packet.isEOF()) return baseRow.call(this, packet, connection);
      if (self.failure !== undefined) return row; // drain the result after a refused value
      try {
        const buf = packet.buffer;
        const start = packet.offset;
        let p = start;
        for (let col = 0; col < columns; col++) {
          let len = buf[p++]!;
          if (len >= 0xfb) {
            if (len === 0xfb) { field(buf, -1, -1, col); continue; }
            if (len === 0xfc) { len = buf[p]! | (buf[p + 1]! << 8); p += 2; }
            else if (len === 0xfd) { len = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16); p += 3; }
            else { len = buf.readUInt32LE(p) + buf.readUInt32LE(p + 4) * 4294967296; p += 8; }
          }
          field(buf, p, p + len, col);
          p += len;
        }
        if (p !== packet.end) throw new Error(`MySQL row has more than ${columns} fields`);
        endRow();
        self.rows++;
        self.lastRow = { buf, start };
      } catch (e) {
        self.failure = e;
        self.resume(); // drain what is left; nothing more goes into the builders
      }
      return row;
    };
    query.on('error', (e) => { this.queryError ??= e; this.notify(); });
    query.on('end', () => { this.finished = true; this.notify(); });
  }

  /** The fields of the last row, as Buffers (NULL as null). */
  lastFields(columns: number): Array<Buffer | null> {
    const r = this.lastRow;
    if (!r) return [];
    const out: Array<Buffer | null> = [];
    const buf = r.buf;
    let p = r.start;
    for (let col = 0; col < columns; col++) {
      let len = buf[p++]!;
      if (len === 0xfb) { out.push(null); continue; }
      if (len === 0xfc) { len = buf.readUInt16LE(p); p += 2; }
      else if (len === 0xfd) { len = buf.readUIntLE(p, 3); p += 3; }
      else if (len === 0xfe) { len = buf.readUInt32LE(p) + buf.readUInt32LE(p + 4) * 4294967296; p += 8; }
      out.push(buf.subarray(p, p + len));
      p += len;
    }
    return out;
  }

  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.conn.pause();
    this.notify();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.conn.resume();
  }

  wait(): Promise<'paused' | 'done'> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.queryError !== undefined) { reject(this.queryError); return true; }
        if (this.finished) { if (this.failure !== undefined) reject(this.failure); else resolve('done'); return true; }
        if (this.paused && this.failure === undefined) { resolve('paused'); return true; }
        return false;
      };
      if (!check()) this.wake = () => { if (check()) this.wake = undefined; };
    });
  }

  private notify(): void { this.wake?.(); }
}
