import { tableFromArrays, type RecordBatch } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
// the encoder's worker is a built file (dist/parquet/encode-worker.js): the test runs the build
import { ParquetEncoder } from '../../dist/parquet/encode.js';

const metadata = Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`tablevault.k${i}`, `v${i}`]));
const opts = { compression: 'zstd' as const, rowGroupRows: 1000, metadata };

function batches(n: number): RecordBatch[] {
  return Array.from(
    { length: n },
    (_, b) => tableFromArrays({ id: Int32Array.from({ length: 500 }, (_, i) => b * 500 + i) }).batches[0]!,
  );
}

async function encodeTimes(encoder: ParquetEncoder, batchCount: number, times: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < times; i++) {
    const parts: Uint8Array[] = [];
    async function* input() {
      yield* batches(batchCount);
    }
    for await (const c of encoder.encode(input(), opts)) parts.push(c);
    out.push(Buffer.concat(parts).toString('base64'));
  }
  return out;
}

describe('ParquetEncoder: the same rows and footer metadata give the same bytes', () => {
  it('file after file of one batch (written in one message)', async () => {
    const files = await encodeTimes(new ParquetEncoder(), 1, 6);
    expect(new Set(files).size).toBe(1);
  });

  it('file after file of several batches (streamed)', async () => {
    const files = await encodeTimes(new ParquetEncoder(), 3, 6);
    expect(new Set(files).size).toBe(1);
  });
});
