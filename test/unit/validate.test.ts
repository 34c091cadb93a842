import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  byteSize,
  byteSizeRequirement,
  durationSeconds,
  oneOf,
  parseByteSize,
  parseWholeNumber,
  wholeNumber,
  wholeNumberRequirement,
} from '../../src/config/validate.js';
import { isTablevaultError } from '../../src/errors.js';

/** The error a call throws (it must throw one). */
function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an error');
}

describe('wholeNumber', () => {
  it('accepts every whole number within the limits', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.nat(1000),
        fc.integer({ min: -1000, max: 2000 }),
        (min, span, pick) => {
          const max = min + span;
          const v = Math.min(max, Math.max(min, pick));
          expect(wholeNumber('--n', v, { min, max })).toBe(v);
        },
      ),
    );
  });

  it('rejects every number that is not whole', () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: false }).filter((v) => !Number.isInteger(v)),
        (v) => {
          expect(() => wholeNumber('--n', v, { min: -Infinity })).toThrow(/--n must be a whole number/);
        },
      ),
    );
  });

  it('rejects NaN', () => {
    expect(() => wholeNumber('--n', Number.NaN)).toThrow('--n must be a whole number of at least 1; got NaN');
  });

  it('rejects every whole number outside the limits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 100 }), fc.integer({ min: 1, max: 1000 }), (max, over) => {
        expect(() => wholeNumber('--n', max + over, { max })).toThrow(
          `--n must be a whole number from 1 to ${max}; got ${max + over}`,
        );
        expect(() => wholeNumber('--n', 1 - over, { max })).toThrow(
          `--n must be a whole number from 1 to ${max}; got ${1 - over}`,
        );
      }),
    );
  });

  it('defaults the minimum to 1 and names it when there is no maximum', () => {
    expect(() => wholeNumber('--batch-rows', 0)).toThrow('--batch-rows must be a whole number of at least 1; got 0');
  });

  it('says what a special value means', () => {
    expect(() => wholeNumber('--gc-every', -1, { min: 0, note: '0: never' })).toThrow(
      '--gc-every must be a whole number of at least 0 (0: never); got -1',
    );
  });

  it('takes the default when the value is undefined', () => {
    expect(wholeNumber('--n', undefined, {}, 7)).toBe(7);
  });

  it('checks the default as well', () => {
    expect(() => wholeNumber('--n', undefined, { max: 5 }, 7)).toThrow(
      '--n must be a whole number from 1 to 5; got undefined',
    );
  });

  it('throws an input error (exit code 2, code OPTION)', () => {
    const e = thrown(() => wholeNumber('--n', 0));
    expect(isTablevaultError(e) && e.exitCode === 2 && e.code === 'OPTION').toBe(true);
  });

  it('has no requirement for a value within the limits', () => {
    expect(wholeNumberRequirement(3, { max: 3 })).toBeUndefined();
  });

  it('requires a number, not a numeric string', () => {
    expect(wholeNumberRequirement('3')).toBe('a whole number of at least 1');
  });
});

describe('oneOf', () => {
  const modes = ['insert', 'upsert', 'replace'] as const;

  it('accepts each allowed value', () => {
    for (const m of modes) expect(oneOf('--mode', m, modes)).toBe(m);
  });

  it('rejects any other string, naming the flag and every allowed value', () => {
    fc.assert(
      fc.property(
        fc.string().filter((s) => !(modes as readonly string[]).includes(s)),
        (s) => {
          expect(() => oneOf('--mode', s as (typeof modes)[number], modes)).toThrow(
            `--mode must be insert, upsert or replace; got ${s}`,
          );
        },
      ),
    );
  });

  it('says "a or b" for two values', () => {
    expect(() => oneOf('--compare', 'x' as 'size', ['size', 'checksum'])).toThrow(
      '--compare must be size or checksum; got x',
    );
  });

  it('takes the default when the value is undefined', () => {
    expect(oneOf('--mode', undefined, modes, 'insert')).toBe('insert');
  });
});

describe('byteSize', () => {
  const MiB = 1024 * 1024;

  it('accepts every whole number of bytes within the limits', () => {
    fc.assert(
      fc.property(fc.integer({ min: 5 * MiB, max: 5 * 1024 * MiB }), (v) => {
        expect(byteSize('--part-size', v, { min: 5 * MiB, max: 5 * 1024 * MiB })).toBe(v);
      }),
    );
  });

  it('names the minimum in MiB and bytes', () => {
    expect(() => byteSize('--part-size', MiB, { min: 5 * MiB })).toThrow(
      '--part-size must be at least 5 MiB (5242880 bytes); got 1048576',
    );
  });

  it('names the maximum in GiB and bytes', () => {
    expect(() => byteSize('--copy-object-max', 6 * 1024 * MiB, { min: 5 * MiB, max: 5 * 1024 * MiB })).toThrow(
      '--copy-object-max must be at least 5 MiB (5242880 bytes) and at most 5 GiB (5368709120 bytes); got 6442450944',
    );
  });

  it('rejects a fraction of a byte', () => {
    expect(byteSizeRequirement(1.5)).toBe('at least 1 byte');
  });
});

describe('parseByteSize', () => {
  it('reads binary units, case-insensitively', () => {
    expect([parseByteSize('16MiB'), parseByteSize('8m'), parseByteSize('1 GB'), parseByteSize('2k')]).toEqual([
      16 * 1024 ** 2,
      8 * 1024 ** 2,
      1024 ** 3,
      2048,
    ]);
  });

  it('reads a plain number as bytes', () => {
    fc.assert(
      fc.property(fc.nat(), (n) => {
        expect(parseByteSize(String(n))).toBe(n);
      }),
    );
  });

  it('refuses an unknown unit', () => {
    expect(parseByteSize('5 parsecs')).toBeUndefined();
  });
});

describe('parseWholeNumber', () => {
  it('accepts underscores and exponents', () => {
    expect([parseWholeNumber('1_000_000'), parseWholeNumber('1e6')]).toEqual([1_000_000, 1_000_000]);
  });
});

describe('durationSeconds', () => {
  it('reads each unit', () => {
    expect(['500ms', '90s', '15m', '2h', '1d'].map(durationSeconds)).toEqual([0.5, 90, 900, 7200, 86400]);
  });

  it('refuses a duration without a unit', () => {
    expect(durationSeconds('15')).toBeUndefined();
  });
});
