import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pgNumeric } from '../../src/arrow/pg-binary.js';
import { NOT_REPRESENTABLE, parseDecimal } from '../../src/arrow/text.js';

/**
 * Property tests for the two DECIMAL decoders: the text form (parseDecimal, both engines) and
 * PostgreSQL's binary NUMERIC (pgNumeric). Values are generated as digit strings, encoded here
 * independently of the decoders, and must come back as the exact unscaled integer.
 */

interface Decimal {
  neg: boolean;
  int: string;
  frac: string;
}

const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));
const decimal: fc.Arbitrary<Decimal> = fc.record({ neg: fc.boolean(), int: digits(1, 40), frac: digits(0, 20) });
const scaleArb = fc.integer({ min: 0, max: 24 });

const text = (d: Decimal) => `${d.neg ? '-' : ''}${d.int}${d.frac ? `.${d.frac}` : ''}`;
const b = (s: string) => Buffer.from(s, 'latin1');
const dec = (s: string, scale: number) => parseDecimal(b(s), 0, s.length, scale);

/** The unscaled integer at `scale`, or NOT_REPRESENTABLE when a nonzero digit lies beyond it: the reference. */
function expected(d: Decimal, scale: number): bigint | typeof NOT_REPRESENTABLE {
  const frac = d.frac.replace(/0+$/, '');
  if (frac.length > scale) return NOT_REPRESENTABLE;
  const v = BigInt(d.int + frac.padEnd(scale, '0'));
  return d.neg ? -v : v;
}

/** A decoder's result, compared by value (-0 and 0 alike; a number and a bigint alike). */
function value(r: number | bigint | typeof NOT_REPRESENTABLE): bigint | typeof NOT_REPRESENTABLE {
  if (r === NOT_REPRESENTABLE) return r;
  if (typeof r === 'number') {
    expect(Number.isSafeInteger(r), `${r} is an exact integer`).toBe(true);
    return BigInt(r);
  }
  return r;
}

/**
 * PostgreSQL's binary NUMERIC (numeric_send) for a decimal: base-10000 digits aligned on the
 * decimal point, leading and trailing zero digits dropped, weight = the power of 10000 of the
 * first digit, sign 0x4000 when negative, dscale = the fraction digits shown.
 */
function numericWire(d: Decimal): Buffer {
  const intPad = d.int.padStart(Math.ceil(d.int.length / 4) * 4, '0');
  const fracPad = d.frac.padEnd(Math.ceil(d.frac.length / 4) * 4, '0');
  const groups: number[] = [];
  for (let i = 0; i < intPad.length; i += 4) groups.push(Number(intPad.slice(i, i + 4)));
  let weight = groups.length - 1;
  for (let i = 0; i < fracPad.length; i += 4) groups.push(Number(fracPad.slice(i, i + 4)));
  while (groups.length && groups[0] === 0) {
    groups.shift();
    weight--;
  }
  while (groups.length && groups.at(-1) === 0) groups.pop();
  const zero = groups.length === 0;
  const buf = Buffer.alloc(8 + 2 * groups.length);
  buf.writeInt16BE(groups.length, 0);
  buf.writeInt16BE(zero ? 0 : weight, 2);
  buf.writeUInt16BE(d.neg && !zero ? 0x4000 : 0, 4);
  buf.writeInt16BE(d.frac.length, 6);
  groups.forEach((g, i) => buf.writeUInt16BE(g, 8 + 2 * i));
  return buf;
}

const special = (sign: number) => {
  const buf = Buffer.alloc(8);
  buf.writeUInt16BE(sign, 4);
  return buf;
};

