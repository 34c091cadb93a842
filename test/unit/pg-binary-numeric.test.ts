import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  writeNumericDecimal128,
  writeNumericScaled,
  writeNumericText,
  DECIMAL128_NUMERIC_SIZE,
} from '../../src/source/postgres/binary-numeric.js';

/**
 * The NUMERIC writer of binary COPY against a reference written here from numeric_send's
 * definition: base-10000 digits aligned on the decimal point, leading and trailing zero digits
 * dropped, weight the power of 10000 of the first, sign 0x4000 when negative and not zero,
 * dscale the fraction digits of the text.
 */

interface Decimal {
  neg: boolean;
  int: string;
  frac: string;
}

const digits = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));
const decimal: fc.Arbitrary<Decimal> = fc.record({ neg: fc.boolean(), int: digits(1, 45), frac: digits(0, 45) });
const text = (d: Decimal) => `${d.neg ? '-' : ''}${d.int}${d.frac ? `.${d.frac}` : ''}`;

function reference(d: Decimal): Buffer {
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
  const buf = Buffer.alloc(12 + 2 * groups.length);
  buf.writeInt32BE(8 + 2 * groups.length, 0);
  buf.writeInt16BE(groups.length, 4);
  buf.writeInt16BE(zero ? 0 : weight, 6);
  buf.writeUInt16BE(d.neg && !zero ? 0x4000 : 0, 8);
  buf.writeInt16BE(d.frac.length, 10);
  groups.forEach((g, i) => buf.writeUInt16BE(g, 12 + 2 * i));
  return buf;
}

function written(write: (view: DataView, at: number) => number, size = 400): Buffer {
  const buf = Buffer.alloc(size + 3);
  // written at an odd position: nothing may assume alignment
  const end = write(new DataView(buf.buffer, buf.byteOffset, buf.length), 3);
  return buf.subarray(3, end);
}

/** The unscaled integer as Arrow's four little-endian 32-bit words of two's complement. */
function words(v: bigint): Uint32Array {
  const u = BigInt.asUintN(128, v);
  return Uint32Array.from([0n, 1n, 2n, 3n], (k) => Number((u >> (32n * k)) & 0xffffffffn));
}

/** A decimal of the unscaled `v` with exactly `scale` fraction digits. */
function scaled(v: bigint, scale: number): Decimal {
  const abs = (v < 0n ? -v : v).toString().padStart(scale + 1, '0');
  return { neg: v < 0n, int: abs.slice(0, abs.length - scale), frac: scale ? abs.slice(-scale) : '' };
}

const special = (sign: number) => {
  const buf = Buffer.alloc(12);
  buf.writeInt32BE(8, 0);
  buf.writeUInt16BE(sign, 8);
  return buf;
};

describe('NUMERIC for binary COPY', () => {
  it('writes decimal text as numeric_send would send its value', () => {
    fc.assert(
      fc.property(decimal, (d) => {
        const s = Buffer.from(text(d), 'latin1');
        expect(written((view, at) => writeNumericText(view, at, s, 0, s.length))).toEqual(reference(d));
      }),
      { numRuns: 3000 },
    );
  });

  it('writes an unscaled integer at a scale as the decimal text with that many fraction digits', () => {
    const unscaled = fc.oneof(
      fc.bigInt({ min: -(2n ** 53n), max: 2n ** 53n }),
      fc.bigInt({ min: -(10n ** 38n) + 1n, max: 10n ** 38n - 1n }),
    );
    fc.assert(
      fc.property(unscaled, fc.integer({ min: 0, max: 38 }), (v, scale) => {
        const small = v >= -(2n ** 53n) + 1n && v <= 2n ** 53n - 1n;
        const expected = reference(scaled(v, scale));
        if (small) expect(written((view, at) => writeNumericScaled(view, at, Number(v), scale))).toEqual(expected);
        expect(written((view, at) => writeNumericScaled(view, at, v, scale))).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('writes a magnitude next to a multiple of 10^8 exactly, however its quotient by 10^8 rounds', () => {
    // the fast path cuts at 10^8 by a floating division: k·10^8 ± a few is where a rounded quotient is off by one
    const near = fc.record({
      k: fc.bigInt({ min: 0n, max: (2n ** 53n - 1n) / 10n ** 8n }),
      d: fc.integer({ min: -3, max: 3 }),
      neg: fc.boolean(),
    });
    fc.assert(
      fc.property(near, fc.integer({ min: 0, max: 8 }), ({ k, d, neg }, scale) => {
        const m = k * 10n ** 8n + BigInt(d);
        if (m < 0n || m > 2n ** 53n - 1n) return;
        const v = neg ? -m : m;
        expect(written((view, at) => writeNumericScaled(view, at, Number(v), scale))).toEqual(
          reference(scaled(v, scale)),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it("writes Arrow's 128-bit decimals, either side of the 53-bit fast path, as their unscaled value", () => {
    const edges = fc.constantFrom(
      0n,
      -1n,
      2n ** 53n - 1n,
      2n ** 53n,
      -(2n ** 53n) + 1n,
      -(2n ** 53n),
      2n ** 64n,
      -(2n ** 64n),
      2n ** 127n - 1n,
      -(2n ** 127n),
    );
    const v = fc.oneof(
      edges,
      fc.bigInt({ min: -(2n ** 127n), max: 2n ** 127n - 1n }),
      fc.bigInt({ min: -(2n ** 60n), max: 2n ** 60n }),
    );
    fc.assert(
      fc.property(v, fc.integer({ min: 0, max: 38 }), (x, scale) => {
        const w = words(x);
        expect(written((view, at) => writeNumericDecimal128(view, at, w, 0, scale), DECIMAL128_NUMERIC_SIZE)).toEqual(
          reference(scaled(x, scale)),
        );
      }),
      { numRuns: 3000 },
    );
  });

  it('writes NaN and the infinities as the special signs, with no digits', () => {
    const w = (s: string) => written((view, at) => writeNumericText(view, at, Buffer.from(s), 0, s.length));
    expect(w('NaN')).toEqual(special(0xc000));
    expect(w('Infinity')).toEqual(special(0xd000));
    expect(w('-Infinity')).toEqual(special(0xf000));
  });

  it('writes zero of any sign as no digits, weight 0, positive, keeping the scale', () => {
    const s = Buffer.from('-0.000');
    expect(written((view, at) => writeNumericText(view, at, s, 0, s.length))).toEqual(
      reference({ neg: false, int: '0', frac: '000' }),
    );
  });

  it('refuses text that is not a plain decimal (an exponent, two points), as the column could not have sent it', () => {
    for (const s of ['1e5', '1.2.3', '', '-', 'abc', '.']) {
      const b = Buffer.from(s);
      expect(() => written((view, at) => writeNumericText(view, at, b, 0, b.length)), s).toThrow(
        /invalid input syntax for type numeric/,
      );
    }
  });
});
