import { makeData, Utf8 } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { cellReader } from '../../src/arrow/to-text.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { valueText } from '../../src/source/postgres/text.js';

const TEXT: ColumnSpec = { name: 't', dbType: 'text', nullable: true, kind: 'string' };

/** A string column of these values' bytes. */
function strings(values: Uint8Array[]) {
  const valueOffsets = new Int32Array(values.length + 1);
  values.forEach((v, i) => (valueOffsets[i + 1] = valueOffsets[i]! + v.length));
  const data = new Uint8Array(valueOffsets[values.length]!);
  values.forEach((v, i) => data.set(v, valueOffsets[i]!));
  return makeData({ type: new Utf8(), length: values.length, valueOffsets, data });
}

describe('cellReader: strings', () => {
  it('keeps a leading byte-order mark (Arrow’s own decoder drops it)', () => {
    const read = cellReader(TEXT, strings([Buffer.from('\ufeffa'), Buffer.from('b\ufeff')]), valueText);
    expect([read(0), read(1)]).toEqual(['\ufeffa', 'b\ufeff']);
  });

  it('reads bytes that are not UTF-8 with replacement characters, as before', () => {
    const read = cellReader(TEXT, strings([Uint8Array.of(0xff, 0x41)]), valueText);
    expect(read(0)).toBe('\ufffdA');
  });
});
