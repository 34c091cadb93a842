import { Readable, type Writable } from 'node:stream';
import type { Connection, ResultSetHeader, RowDataPacket } from 'mysql2';
import type { LoadBatch } from '../loader.js';
import type { ColumnSpec } from '../columns.js';
import { quoteMysqlIdent } from './quote.js';
import { TsvWriter, type TsvField } from './tsv.js';
import { NUMBER_KINDS, type ColumnKind } from '../columns.js';

const NUMERIC: ReadonlySet<ColumnKind> = new Set<ColumnKind>(['bool', ...NUMBER_KINDS]);

/** Bytes of TSV handed to the socket at a time. */
const CHUNK_BYTES = 1 << 14;
/** Bytes the socket may hold unsent before the next chunk is written: the stream's memory bound. */
const SOCKET_AHEAD = 4 * CHUNK_BYTES;
/** A chunk larger than this (a row with a very long value) is handed on in pieces of this size. */
const PIECE_BYTES = 1 << 20;

/**
 * Errors that mean "LOAD DATA LOCAL is not allowed here" (the server's local_infile is OFF, or the
 * client did not offer the capability): MariaDB ER_LOAD_INFILE_CAPABILITY_DISABLED, MySQL
 * ER_NOT_ALLOWED_COMMAND and ER_CLIENT_LOCAL_FILES_DISABLED.
 */
export function isLocalInfileRefused(e: unknown): boolean {
  const errno = (e as { errno?: unknown } | null)?.errno;
  return errno === 4166 || errno === 1148 || errno === 3948;
}

/**
 * `LOAD DATA LOCAL INFILE` of the batch's rows into `table`, streamed from memory: the TSV of
 * tsv.ts, every option spelled out (so no server default matters), binary columns as hex read
 * into a variable and `UNHEX`ed (raw bytes would pass through the utf8mb4 conversion).
 */
export function loadDataSql(table: string, columns: readonly ColumnSpec[], replace = false): string {
  const targets = columns.map((c, i) => (c.kind === 'binary' ? `@tv${i}` : quoteMysqlIdent(c.name)));
  const sets = columns.flatMap((c, i) => (c.kind === 'binary' ? [`${quoteMysqlIdent(c.name)} = UNHEX(@tv${i})`] : []));
  return (
    `LOAD DATA LOCAL INFILE 'tablevault.tsv' ${replace ? 'REPLACE ' : ''}INTO TABLE ${table} CHARACTER SET utf8mb4 ` +
    `FIELDS TERMINATED BY '\\t' ENCLOSED BY '' ESCAPED BY '\\\\' LINES TERMINATED BY '\\n' STARTING BY '' ` +
    `(${targets.join(', ')})${sets.length ? ` SET ${sets.join(', ')}` : ''}`
  );
}

/** How each column's text is written: numbers and hex need no escaping. */
export function fieldKinds(columns: readonly ColumnSpec[]): TsvField[] {
  return columns.map((c) => (c.kind === 'binary' || NUMERIC.has(c.kind) ? 'raw' : 'text'));
}

/**
 * The TSV chunks' buffers, reused: a buffer pushed into the stream is free again once the stream
 * holds nothing (mysql2 copies each chunk into a packet of its own as it is emitted), so a load
 * allocates a few buffers instead of one per 64 KiB (14 MB a batch of the bench table, garbage
 * that the collector let pile up to ~20 MB of peak RSS).
 */
export class ChunkPool {
  private readonly free: Buffer[] = [];
  private readonly pushed: Buffer[] = [];

  constructor(readonly bytes: number = CHUNK_BYTES + 1024) {}

  alloc = (): Buffer => this.free.pop() ?? Buffer.allocUnsafe(this.bytes);

  /** A buffer handed to the stream (only buffers of the pool's size come back). */
  pushedOne(b: Buffer): void {
    if (b.buffer.byteLength === this.bytes && b.byteOffset === 0)
      this.pushed.push(Buffer.from(b.buffer, 0, this.bytes));
  }

  /** The stream holds none of what was pushed: every pushed buffer is free. */
  consumed(): void {
    while (this.pushed.length) this.free.push(this.pushed.pop()!);
  }
}

