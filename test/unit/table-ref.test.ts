import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseTableRef, quotedName } from '../../src/source/columns.js';

/** Names rich in what quoting must survive: both quote characters, dots, spaces, and any code point. */
const nameText = fc.string({
  minLength: 1,
  unit: fc.oneof(
    fc.constantFrom('"', '`', '.', ' ', '%', '😀'),
    fc.string({ minLength: 1, maxLength: 1, unit: 'binary' }),
  ),
});

describe('parseTableRef', () => {
  it('splits schema.table on the unquoted dot', () => {
    expect(parseTableRef('shop."a.b"')).toEqual({ schema: 'shop', name: 'a.b' });
  });

  it('reads a backtick inside a double-quoted name as part of the name', () => {
    expect(parseTableRef('"tv"."back`tick"')).toEqual({ schema: 'tv', name: 'back`tick' });
  });

  it('reads a double quote inside a backtick-quoted name as part of the name', () => {
    expect(parseTableRef('`tv`.`quo"te`')).toEqual({ schema: 'tv', name: 'quo"te' });
  });

  it('reads back every table quotedName writes, whatever its names hold', () => {
    fc.assert(
      fc.property(nameText, nameText, (schema, name) => {
        expect(parseTableRef(quotedName({ schema, name }))).toEqual({ schema, name });
      }),
    );
  });
});
