import type { RecordBatch } from 'apache-arrow';

/**
 * Cuts one stream of batches into consecutive files of at most `maxRows` rows, slicing a batch
 * that straddles a boundary. Each file is itself a stream, consumed before the next starts; no
 * file is empty unless the whole input is (then `onEmpty` supplies one batch carrying the schema).
 */
export async function* splitIntoFiles(
  batches: AsyncIterable<RecordBatch>,
  maxRows: number,
  onEmpty: () => RecordBatch,
): AsyncGenerator<AsyncGenerator<RecordBatch>> {
  const it = batches[Symbol.asyncIterator]();
  let carry: RecordBatch | undefined;
  let files = 0;
  const fill = async (): Promise<boolean> => {
    while (!carry) {
      const n = await it.next();
      if (n.done) return false;
      if (n.value.numRows > 0) carry = n.value;
    }
    return true;
  };
  async function* file(): AsyncGenerator<RecordBatch> {
    let rows = 0;
    while (rows < maxRows && (await fill())) {
      let b = carry!;
      carry = undefined;
      const room = maxRows - rows;
      if (b.numRows > room) {
        carry = b.slice(room);
        b = b.slice(0, room);
      }
      rows += b.numRows;
      yield b;
    }
  }
  try {
    while (await fill()) {
      files++;
      yield file();
    }
    if (files === 0) {
      const empty = onEmpty();
      yield (async function* () {
        yield empty;
      })();
    }
  } finally {
    await it.return?.();
  }
}
