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

/** Bytes of (encoded) data after which a row group is closed, whatever its row count. */
export const MAX_ROW_GROUP_BYTES = 16 * 1024 * 1024;

const CODECS: Record<CompressionName, wasm.Compression> = {
  zstd: wasm.Compression.ZSTD,
  snappy: wasm.Compression.SNAPPY,
  gzip: wasm.Compression.GZIP,
  none: wasm.Compression.UNCOMPRESSED,
};

export function writerProperties(opts: ParquetOptions): wasm.WriterProperties {
  let b = new wasm.WriterPropertiesBuilder()
    .setCompression(CODECS[opts.compression])
    .setMaxRowGroupSize(opts.rowGroupRows)
    // wide rows: a row group is also cut at this size, so the writer never buffers more than this
    .setMaxRowGroupBytes(MAX_ROW_GROUP_BYTES)
    .setCreatedBy('tablevault');
  if (opts.metadata) b = b.setKeyValueMetadata(new Map(Object.entries(opts.metadata)));
  return b.build();
}
