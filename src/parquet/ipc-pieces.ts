import type { Worker } from 'node:worker_threads';
import { AsyncByteQueue, RecordBatchStreamWriter, type RecordBatch } from 'apache-arrow';
import { ownBuffers, releaseBatch } from '../arrow/batch.js';

/** Collects what an IPC writer writes, each piece as the view it was given (no copy, no join). */
class Pieces extends AsyncByteQueue {
  readonly pieces: Uint8Array[] = [];
  override write(value: Uint8Array): void {
    if (value.byteLength > 0) this.pieces.push(value);
  }
}

/** An Arrow IPC stream of one batch, in pieces, and the buffers to transfer with them. */
export interface IpcMessage {
  /** Concatenated, they are the stream's bytes (the encoder thread joins them). */
  pieces: Uint8Array[];
  transfer: ArrayBuffer[];
}

/**
 * One batch as an Arrow IPC stream for the encoder thread, without the copy `tableToIPC` makes
 * to join its pieces into one array. The column buffers of a batch straight from the builders are
 * its own (see ownBuffers): the pieces that are views of them go with their buffers transferred,
 * and the encoder thread joins the pieces (a memcpy on its core instead of the reader's: 143 ms of
 * the main thread's 5.1 s in the 244-table bench backup). Any other batch (a slice, whose buffers
 * another batch shares) has its pieces copied, as tableToIPC did. See postBatch, which sends it.
 */
export function ipcMessage(batch: RecordBatch): IpcMessage {
  const own = ownBuffers(batch);
  const sink = new Pieces();
  const writer = new RecordBatchStreamWriter();
  writer.reset(sink, batch.schema);
  writer.write(batch);
  writer.finish();
  const transfer = new Set<ArrayBuffer>();
  const pieces = sink.pieces.map((p) => {
    const buffer = p.buffer as ArrayBuffer;
    if (own?.has(buffer)) {
      transfer.add(buffer);
      return p;
    }
    // the writer's own arrays (metadata, padding), or a view of a buffer that is not the batch's own
    return p.byteOffset === 0 && p.byteLength === buffer.byteLength ? p : p.slice();
  });
  return { pieces, transfer: [...transfer] };
}

/**
 * Sends `batch` to the encoder thread as `{ ...fields, ipc }` (ipcMessage's pieces, its own
 * buffers transferred), then releases it, sent or not: what was not transferred is freed now.
 */
export function postBatch(
  worker: Worker,
  batch: RecordBatch,
  fields: { type: 'batch' | 'file'; [k: string]: unknown },
): void {
  const { pieces, transfer } = ipcMessage(batch);
  try {
    worker.postMessage({ ...fields, ipc: pieces }, transfer);
  } finally {
    releaseBatch(batch);
  }
}
