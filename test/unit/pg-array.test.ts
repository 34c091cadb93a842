import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ColumnBuilder } from '../../src/arrow/builders.js';
import { parsePgArray } from '../../src/arrow/pg-array.js';

/** A child builder that records what it is handed: each element's bytes (copied), or null. */
function recorder() {
  const got: Array<string | null> = [];
  const child = {
    append: (buf: Buffer, s: number, e: number) => {
      got.push(buf.toString('utf8', s, e));
    },
    appendNull: () => {
      got.push(null);
    },
  } as unknown as ColumnBuilder;
  return { child, got };
}

function parse(literal: string | Buffer, start = 0, end?: number): Array<string | null> {
  const buf = typeof literal === 'string' ? Buffer.from(literal, 'utf8') : literal;
  const r = recorder();
  parsePgArray(buf, start, end ?? buf.length, r.child);
  return r.got;
}

/**
 * array_out's spelling of a one-dimensional text[]: an element is double-quoted when it is
 * empty, is NULL in any case, or holds a brace, quote, comma, backslash or white space; inside
 * quotes `"` and `\` are backslash-escaped. NULL is the bare word.
 */
function arrayOut(elements: Array<string | null>): string {
  const one = (e: string | null) => {
    if (e === null) return 'NULL';
    if (e === '' || /^null$/i.test(e) || /[{}",\\\s]/.test(e)) return `"${e.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
    return e;
  };
  return `{${elements.map(one).join(',')}}`;
}

const element = fc.option(
  fc.oneof(
    fc.string({ unit: fc.constantFrom('a', 'b', ' ', ',', '"', '\\', '{', '}', '\t', 'é', 'N', 'U', 'L', 'l', '1') }),
    fc.string(),
    fc.constantFrom('NULL', 'null', 'Null', ''),
  ),
  { nil: null, freq: 5 },
);

describe('parsePgArray examples', () => {
  it('reads bare elements, NULL, and quoted elements with escapes', () => {
    expect(parse('{1,2,NULL}')).toEqual(['1', '2', null]);
    expect(parse('{"a b","c\\"d","e\\\\f"}')).toEqual(['a b', 'c"d', 'e\\f']);
  });

  it('reads a quoted "NULL" as the text NULL, not as a null', () => {
    expect(parse('{"NULL",null}')).toEqual(['NULL', null]);
  });

  it('reads an empty array as no elements', () => {
    expect(parse('{}')).toEqual([]);
  });

  it('skips a bounds decoration such as [0:1]=', () => {
    expect(parse('[0:1]={x,y}')).toEqual(['x', 'y']);
  });

  it('refuses a multi-dimensional array and says what to do', () => {
    expect(() => parse('{{1,2},{3,4}}')).toThrow(
      /multi-dimensional arrays are not supported; cast the column to text in a view/,
    );
  });

  it('refuses what is not an array literal', () => {
    expect(() => parse('1,2')).toThrow(/not an array literal/);
    expect(() => parse('{1,2')).toThrow(/not an array literal/);
  });
});

describe('parsePgArray properties', () => {
  it('gives back every element of any one-dimensional array as array_out spells it', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 12 }), (elements) => {
        expect(parse(arrayOut(elements))).toEqual(elements);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives the same elements with a bounds decoration in front', () => {
    fc.assert(
      fc.property(
        fc.array(element, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: -5, max: 5 }),
        (elements, lo) => {
          expect(parse(`[${lo}:${lo + elements.length - 1}]=${arrayOut(elements)}`)).toEqual(elements);
        },
      ),
    );
  });

  it('reads only its byte range, at any offset in a larger buffer', () => {
    fc.assert(
      fc.property(
        fc.array(element, { maxLength: 8 }),
        fc.uint8Array({ maxLength: 6 }),
        fc.uint8Array({ maxLength: 6 }),
        (elements, before, after) => {
          const lit = Buffer.from(arrayOut(elements), 'utf8');
          const buf = Buffer.concat([before, lit, after]);
          expect(parse(buf, before.length, before.length + lit.length)).toEqual(elements);
        },
      ),
    );
  });

  it('hands on one value per element: the count is the number of top-level commas plus one', () => {
    fc.assert(
      fc.property(
        fc.array(fc.option(fc.stringMatching(/^[a-z0-9]{1,5}$/), { nil: null }), { minLength: 1, maxLength: 20 }),
        (elements) => {
          const lit = arrayOut(elements);
          expect(parse(lit)).toHaveLength(lit.split(',').length);
        },
      ),
    );
  });
});