describe('parseDecimal (text DECIMAL) properties', () => {
  it('gives the exact unscaled integer of any decimal at any scale, or NOT_REPRESENTABLE when digits lie beyond the scale', () => {
    fc.assert(
      fc.property(decimal, scaleArb, (d, scale) => {
        expect(value(dec(text(d), scale))).toBe(expected(d, scale));
      }),
      { numRuns: 2000 },
    );
  });

  it('round-trips an unscaled integer formatted with exactly `scale` fraction digits', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 38n), max: 10n ** 38n }), scaleArb, (v, scale) => {
        const abs = (v < 0n ? -v : v).toString().padStart(scale + 1, '0');
        const s = `${v < 0n ? '-' : ''}${scale ? `${abs.slice(0, -scale)}.${abs.slice(-scale)}` : abs}`;
        expect(value(dec(s, scale))).toBe(v);
      }),
      { numRuns: 2000 },
    );
  });

  it('is unchanged by leading zeros, a leading plus sign, or trailing fraction zeros', () => {
    fc.assert(
      fc.property(decimal, scaleArb, fc.integer({ min: 1, max: 5 }), (d, scale, n) => {
        const base = value(dec(text(d), scale));
        const body = `${d.int}${d.frac ? `.${d.frac}` : '.'}`;
        expect(value(dec(`${d.neg ? '-' : ''}${'0'.repeat(n)}${text({ ...d, neg: false })}`, scale))).toBe(base);
        expect(value(dec(`${d.neg ? '-' : ''}${body}${'0'.repeat(n)}`, scale))).toBe(base);
        if (!d.neg) expect(value(dec(`+${text(d)}`, scale))).toBe(base);
      }),
      { numRuns: 1000 },
    );
  });

  it('negates: -x decodes to minus the value of x', () => {
    fc.assert(
      fc.property(decimal, scaleArb, (d, scale) => {
        const pos = value(dec(text({ ...d, neg: false }), scale));
        const neg = value(dec(text({ ...d, neg: true }), scale));
        if (pos === NOT_REPRESENTABLE) expect(neg).toBe(NOT_REPRESENTABLE);
        else expect(neg).toBe(-pos);
      }),
    );
  });

  it('reads only its byte range: the bytes around the value change nothing', () => {
    fc.assert(
      fc.property(
        decimal,
        scaleArb,
        fc.uint8Array({ maxLength: 4 }),
        fc.uint8Array({ maxLength: 4 }),
        (d, scale, before, after) => {
          const s = text(d);
          const buf = Buffer.concat([before, b(s), after]);
          expect(value(parseDecimal(buf, before.length, before.length + s.length, scale))).toBe(expected(d, scale));
        },
      ),
    );
  });

  it('refuses NaN and the infinities of both signs', () => {
    for (const s of ['NaN', 'Infinity', '-Infinity', 'inf', '-inf', 'nan']) expect(dec(s, 2)).toBe(NOT_REPRESENTABLE);
  });
});

describe('pgNumeric (binary NUMERIC) properties', () => {
  it('gives the exact unscaled integer of any decimal at any scale, from its wire form', () => {
    fc.assert(
      fc.property(decimal, scaleArb, (d, scale) => {
        const w = numericWire(d);
        expect(value(pgNumeric(w, 0, w.length, scale))).toBe(expected(d, scale));
      }),
      { numRuns: 2000 },
    );
  });

  it('agrees with parseDecimal on the text form of the same value', () => {
    fc.assert(
      fc.property(decimal, scaleArb, (d, scale) => {
        const w = numericWire(d);
        expect(value(pgNumeric(w, 0, w.length, scale))).toBe(value(dec(text(d), scale)));
      }),
      { numRuns: 2000 },
    );
  });

  it('reads the value at an offset in a larger buffer (a socket chunk) exactly', () => {
    fc.assert(
      fc.property(decimal, scaleArb, fc.uint8Array({ minLength: 1, maxLength: 8 }), (d, scale, pad) => {
        const w = numericWire(d);
        const buf = Buffer.concat([pad, w, pad]);
        expect(value(pgNumeric(buf, pad.length, pad.length + w.length, scale))).toBe(expected(d, scale));
      }),
    );
  });

  it('is unchanged by trailing zero base-10000 digits that PostgreSQL may keep', () => {
    fc.assert(
      fc.property(decimal, scaleArb, fc.integer({ min: 1, max: 3 }), (d, scale, extra) => {
        const w = numericWire(d);
        const n = w.readInt16BE(0);
        if (n === 0) return;
        const longer = Buffer.concat([w, Buffer.alloc(2 * extra)]);
        longer.writeInt16BE(n + extra, 0);
        expect(value(pgNumeric(longer, 0, longer.length, scale))).toBe(expected(d, scale));
      }),
    );
  });

  it('refuses NaN, Infinity and -Infinity', () => {
    for (const sign of [0xc000, 0xd000, 0xf000]) expect(pgNumeric(special(sign), 0, 8, 2)).toBe(NOT_REPRESENTABLE);
  });

  it('refuses a value whose length does not match its digit count', () => {
    const w = numericWire({ neg: false, int: '12345', frac: '' });
    expect(() => pgNumeric(w, 0, w.length - 1, 0)).toThrow(/a binary numeric is 12 bytes, got 11/);
  });

  it('examples: 12.34, -5, 0.0001, 10000, zero', () => {
    const n = (d: Decimal, scale: number) => {
      const w = numericWire(d);
      return pgNumeric(w, 0, w.length, scale);
    };
    expect(n({ neg: false, int: '12', frac: '34' }, 2)).toBe(1234);
    expect(n({ neg: true, int: '5', frac: '' }, 0)).toBe(-5);
    expect(n({ neg: false, int: '0', frac: '0001' }, 4)).toBe(1);
    expect(n({ neg: false, int: '10000', frac: '' }, 1)).toBe(100000);
    expect(n({ neg: false, int: '0', frac: '' }, 3)).toBe(0);
    expect(n({ neg: false, int: '0', frac: '0001' }, 3)).toBe(NOT_REPRESENTABLE);
  });
});
