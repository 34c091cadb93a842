import { Worker } from 'node:worker_threads';
import type { RecordBatch } from 'apache-arrow';
import { postBatch } from './ipc-pieces.js';
import type { ParquetOptions } from './compression.js';

export { COMPRESSIONS, type CompressionName, type ParquetOptions } from './compression.js';

/** Batches handed to the worker and not yet taken by its writer. */
const MAX_BATCHES_IN_FLIGHT = 2;
/** Encoded bytes waiting for the consumer (the uploader) before reading pauses. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;
/**
 * A file of one batch of at most this size is written in one message each way (see encode). Far
 * below MAX_ROW_GROUP_BYTES, so the streaming writer would not have cut its row group either.
 */
const ONE_SHOT_MAX_BYTES = 1024 * 1024;

type FromWorker =
  | { type: 'ack' }
  | { type: 'chunk'; data: Uint8Array }
  | { type: 'done' }
  | { type: 'file'; data: Uint8Array }
  | { type: 'error'; message: string };

/**
 * Encodes Arrow batches to Parquet on a worker thread (parquet-wasm's streaming writer), so
 * reading and decoding on the main thread overlap with encoding on the other core. One file at
 * a time per encoder; reuse the encoder across files and `close()` it at the end.
 *
 * Memory: at most MAX_BATCHES_IN_FLIGHT batches in the worker, one row group inside the writer,
 * and MAX_PENDING_BYTES of encoded bytes waiting for the consumer; past that the reader waits.
 */
export class ParquetEncoder {
  private worker: Worker | undefined;
  private busy = false;
  private idle: () => boolean = () => true;
  private waiters: Array<() => void> = [];

  /** Resolves when no batch is waiting in the worker and no encoded byte waits for the consumer. */
  drained(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  private checkDrained(): void {
    if (!this.idle()) return;
    const ws = this.waiters.splice(0);
    for (const w of ws) w();
  }

  /**
   * Starts the worker now, so that it has loaded and compiled the WebAssembly module (~0.1 s of
   * CPU on its own core) by the time the first batch has been read.
   */
  warm(): this {
    this.worker ??= this.spawn();
    return this;
  }

  private spawn(): Worker {
    const w = new Worker(new URL('./encode-worker.js', import.meta.url));
    w.unref();
    return w;
  }

  /**
   * A file of one small batch (a small table's) is written in one message each way, by
   * parquet-wasm's one-shot writer: the streaming protocol's six messages and the worker's web
   * streams cost a small table more than its rows did. Other files stream, batch by batch.
   */
  async *encode(batches: AsyncIterable<RecordBatch>, opts: ParquetOptions): AsyncGenerator<Uint8Array> {
    if (this.busy) throw new Error('ParquetEncoder encodes one file at a time');
    this.busy = true;
    try {
      const it = batches[Symbol.asyncIterator]();
      const head: RecordBatch[] = [];
      const first = await it.next();
      if (!first.done) {
        head.push(first.value);
        // only a small first batch waits for the next, to see whether it is the last: a large one
        // goes to the worker at once, so that encoding it overlaps reading the next
        if (first.value.data.byteLength <= ONE_SHOT_MAX_BYTES) {
          const second = await it.next();
          if (second.done) {
            yield await this.encodeOne(first.value, opts);
            return;
          }
          head.push(second.value);
        }
      }
      yield* this.stream(prepend(head, it), opts);
    } finally {
      this.busy = false;
    }
  }

  /** One file of one batch, in one message each way. */
  private async encodeOne(batch: RecordBatch, opts: ParquetOptions): Promise<Uint8Array> {
    const worker = (this.worker ??= this.spawn());
    let onMessage!: (m: FromWorker) => void;
    let onError!: (e: Error) => void;
    try {
      return await new Promise<Uint8Array>((resolve, reject) => {
        onMessage = (m) => {
          if (m.type === 'file') resolve(m.data);
          else if (m.type === 'error') reject(new Error(`Parquet encoding failed: ${m.message}`));
        };
        onError = reject;
        worker.on('message', onMessage);
        worker.on('error', onError);
        postBatch(worker, batch, { type: 'file', opts });
      });
    } catch (e) {
      // the worker's state is unknown after an error: the next file gets a new one
      this.worker = undefined;
      await worker.terminate();
      throw e;
    } finally {
      worker.off('message', onMessage);
      worker.off('error', onError);
    }
  }

  private async *stream(batches: AsyncIterable<RecordBatch>, opts: ParquetOptions): AsyncGenerator<Uint8Array> {
    const worker = (this.worker ??= this.spawn());
    let inflight = 0;
    let pendingBytes = 0;
    const out: Uint8Array[] = [];
    let finished = false;
    let failure: unknown;
    let stop = false;
    let signal!: () => void;
    let changed = new Promise<void>((r) => {
      signal = r;
    });
    const notify = () => {
      const s = signal;
      changed = new Promise<void>((r) => {
        signal = r;
      });
      s();
      this.checkDrained();
    };
    this.idle = () => inflight === 0 && out.length === 0;
    const onMessage = (m: FromWorker) => {
      if (m.type === 'ack') inflight--;
      else if (m.type === 'chunk') {
        out.push(m.data);
        pendingBytes += m.data.length;
      } else if (m.type === 'done') finished = true;
      else if (m.type === 'error') failure ??= new Error(`Parquet encoding failed: ${m.message}`);
      notify();
    };
    const onError = (e: Error) => {
      failure ??= e;
      notify();
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.postMessage({ type: 'open', opts });
    const feeding = (async () => {
      let sent = 0;
      for await (const b of batches) {
        // an empty batch only when it is all there is: the file then still carries the schema
        if (b.numRows === 0 && sent > 0) continue;
        while (
          !stop &&
          failure === undefined &&
          (inflight >= MAX_BATCHES_IN_FLIGHT || pendingBytes > MAX_PENDING_BYTES)
        )
          await changed;
        if (stop || failure !== undefined) return;
        inflight++;
        sent++;
        postBatch(worker, b, { type: 'batch' });
      }
      worker.postMessage({ type: 'end' });
    })().catch((e: unknown) => {
      failure ??= e;
      notify();
    });
    try {
      for (;;) {
        if (out.length) {
          const c = out.shift()!;
          pendingBytes -= c.length;
          notify();
          yield c;
          continue;
        }
        if (failure !== undefined) throw failure;
        if (finished) break;
        await changed;
      }
      await feeding;
      if (failure !== undefined) throw failure;
    } finally {
      stop = true;
      notify();
      await feeding; // lets the reader's finally run (its connection is released) before we go on
      worker.off('message', onMessage);
      worker.off('error', onError);
      this.idle = () => true;
      this.checkDrained();
      if (!finished) {
        // abandoned or failed mid-file: the worker's writer is in an unknown state
        this.worker = undefined;
        await worker.terminate();
      }
    }
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}

/** `head`, then the rest of `rest`. */
async function* prepend<T>(head: T[], rest: AsyncIterator<T>): AsyncGenerator<T> {
  try {
    yield* head;
    for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
  } finally {
    await rest.return?.(); // a consumer that stops early ends the read behind it (its connection goes back)
  }
}

/** Encodes one file on a worker of its own. */
export async function* encodeParquet(
  batches: AsyncIterable<RecordBatch>,
  opts: ParquetOptions,
): AsyncGenerator<Uint8Array> {
  const encoder = new ParquetEncoder();
  try {
    yield* encoder.encode(batches, opts);
  } finally {
    await encoder.close();
  }
}
