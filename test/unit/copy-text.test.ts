import { describe, expect, it } from 'vitest';
import { BatchAssembler } from '../../src/arrow/batch.js';
import { readText } from '../../src/source/postgres/text.js';
import type { ColumnSpec } from '../../src/source/columns.js';
import { CopyTextDecoder } from '../../src/source/postgres/copy-text.js';

const cols: ColumnSpec[] = [
  { name: 'id', dbType: 'int8', nullable: false, kind: 'int64' },
  { name: 's', dbType: 'text', nullable: true, kind: 'string' },
  { name: 'b', dbType: 'bytea', nullable: true, kind: 'binary' },
  {
    name: 'a',
    dbType: 'text[]',
    nullable: true,
    kind: 'list',
    element: { name: 'element', dbType: 'text', nullable: true, kind: 'string' },
  },
];

/** What `COPY … TO STDOUT` sends for these rows (text format, escapes as PostgreSQL writes them). */
const COPY = [
  '1\ttab\\there\\nnewline \\\\ backslash\t\\\\x00ff\t{"a b","c\\\\"d",NULL,""}\n',
  '2\t\\N\t\\N\t\\N\n',
  '3\t\t\\\\x\t{}\n',
  '4\t\\303\\251 octal \\x41 hex\t\\\\x0a\t{x}\n',
].join('');

function decode(chunks: Buffer[]) {
  const asm = new BatchAssembler(cols, readText, 2);
  const dec = new CopyTextDecoder(asm, [0]);
  for (const c of chunks) dec.push(c);
  dec.end();
  return {
    rows: asm
      .flush()
      .toArray()
      .map((r) => r.toJSON()),
    dec,
  };
}

describe('COPY text decoder', () => {
  const expected = [
    { id: 1n, s: 'tab\there\nnewline \\ backslash', b: new Uint8Array([0, 255]), a: ['a b', 'c"d', null, ''] },
    { id: 2n, s: null, b: null, a: null },
    { id: 3n, s: '', b: new Uint8Array([]), a: [] },
    { id: 4n, s: 'é octal A hex', b: new Uint8Array([10]), a: ['x'] },
  ];

  const plain = (rows: Array<Record<string, unknown>>) =>
    rows.map((r) => ({ ...r, a: r.a === null ? null : [...(r.a as Iterable<unknown>)] }));

  it('undoes escapes, reads NULLs and empty values, remembers the last key', () => {
    const { rows, dec } = decode([Buffer.from(COPY, 'utf8')]);
    expect(plain(rows)).toEqual(expected);
    expect(dec.lastKey).toEqual(['4']);
  });

  it('gives the same rows however the stream is cut into chunks', () => {
    const whole = Buffer.from(COPY, 'utf8');
    for (let size = 1; size <= 13; size++) {
      const chunks: Buffer[] = [];
      for (let i = 0; i < whole.length; i += size) chunks.push(whole.subarray(i, i + size));
      expect(plain(decode(chunks).rows)).toEqual(expected);
    }
  });

  it('refuses a row with the wrong number of fields', () => {
    expect(() => decode([Buffer.from('1\tx\n')])).toThrow(/COPY row has 2 fields, expected 4/);
  });
});
