import { tableFromIPC, type RecordBatch } from 'apache-arrow';
import type * as ParquetWasm from 'parquet-wasm';
import type { ObjectStore } from '../store/store.js';

let wasmModule: Promise<typeof ParquetWasm> | undefined;

/**
 * The rows of one Parquet object, one row group at a time: the object's bytes are held once and
 * each row group is decoded only when the consumer asks for it, so memory is one object plus
 * one row group however large the table.
 */
export async function* readObjectBatches(
  store: ObjectStore,
  key: string,
  batchRows = 65_536,
): AsyncGenerator<RecordBatch> {
  const wasm = await (wasmModule ??= import('parquet-wasm'));
  let bytes: Uint8Array | undefined = await store.get(key);
  const file = await wasm.ParquetFile.fromFile(new Blob([bytes]));
  // eslint-disable-next-line no-useless-assignment -- the generator's frame would keep the bytes alive until the last row group
  bytes = undefined; // the Blob holds its own copy: let this one go while the row groups are read
  try {
    const groups = file.metadata().numRowGroups();
    for (let g = 0; g < groups; g++) {
      const table = await file.read({ rowGroups: [g], batchSize: batchRows });
      const ipc = table.intoIPCStream();
      for (const b of tableFromIPC(ipc).batches) yield b;
    }
  } finally {
    file.free();
  }
}
