import { describe, expect, it } from 'vitest';
import { BatchAssembler, releaseBatch } from '../../src/arrow/batch.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { readText } from '../../src/source/postgres/text.js';

const cols: ColumnSpec[] = [
  { name: 'id', dbType: 'int8', nullable: false, kind: 'int64' },
  { name: 'name', dbType: 'text', nullable: true, kind: 'string' },
];

function assemble(rows: Array<[string, string | null]>): BatchAssembler {
  const asm = new BatchAssembler(cols, readText, 4);
  for (const [id, name] of rows) {
    const idBuf = Buffer.from(id);
    asm.builders[0]!.append(idBuf, 0, idBuf.length);
    if (name === null) asm.builders[1]!.appendNull();
    else {
      const b = Buffer.from(name);
      asm.builders[1]!.append(b, 0, b.length);
    }
    asm.endRow();
  }
  return asm;
}

const buffersOf = (b: ReturnType<BatchAssembler['flush']>) =>
  b.data.children.flatMap((d) => [d.values, d.valueOffsets, d.nullBitmap].filter((x) => x && x.byteLength > 0));

describe('releaseBatch', () => {
  it('frees every column buffer of a batch straight from an assembler', () => {
    const batch = assemble([
      ['1', 'a'],
      ['2', null],
      ['3', 'ccc'],
    ]).flush();
    const before = buffersOf(batch);
    expect(before.length).toBeGreaterThan(0);
    releaseBatch(batch);
    expect(before.every((a) => a!.buffer.byteLength === 0)).toBe(true);
  });

  it('leaves a slice alone: its buffers are shared with the batch it came from', () => {
    const batch = assemble([
      ['1', 'a'],
      ['2', 'b'],
      ['3', 'c'],
    ]).flush();
    const head = batch.slice(0, 2);
    const carry = batch.slice(2);
    releaseBatch(head);
    expect(carry.toArray().map((r) => `${String(r.id)}:${String(r.name)}`)).toEqual(['3:c']);
  });

  it('does not touch the next batch the assembler builds', () => {
    const asm = assemble([['1', 'a']]);
    releaseBatch(asm.flush());
    const b = Buffer.from('7');
    asm.builders[0]!.append(b, 0, 1);
    asm.builders[1]!.append(Buffer.from('x'), 0, 1);
    asm.endRow();
    expect(
      asm
        .flush()
        .toArray()
        .map((r) => `${String(r.id)}:${String(r.name)}`),
    ).toEqual(['7:x']);
  });
});
