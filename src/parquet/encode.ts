import { tableToIPC, Table as ArrowTable, type RecordBatch } from 'apache-arrow';
import * as wasm from 'parquet-wasm';

export type CompressionName = 'zstd' | 'snappy' | 'gzip' | 'none';

export const COMPRESSIONS: readonly CompressionName[] = ['zstd', 'snappy', 'gzip', 'none'];

export interface ParquetOptions {
  compression: CompressionName;
  /** Rows per row group: the encoder holds about one row group in memory. */
  rowGroupRows: number;
  /** Key-value metadata written into the file footer. */
  metadata?: Record<string, string>;
}

const CODECS: Record<CompressionName, wasm.Compression> = {
  zstd: wasm.Compression.ZSTD,
  snappy: wasm.Compression.SNAPPY,
  gzip: wasm.Compression.GZIP,
  none: wasm.Compression.UNCOMPRESSED,
};

function writerProperties(opts: ParquetOptions): wasm.WriterProperties {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(CODECS[opts.compression])
    .setMaxRowGroupSize(opts.rowGroupRows)
    .setCreatedBy('tablevault');
  if (opts.metadata) b = b.setKeyValueMetadata(new Map(Object.entries(opts.metadata)));
  return b.build();
}

/** Moves one JS Arrow batch into WASM memory (via Arrow IPC; parquet-wasm has no other door). */
function toWasmBatches(batch: RecordBatch): wasm.RecordBatch[] {
  const ipc = tableToIPC(new ArrowTable([batch]), 'stream');
  const table = wasm.Table.fromIPCStream(ipc);
  try { return table.recordBatches(); } finally { table.free(); }
}

/**
 * Streams Arrow batches into one Parquet file and yields its bytes as they are produced.
 * The Rust writer flushes each row group as it fills, so memory holds one row group and the
 * batch in hand, not the file. Pulls the next batch only when the consumer wants more bytes.
 */
export async function* encodeParquet(batches: AsyncIterable<RecordBatch>, opts: ParquetOptions): AsyncGenerator<Uint8Array> {
  const it = batches[Symbol.asyncIterator]();
  let pending: wasm.RecordBatch[] = [];
  let sent = 0;
  const source = new ReadableStream<wasm.RecordBatch>({
    async pull(controller) {
      while (pending.length === 0) {
        const next = await it.next();
        if (next.done) { controller.close(); return; }
        // an empty batch only when it is all there is: the file then still carries the schema
        if (next.value.numRows > 0 || sent === 0) pending = toWasmBatches(next.value);
      }
      sent++;
      controller.enqueue(pending.shift()!);
    },
    async cancel() { await it.return?.(); },
  }, { highWaterMark: 0 });
  const out = await wasm.transformParquetStream(source, writerProperties(opts));
  const reader = (out as ReadableStream<Uint8Array>).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
    await out.cancel().catch(() => {});
    for (const b of pending) b.free();
  }
}
