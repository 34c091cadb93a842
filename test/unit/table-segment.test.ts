import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTableSegment, encodeTableSegment, tablePrefix } from '../../src/manifest/layout.js';

/** Names that broke or could break a folder: dots, slashes, `%`, spaces, quotes, Unicode. */
const tricky = fc.constantFrom(
  '.',
  '..',
  '%',
  '%2E',
  '/',
  '\\',
  ' ',
  '"',
  "'",
  'a.b',
  '../../evil',
  'Orders',
  ' trailing ',
  'é',
  'e\u0301',
  '😀',
  '\0',
  '~',
);
const name = fc
  .array(fc.oneof(tricky, fc.string({ unit: 'binary' }), fc.stringMatching(/^[a-z_]+$/)), {
    minLength: 1,
    maxLength: 4,
  })
  .map((parts) => parts.join(''))
  .filter((s) => s !== '');
const table = fc.record({ schema: name, name });
const plain = fc.stringMatching(/^[A-Za-z0-9_$-]+$/);

describe('encodeTableSegment and decodeTableSegment', () => {
  it('decode gives back the schema and name that were encoded', () => {
    fc.assert(
      fc.property(table, (t) => {
        expect(decodeTableSegment(encodeTableSegment(t))).toEqual(t);
      }),
    );
  });

  it('writes one key segment: no "/", never "." or "..", exactly one unencoded "."', () => {
    fc.assert(
      fc.property(table, (t) => {
        const s = encodeTableSegment(t);
        expect(s).not.toContain('/');
        expect(s).not.toBe('.');
        expect(s).not.toBe('..');
        expect(s.split('.')).toHaveLength(2);
        expect(s).toMatch(/^[A-Za-z0-9_$%.-]+$/);
      }),
    );
  });

  it('gives distinct tables distinct segments, wherever the dots of their names fall', () => {
    // the same characters split into schema and name at two places: `"a.b".c` and `a."b.c"`, say
    const split = fc
      .tuple(
        name.map((s) => [...s]),
        fc.nat(),
        fc.nat(),
      )
      .filter(([c, i, j]) => c.length >= 2 && i % (c.length - 1) !== j % (c.length - 1));
    fc.assert(
      fc.property(split, ([c, i, j]) => {
        const [a, b] = [1 + (i % (c.length - 1)), 1 + (j % (c.length - 1))];
        const x = { schema: c.slice(0, a).join(''), name: c.slice(a).join('') };
        const y = { schema: c.slice(0, b).join(''), name: c.slice(b).join('') };
        expect(encodeTableSegment(x)).not.toBe(encodeTableSegment(y));
      }),
    );
    fc.assert(
      fc.property(table, table, (x, y) => {
        if (x.schema !== y.schema || x.name !== y.name) expect(encodeTableSegment(x)).not.toBe(encodeTableSegment(y));
      }),
    );
  });

  it('keeps plain names as they are: the keys written before names were encoded', () => {
    fc.assert(
      fc.property(plain, plain, (schema, n) => {
        expect(encodeTableSegment({ schema, name: n })).toBe(`${schema}.${n}`);
      }),
    );
    expect(tablePrefix('nightly', { schema: 'test', name: 'bench_orders_1000000' })).toBe(
      'nightly/test.bench_orders_1000000',
    );
  });

  it('decodes only what it encodes, so each table has one spelling', () => {
    fc.assert(
      // strings of a segment's own characters, so that many decode, and any strings at all
      fc.property(
        fc.oneof(
          fc.string({ unit: fc.constantFrom('a', 'Z', '.', '%', '2', 'E', 'C', '3', 'A', '9') }),
          fc.string({ unit: 'binary' }),
        ),
        (s) => {
          let decoded;
          try {
            decoded = decodeTableSegment(s);
          } catch {
            return;
          }
          expect(encodeTableSegment(decoded)).toBe(s);
        },
      ),
    );
  });

  it('percent-encodes the UTF-8 bytes of every character that is not plain, in uppercase hex', () => {
    expect(encodeTableSegment({ schema: 'public', name: 'a.b' })).toBe('public.a%2Eb');
    expect(encodeTableSegment({ schema: 'public.a', name: 'b' })).toBe('public%2Ea.b');
    expect(encodeTableSegment({ schema: 'public', name: '../../evil' })).toBe('public.%2E%2E%2F%2E%2E%2Fevil');
    expect(encodeTableSegment({ schema: 'Sales Q1', name: '100% "é"' })).toBe('Sales%20Q1.100%25%20%22%C3%A9%22');
    expect(encodeTableSegment({ schema: 'x', name: '😀' })).toBe('x.%F0%9F%98%80');
    expect(encodeTableSegment({ schema: 'my-db', name: 'Order$_2' })).toBe('my-db.Order$_2');
  });

  it('refuses an empty schema or name, and a name that is not valid Unicode', () => {
    expect(() => encodeTableSegment({ schema: '', name: 't' })).toThrow(/empty schema or name/);
    expect(() => encodeTableSegment({ schema: 's', name: '' })).toThrow(/empty schema or name/);
    expect(() => encodeTableSegment({ schema: 's', name: 'a\uD800' })).toThrow(/lone surrogate/);
  });

  it.each([
    ['a.b.c', 'a second unencoded dot'],
    ['ab', 'no dot'],
    ['.b', 'an empty schema'],
    ['a.', 'an empty name'],
    ['a%2e.b', 'lowercase hex'],
    ['%41.b', 'a plain character encoded'],
    ['a%2.b', 'a cut escape'],
    ['%C3.b', 'bytes that are not UTF-8'],
    ['a b.c', 'a character that is neither plain nor escaped'],
  ])('refuses %s (%s) as an input error naming the layout', (segment) => {
    expect(() => decodeTableSegment(segment)).toThrow(/is not a table's folder.*README "Object keys"/);
  });
});
