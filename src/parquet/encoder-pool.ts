import { ParquetEncoder } from './encode.js';

/**
 * The encoder threads of a run: one per concurrent read (a table, or a chunk of one), started
 * lazily, kept until the run ends, never one per table. `use` waits for a free encoder, so the
 * pool's size is also the number of reads that run at once.
 *
 * @example
 * ```ts
 * const pool = new EncoderPool(2);
 * try {
 *   await Promise.all(chunks.map((c) => pool.use((encoder) => writeChunk(c, encoder))));
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export class EncoderPool {
  private readonly free: ParquetEncoder[] = [];
  private readonly waiting: Array<(e: ParquetEncoder) => void> = [];
  private readonly all: ParquetEncoder[] = [];

  constructor(readonly size: number) {}

  /** Starts the threads now, so they compile their WebAssembly while the run plans. */
  warm(): this {
    while (this.all.length < this.size) this.add();
    return this;
  }

  private add(): ParquetEncoder {
    const e = new ParquetEncoder().warm();
    this.all.push(e);
    this.free.push(e);
    return e;
  }

  private acquire(): Promise<ParquetEncoder> {
    if (!this.free.length && this.all.length < this.size) this.add();
    const e = this.free.pop();
    if (e) return Promise.resolve(e);
    return new Promise((r) => this.waiting.push(r));
  }

  private release(e: ParquetEncoder): void {
    const next = this.waiting.shift();
    if (next) next(e);
    else this.free.push(e);
  }

  /** Runs `fn` with an encoder of its own (waiting, first come first served, when all are in use). */
  async use<T>(fn: (encoder: ParquetEncoder) => Promise<T>): Promise<T> {
    const e = await this.acquire();
    try {
      return await fn(e);
    } finally {
      this.release(e);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.all.splice(0).map((e) => e.close()));
    this.free.length = 0;
  }
}
