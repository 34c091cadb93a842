import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import type * as ParquetWasm from 'parquet-wasm';
import { freeBuffer } from '../memory/gc.js';
import type { ObjectStore } from '../store/store.js';

let wasmModule: Promise<typeof ParquetWasm> | undefined;

/**
 * The rows of one Parquet object, one batch of at most `batchRows` rows at a time: the object's
 * compressed bytes are held once, and parquet-wasm's stream decodes batches as the consumer asks
 * for them, each handed over as Arrow IPC and its WebAssembly copy freed. Memory is the object plus
 * about one batch, however large the table or its row groups. WebAssembly memory never shrinks:
 * its size is set by the largest batch decoded (whole row groups, decoded at once, set it higher).
 *
 * A batch is valid until the next one is asked for: its memory is then released (the views on it
 * become empty), so a caller that keeps values copies them. With `columns`, only those are decoded.
 */
export async function* readObjectBatches(
  store: ObjectStore,
  key: string,
  batchRows = 65_536,
  columns?: string[],
): AsyncGenerator<RecordBatch> {
  const wasm = await (wasmModule ??= import('parquet-wasm'));
  let bytes: Uint8Array | undefined = await store.get(key);
  const file = await wasm.ParquetFile.fromFile(new Blob([bytes]));
  // eslint-disable-next-line no-useless-assignment -- the generator's frame would keep the bytes alive until the last batch
  bytes = undefined; // the Blob holds its own copy: let this one go while the batches are read
  try {
    const stream = (await file.stream({
      batchSize: batchRows,
      ...(columns ? { columns } : {}),
    })) as ReadableStream<ParquetWasm.RecordBatch>;
    // an early return (the consumer failed or stopped) cancels the stream, which stops decoding
    for await (const wasmBatch of stream) {
      // intoIPCStream consumes the WebAssembly batch: its memory is free for the next one
      const ipc = wasmBatch.intoIPCStream();
      for (const b of tableFromIPC(ipc).batches) yield b;
      // the consumer is done with the batch: its bytes go now, not whenever a full collection
      // comes (they outlive young-generation ones, and tens of MB of them piled up)
      freeBuffer(ipc.buffer);
    }
  } finally {
    file.free();
  }
}
