/**
 * Worker thread: turns Arrow IPC batches into one Parquet file at a time with parquet-wasm's
 * streaming writer, so encoding runs on the second core while the main thread reads.
 *
 * Protocol (main → worker): open {opts}, batch {ipc} (an IPC stream's pieces, see ipc-pieces.ts), end.
 * (worker → main): ack (a batch was taken by the writer), chunk {data} (transferred), done, error {message}.
 * Or, for a file of one small batch: file {ipc, opts} → file {data} (the whole file), or error.
 */
import { parentPort } from 'node:worker_threads';
import * as wasm from 'parquet-wasm';
import { collectYoung } from '../memory/gc.js';
import type { ParquetOptions } from './compression.js';
import { sortFooterMetadata } from './footer-order.js';
import { writerProperties } from './properties.js';

type In =
  | { type: 'open'; opts: ParquetOptions }
  | { type: 'batch'; ipc: Uint8Array[] }
  | { type: 'end' }
  | { type: 'file'; ipc: Uint8Array[]; opts: ParquetOptions };

const port = parentPort!;
let queue: Array<wasm.RecordBatch | null> = [];
let wake: (() => void) | undefined;

function push(item: wasm.RecordBatch | null): void {
  queue.push(item);
  wake?.();
}

async function encode(opts: ParquetOptions): Promise<void> {
  queue = [];
  // the footer is written once the batches have ended: what comes out after that is held back,
  // its metadata put in order (sortFooterMetadata), and sent as the file's last chunk
  let ended = false;
  const tail: Uint8Array[] = [];
  const source = new ReadableStream<wasm.RecordBatch>(
    {
      async pull(controller) {
        while (queue.length === 0)
          await new Promise<void>((r) => {
            wake = r;
          });
        wake = undefined;
        const next = queue.shift()!;
        if (next === null) {
          ended = true;
          controller.close();
        } else {
          controller.enqueue(next);
          port.postMessage({ type: 'ack' });
        }
      },
    },
    { highWaterMark: 0 },
  );
  const out = await wasm.transformParquetStream(source, writerProperties(opts));
  for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) {
    // never transfer a view of WASM memory: that would detach it
    const own =
      chunk.byteOffset === 0 &&
      chunk.byteLength === chunk.buffer.byteLength &&
      chunk.buffer !== wasm.wasmMemory().buffer
        ? chunk
        : chunk.slice();
    if (ended) tail.push(own);
    else send(own);
  }
  // parquet-wasm's writer writes the last row group and the footer in one chunk at its close
  const last = tail.length === 1 ? tail[0]! : concat(tail);
  if (!sortFooterMetadata(last))
    throw new Error('the Parquet footer was not in the output written after the last batch');
  send(last);
  port.postMessage({ type: 'done' });
}

/** `data` must own its whole buffer (it is transferred). */
function send(data: Uint8Array): void {
  port.postMessage({ type: 'chunk', data }, [data.buffer as ArrayBuffer]);
}

/**
 * The chunks in one array of its own (not Buffer.concat, whose small results share Node's pool);
 * also how an IPC message's pieces become its bytes, on this thread rather than the reader's.
 */
function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

port.on('message', (m: In) => {
  switch (m.type) {
    case 'open':
      encode(m.opts).catch((e: unknown) =>
        port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) }),
      );
      break;
    case 'batch': {
      const table = wasm.Table.fromIPCStream(concat(m.ipc));
      const batches = table.recordBatches();
      table.free();
      if (batches.length === 0) port.postMessage({ type: 'ack' });
      for (const [i, b] of batches.entries()) {
        push(b);
        if (i > 0) port.postMessage({ type: 'ack' }); // one ack per batch sent; extra pieces ack among themselves
      }
      // the IPC message is in WASM memory now: free its buffer before the next one arrives
      collectYoung();
      break;
    }
    case 'end':
      push(null);
      break;
    case 'file':
      try {
        const table = wasm.Table.fromIPCStream(concat(m.ipc));
        // writeParquet copies the file out of WASM memory: the array is the worker's own to transfer
        const data = wasm.writeParquet(table, writerProperties(m.opts));
        sortFooterMetadata(data);
        port.postMessage({ type: 'file', data }, [data.buffer as ArrayBuffer]);
      } catch (e) {
        port.postMessage({ type: 'error', message: e instanceof Error ? e.message : String(e) });
      }
      collectYoung();
      break;
  }
});
