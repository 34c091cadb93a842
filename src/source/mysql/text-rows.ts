import type mysql from 'mysql2';
import { RowFlow } from '../row-flow.js';

/** What mysql2 hands a command's state functions: one whole protocol packet. */
interface Packet {
  buffer: Buffer;
  offset: number;
  end: number;
  isEOF(): boolean;
}
type State = (packet: Packet, connection: unknown) => unknown;
interface QueryCommand {
  row: State;
  on(event: string, fn: (...a: unknown[]) => void): QueryCommand;
}

/** One field of a row: its bytes are buf[start, end); start is -1 for NULL. */
export type FieldSink = (buf: Buffer, start: number, end: number, column: number) => void;

/**
 * The fields of a text-protocol row from `start`, each handed to `field`; returns where the row
 * ends. A field is a length-encoded string: a length (1 byte below 251; after 0xfc, 0xfd, 0xfe
 * 2, 3 or 8 bytes) and that many bytes, or 0xfb for NULL.
 */
function walkFields(buf: Buffer, start: number, columns: number, field: FieldSink): number {
  let p = start;
  for (let col = 0; col < columns; col++) {
    let len = buf[p++]!;
    if (len >= 0xfb) {
      if (len === 0xfb) {
        field(buf, -1, -1, col);
        continue;
      }
      if (len === 0xfc) {
        len = buf[p]! | (buf[p + 1]! << 8);
        p += 2;
      } else if (len === 0xfd) {
        len = buf[p]! | (buf[p + 1]! << 8) | (buf[p + 2]! << 16);
        p += 3;
      } else {
        len = buf.readUInt32LE(p) + buf.readUInt32LE(p + 4) * 4294967296;
        p += 8;
      }
    }
    field(buf, p, p + len, col);
    p += len;
  }
  return p;
}

/**
 * Runs a text-protocol SELECT on mysql2 and hands each field of each row to `field` where it
 * lies in the packet, instead of mysql2's row arrays of one Buffer per field (~0.6 CPU-s and
 * most of the GC per 1M rows of the benchmark table). mysql2 still does everything else
 * (connection, packets, errors, end of result); only its `row` state is taken over, on this
 * one query object.
 *
 * `pause()` (from inside `field`/`endRow`) stops the connection after the current packet;
 * `resume()` goes on. `wait()` resolves 'paused' or 'done', or rejects with the query's error
 * (see RowFlow).
 */
export class TextRows extends RowFlow {
  rows = 0;
  /** The last row's packet and where its fields start, for the next keyset page's key. */
  private lastRow: { buf: Buffer; start: number } | undefined;

  constructor(
    private readonly conn: mysql.PoolConnection,
    sqlText: string,
    private readonly columns: number,
    field: FieldSink,
    endRow: () => void,
  ) {
    super();
    const query = conn.query({ sql: sqlText, rowsAsArray: true, typeCast: false }) as unknown as QueryCommand;
    const base = Object.getPrototypeOf(query) as { row?: State };
    if (typeof base.row !== 'function')
      throw new Error(
        'internal: mysql2 Query has no row state; its internals changed (see src/source/mysql/text-rows.ts)',
      );
    const baseRow = base.row;
    // eslint-disable-next-line @typescript-eslint/no-this-alias -- the patched row() gets mysql2's Query as `this`
    const self = this;
    query.row = function row(this: QueryCommand, packet: Packet, connection: unknown): unknown {
      if (packet.isEOF()) return baseRow.call(this, packet, connection);
      if (self.errorAtEnd !== undefined) return row; // drain the result after a refused value
      try {
        const end = walkFields(packet.buffer, packet.offset, columns, field);
        if (end !== packet.end) throw new Error(`MySQL row has more than ${columns} fields`);
        endRow();
        self.rows++;
        self.lastRow = { buf: packet.buffer, start: packet.offset };
      } catch (e) {
        self.errorAtEnd = e;
        self.resume(); // drain what is left; nothing more goes into the builders
      }
      return row;
    };
    query.on('error', (e) => {
      this.error ??= e;
      this.notify();
    });
    query.on('end', () => {
      this.finished = true;
      this.notify();
    });
  }

  /** The fields of the last row, as Buffers (NULL as null). */
  lastFields(): Array<Buffer | null> {
    const out: Array<Buffer | null> = [];
    if (this.lastRow)
      walkFields(this.lastRow.buf, this.lastRow.start, this.columns, (buf, s, e) =>
        out.push(s < 0 ? null : buf.subarray(s, e)),
      );
    return out;
  }

  protected pauseSource(): void {
    this.conn.pause();
  }

  protected resumeSource(): void {
    this.conn.resume();
  }
}