/**
 * The batch (and those `rest` gives after it) as a stream of TSV chunks, written as the socket
 * takes them: mysql2 pipes the stream into the connection without waiting for the socket to
 * drain, so this waits for it instead, and at most SOCKET_AHEAD bytes are ever unsent. The next
 * batch is asked for only once the last one is written (reading it may free that one's memory).
 * A cell that throws (a value the column cannot hold) ends the stream with that error, which
 * mysql2 gives back as the query's error.
 */
export function batchStream(
  first: LoadBatch,
  kinds: readonly TsvField[],
  socket: Writable,
  pool = new ChunkPool(),
  rest?: AsyncIterator<LoadBatch>,
): Readable {
  const w = new TsvWriter(CHUNK_BYTES, pool.alloc);
  let batch = first;
  let row = 0;
  let last = rest === undefined;
  const fill = (out: Readable) => {
    if (out.readableLength === 0) pool.consumed();
    try {
      const cells = batch.cells;
      while (row < batch.numRows && w.size < CHUNK_BYTES) {
        for (let c = 0; c < cells.length; c++) w.field(cells[c]!(row), kinds[c]!, c === 0);
        w.endRow();
        row++;
      }
      if (row >= batch.numRows && !last && w.size < CHUNK_BYTES) {
        // this batch is written: the next one fills the rest of the chunk
        rest!.next().then(
          (r) => {
            if (r.done) last = true;
            else [batch, row] = [r.value, 0];
            fill(out);
          },
          (e: unknown) => out.destroy(e as Error),
        );
        return;
      }
      const chunk = w.take();
      pool.pushedOne(chunk);
      for (let at = 0; at < chunk.length; at += PIECE_BYTES) out.push(chunk.subarray(at, at + PIECE_BYTES));
      if (row >= batch.numRows && last) out.push(null);
    } catch (e) {
      out.destroy(e as Error);
    }
  };
  return new Readable({
    read() {
      // 'drain' comes only after a write the socket refused, so both are asked
      if (socket.writableLength > SOCKET_AHEAD && socket.writableNeedDrain) socket.once('drain', () => fill(this));
      else fill(this);
    },
  });
}

/** Runs one LOAD DATA LOCAL of the batch (and of those `rest` gives after it); resolves to the server's count of warnings. */
export function runLoadData(
  conn: Connection,
  sql: string,
  batch: LoadBatch,
  kinds: readonly TsvField[],
  pool?: ChunkPool,
  rest?: AsyncIterator<LoadBatch>,
): Promise<number> {
  const socket = (conn as unknown as { stream: Writable }).stream;
  return new Promise<number>((resolve, reject) =>
    conn.query<ResultSetHeader>(
      { sql, infileStreamFactory: () => batchStream(batch, kinds, socket, pool, rest) },
      (err, res) => {
        // the query ends after the stream did: nothing it pushed is still held
        pool?.consumed();
        if (err) reject(err);
        else resolve(res.warningStatus);
      },
    ),
  );
}

interface WarningRow {
  Level: string;
  Code: number;
  Message: string;
}

/**
 * LOAD DATA LOCAL reads every error in a value as a warning (the server cannot stop the client's
 * file midway, so LOCAL implies IGNORE, strict sql_mode or not): the value truncated, a NULL in a
 * NOT NULL column set to its default, a duplicate key skipped. So a load with warnings is a failed
 * load: this names them, for the caller to roll back. Notes alone are not failures.
 */
export async function loadWarnings(conn: Connection, count: number): Promise<string | undefined> {
  if (count === 0) return undefined;
  const rows = await new Promise<WarningRow[]>((resolve, reject) =>
    conn.query<WarningRow[] & RowDataPacket[]>('SHOW WARNINGS', (err, r) => (err ? reject(err) : resolve(r))),
  );
  const failing = rows.filter((r) => r.Level !== 'Note');
  // max_error_count may keep some warnings from SHOW WARNINGS: what is not shown cannot be told a note
  if (failing.length === 0 && rows.length >= count) return undefined;
  const shown = failing.slice(0, 3).map((r) => `${r.Level} ${r.Code}: ${r.Message}`);
  return `${count} warning(s) (a value the column cannot hold is a warning in LOAD DATA LOCAL, and fails the batch)${shown.length ? `: ${shown.join('; ')}` : ''}`;
}
