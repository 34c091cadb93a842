/** Bytes per COPY chunk: large enough that a chunk costs little, small enough that it dies young. */
export const CHUNK_BYTES = 64 * 1024;

/**
 * COPY chunk buffers, reused batch after batch: the ones a COPY used come back once it has
 * completed (the server has them all, so the socket holds none) instead of each becoming garbage
 * that outlives young-generation collections and waits for a full one. Holds at most one COPY's
 * chunks that are still in flight.
 */
export class ChunkPool {
  private free: Buffer[] = [];
  private lent: Buffer[] = [];

  take(bytes: number): Buffer {
    // a value larger than a chunk gets a buffer of its own, not kept
    if (bytes > CHUNK_BYTES) return Buffer.allocUnsafe(bytes);
    const b = this.free.pop() ?? Buffer.allocUnsafe(CHUNK_BYTES);
    this.lent.push(b);
    return b;
  }

  /** Every buffer lent is free again (after a COPY completed), except `keep` (the one still being written). */
  reclaim(keep?: Buffer): void {
    for (const b of this.lent) if (b !== keep) this.free.push(b);
    this.lent = keep && this.lent.includes(keep) ? [keep] : [];
  }

  /** After a failed COPY the socket may still hold some: they are left to the collector. */
  forget(): void {
    this.lent = [];
  }
}

const EMPTY = Buffer.alloc(0);
const EMPTY_VIEW = new DataView(new ArrayBuffer(0));

/**
 * Where a COPY's bytes are written: a chunk from the pool and the position in it. `room(n)`
 * makes n contiguous bytes available, moving a full chunk to `full` (the caller yields those),
 * so a value is never split and the writers below store straight into `buf` / `view`.
 */
export class CopyOut {
  buf: Buffer;
  view: DataView;
  at = 0;
  readonly full: Buffer[] = [];

  constructor(private readonly pool: ChunkPool) {
    this.buf = pool.take(CHUNK_BYTES);
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
  }

  room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    if (this.at) this.full.push(this.buf.subarray(0, this.at));
    this.buf = this.pool.take(Math.max(n, CHUNK_BYTES));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.length);
    this.at = 0;
  }

  /** The full chunks; with `final`, then what is written of the current one, after which writing starts a new chunk. */
  *drain(final: boolean): Generator<Buffer> {
    while (this.full.length) yield this.full.shift()!;
    if (final && this.at) {
      const last = this.buf.subarray(0, this.at);
      this.buf = EMPTY;
      this.view = EMPTY_VIEW;
      this.at = 0;
      yield last;
    }
  }
}
