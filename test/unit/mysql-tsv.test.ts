import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TsvWriter, tsvRows, type TsvField } from '../../src/source/mysql/tsv.js';

/**
 * A reader of the format as MySQL documents LOAD DATA's defaults (FIELDS TERMINATED BY '\t'
 * ENCLOSED BY '' ESCAPED BY '\\' LINES TERMINATED BY '\n'): a field that is exactly `\N` is NULL;
 * `\0 \b \n \r \t \Z` are NUL, backspace, newline, carriage return, tab, ASCII 26; a backslash
 * before any other byte is that byte. Works on bytes, then decodes each field as UTF-8.
 */
function parseTsv(bytes: Buffer): Array<Array<string | null>> {
  const letters: Record<number, number> = { 0x30: 0, 0x62: 8, 0x6e: 10, 0x72: 13, 0x74: 9, 0x5a: 26 };
  const rows: Array<Array<string | null>> = [];
  let row: Array<string | null> = [];
  let field: number[] = [];
  let escapedNull = false;
  const endField = () => {
    row.push(escapedNull && field.length === 1 && field[0] === 0x4e ? null : Buffer.from(field).toString('utf8'));
    field = [];
    escapedNull = false;
  };
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (b === 0x5c) {
      const next = bytes[++i]!;
      if (next === 0x4e && field.length === 0) escapedNull = true;
      field.push(letters[next] ?? next);
    } else if (b === 0x09) endField();
    else if (b === 0x0a) {
      endField();
      rows.push(row);
      row = [];
    } else field.push(b);
  }
  expect(field).toEqual([]);
  return rows;
}

// strings of any UTF-16 units but lone surrogates (which no text column can hold), the format's bytes among them
const special = fc.constantFrom('\t', '\n', '\r', '\\', '\0', '\\N', 'N', 'NULL', '\u001a', '\b', '');
const text = fc.oneof(
  fc.string({ unit: 'grapheme' }),
  fc.string({ unit: 'binary' }).map((s) => s.replace(/[\ud800-\udfff]/g, '?')),
  fc
    .array(fc.oneof(special, fc.string({ unit: 'grapheme-ascii', maxLength: 3 })), { maxLength: 12 })
    .map((a) => a.join('')),
  fc.string({ unit: 'grapheme', minLength: 40, maxLength: 400 }),
);
const rowsOf = (cols: number) =>
  fc.array(fc.array(fc.option(text, { nil: null }), { minLength: cols, maxLength: cols }), { maxLength: 30 });

describe('TSV for LOAD DATA', () => {
  it('parses back to the same values, NULLs and empty strings apart', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }).chain((n) => rowsOf(n)),
        (rows) => {
          expect(parseTsv(tsvRows(rows))).toEqual(rows);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('cut into chunks anywhere, the chunks join to the same bytes as one piece', () => {
    fc.assert(
      fc.property(rowsOf(3), fc.integer({ min: 1, max: 200 }), (rows, chunkBytes) => {
        const w = new TsvWriter(chunkBytes);
        const parts: Buffer[] = [];
        for (const row of rows) {
          row.forEach((v, c) => w.field(v, 'text', c === 0));
          w.endRow();
          if (w.size >= chunkBytes) parts.push(w.take());
        }
        parts.push(w.take());
        expect(Buffer.concat(parts).equals(tsvRows(rows))).toBe(true);
      }),
    );
  });

  it('writes the format bytes of a value escaped, and nothing else', () => {
    const bytes = tsvRows([['a\tb\nc\rd\\e\0f \\N', '\\N', null, '', 'é\t€\n😀']]);
    expect(bytes.toString('utf8')).toBe('a\\tb\\nc\\rd\\\\e\\0f \\\\N\t\\\\N\t\\N\t\té\\t€\\n😀\n');
  });

  it('writes raw fields (numbers, hex) as they are', () => {
    const kinds: TsvField[] = ['raw', 'raw', 'text'];
    expect(tsvRows([['-12.50', 'deadbeef', null]], kinds).toString()).toBe('-12.50\tdeadbeef\t\\N\n');
  });

  it('a value longer than the chunk grows the buffer instead of cutting it', () => {
    const long = 'x\t'.repeat(100_000);
    const w = new TsvWriter(1024);
    w.field(long, 'text', true);
    w.endRow();
    expect(parseTsv(w.take())).toEqual([[long]]);
  });
});
