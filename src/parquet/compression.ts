/** Parquet settings shared by the main thread and the encoder worker; free of WASM, so importing it costs nothing. */
export type CompressionName = 'zstd' | 'snappy' | 'gzip' | 'none';

export const COMPRESSIONS: readonly CompressionName[] = ['zstd', 'snappy', 'gzip', 'none'];

export interface ParquetOptions {
  compression: CompressionName;
  /** Rows per row group: the encoder holds about one row group in memory. */
  rowGroupRows: number;
  /** Key-value metadata written into the file footer. */
  metadata?: Record<string, string>;
}
