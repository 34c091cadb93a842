import { Field, Int32, RecordBatch, Schema, Struct, makeData } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { splitIntoFiles } from '../../src/backup/split.js';

const schema = new Schema([new Field('n', new Int32(), true)]);
function batch(from: number, count: number): RecordBatch {
  const child = makeData({
    type: new Int32(),
    length: count,
    nullCount: 0,
    data: Int32Array.from({ length: count }, (_, i) => from + i),
  });
  return new RecordBatch(
    schema,
    makeData({ type: new Struct(schema.fields), length: count, nullCount: 0, children: [child] }),
  );
}
async function* gen(batches: RecordBatch[]) {
  yield* batches;
}

async function files(batches: RecordBatch[], max: number): Promise<number[][]> {
  const out: number[][] = [];
  for await (const f of splitIntoFiles(gen(batches), max, () => batch(0, 0))) {
    const vals: number[] = [];
    for await (const b of f) for (const r of b.toArray()) vals.push(r.n as number);
    out.push(vals);
  }
  return out;
}

describe('splitIntoFiles', () => {
  it('cuts at exactly maxRows, slicing batches that straddle a boundary', async () => {
    const got = await files([batch(0, 4), batch(4, 4), batch(8, 3)], 5);
    expect(got).toEqual([[0, 1, 2, 3, 4], [5, 6, 7, 8, 9], [10]]);
  });
  it('makes no empty trailing file when the rows end on a boundary', async () => {
    expect(await files([batch(0, 3), batch(3, 3)], 3)).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
  });
  it('an empty input still gives one (empty) file, so the schema is written', async () => {
    expect(await files([], 3)).toEqual([[]]);
    expect(await files([batch(0, 0)], 3)).toEqual([[]]);
  });
});
