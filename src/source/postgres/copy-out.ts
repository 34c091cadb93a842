import type { Socket } from 'node:net';
import type pg from 'pg';
import { RowFlow } from '../row-flow.js';

const COPY_DATA = 0x64,
  COPY_DONE = 0x63,
  ERROR_RESPONSE = 0x45;

/** The part of pg's Connection this query touches: the socket, and pg's own parser listening on it. */
interface PgConnection {
  stream: Socket;
  query(text: string): void;
}

/**
 * `COPY … TO STDOUT` as a pg Submittable that hands each row to `row(buf, start, end)` where it
 * lies in the socket's buffer: PostgreSQL sends one CopyData message per row, so a row is one
 * message, and only a row cut by a socket read is copied (once, into a buffer of its own size).
 * pg-copy-streams instead copied every message into a Buffer of its own and then joined them,
 * two copies per row (~0.45 CPU-s per 1M rows of the benchmark table).
 *
 * While it runs it takes the socket from pg's parser, as pg-copy-streams does; at CopyDone or an
 * ErrorResponse it gives the rest back, and pg settles the query (CommandComplete, ReadyForQuery,
 * or the error).
 *
 * `pause()` stops reading the socket (the server then waits on TCP backpressure), `resume()`
 * goes on; `wait()` resolves when the copy is paused or done.
 */
export class CopyOut extends RowFlow implements pg.Submittable {
  private conn: PgConnection | undefined;
  private pgHandler: ((b: Buffer) => void) | undefined;
  /** the socket is ours (between submit and CopyDone or an error) */
  private attached = false;
  private readonly onReadable = () => this.forward();
  /** bytes of a message header cut by a socket read (fewer than 5); never an ErrorResponse, which goes to pg at once */
  private head: Buffer | undefined;
  /** a message body cut by a socket read, filled up to `fill` */
  private body: Buffer | undefined;
  private bodyCode = 0;
  private fill = 0;

  constructor(
    readonly text: string,
    private readonly row: (buf: Buffer, start: number, end: number) => void,
  ) {
    super();
  }

  submit(connection: unknown): void {
    const conn = connection as PgConnection;
    this.conn = conn;
    const listeners = conn.stream.listeners('data') as Array<(b: Buffer) => void>;
    if (listeners.length !== 1)
      throw new Error(`internal: expected pg's one data listener on the socket, found ${listeners.length}`);
    this.pgHandler = listeners[0]!;
    conn.stream.removeListener('data', this.pgHandler);
    conn.stream.pause();
    conn.stream.on('readable', this.onReadable);
    this.attached = true;
    conn.query(this.text);
    this.forward();
  }

  /** The socket is simply not read while paused: PostgreSQL then waits on TCP backpressure. */
  protected pauseSource(): void {}

  protected resumeSource(): void {
    this.forward();
  }

  private forward(): void {
    const conn = this.conn;
    if (!conn) return;
    let chunk: Buffer | null;
    while (!this.paused && this.attached && (chunk = conn.stream.read() as Buffer | null) !== null) {
      try {
        this.parse(chunk);
      } catch (e) {
        // a row the decoder refused: stop reading; the caller abandons (and destroys) the connection
        this.error = e instanceof Error ? e : new Error(String(e));
        this.attached = false;
        conn.stream.removeListener('readable', this.onReadable);
        this.notify();
        return;
      }
    }
  }

  private parse(chunk: Buffer): void {
    let p = 0;
    if (this.head) {
      // complete a cut header with the first bytes of this chunk
      const need = 5 - this.head.length;
      if (chunk.length < need) {
        this.head = Buffer.concat([this.head, chunk]);
        return;
      }
      const h = Buffer.concat([this.head, chunk.subarray(0, need)]);
      this.head = undefined;
      p = need;
      this.startBody(h[0]!, h.readUInt32BE(1) - 4);
    }
    if (this.body) {
      const n = Math.min(this.body.length - this.fill, chunk.length - p);
      chunk.copy(this.body, this.fill, p, p + n);
      this.fill += n;
      p += n;
      if (this.fill < this.body.length) return;
      const body = this.body;
      this.body = undefined;
      if (this.message(this.bodyCode, body, 0, body.length)) {
        this.detach(chunk.subarray(p));
        return;
      }
    }
    const len = chunk.length;
    while (p < len) {
      if (len - p < 5) {
        if (chunk[p] === ERROR_RESPONSE) {
          this.detach(chunk.subarray(p));
          return;
        }
        this.head = Buffer.from(chunk.subarray(p));
        return;
      }
      const code = chunk[p]!;
      if (code === ERROR_RESPONSE) {
        this.detach(chunk.subarray(p));
        return;
      }
      const end = p + 1 + chunk.readUInt32BE(p + 1);
      if (end > len) {
        this.startBody(code, end - p - 5);
        chunk.copy(this.body!, 0, p + 5, len);
        this.fill = len - p - 5;
        return;
      }
      if (this.message(code, chunk, p + 5, end)) {
        this.detach(chunk.subarray(end));
        return;
      }
      p = end;
    }
  }

  private startBody(code: number, size: number): void {
    this.bodyCode = code;
    this.body = Buffer.allocUnsafe(size);
    this.fill = 0;
  }

  /** One whole message; true at CopyDone. CopyOutResponse, notices and parameter changes are passed over. */
  private message(code: number, buf: Buffer, start: number, end: number): boolean {
    if (code === COPY_DATA) {
      this.row(buf, start, end);
      return false;
    }
    return code === COPY_DONE;
  }

  /** Gives the socket, and the bytes not read yet, back to pg's parser. */
  private detach(rest: Buffer): void {
    const conn = this.conn!;
    const handler = this.pgHandler!;
    this.attached = false;
    conn.stream.removeListener('readable', this.onReadable);
    conn.stream.addListener('data', handler);
    if (rest.length) handler(rest);
    process.nextTick(() => conn.stream.resume());
  }

  handleError(err: Error): void {
    this.error ??= err;
    this.notify();
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {
    this.finished = true;
    this.notify();
  }
}
