import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { pgDate, pgTimestamp } from '../../src/arrow/pg-binary.js';
import { NOT_REPRESENTABLE, daysFromCivil, parseDatePart, parseTime, parseTimestamp } from '../../src/arrow/text.js';

/**
 * Property tests for the date and timestamp decoders. Instants are generated as microseconds
 * since the epoch and spelled by a reference formatter built on JS Date's UTC fields (never on
 * the parsers' own arithmetic); the parser must give the instant back exactly.
 */

const b = (s: string) => Buffer.from(s, 'latin1');
const ts = (s: string) => parseTimestamp(b(s), 0, s.length);
const big = (r: number | bigint | typeof NOT_REPRESENTABLE | 'zero') =>
  typeof r === 'number' || typeof r === 'bigint' ? BigInt(r) : r;
const pad = (n: number, w: number) => String(n).padStart(w, '0');

const DAY_MICROS = 86_400_000_000n;
/** 0001-01-01 and 10000-01-01 as microseconds: the four-digit years the fast path reads lie between. */
const YEAR1 = (() => {
  const d = new Date(0);
  d.setUTCFullYear(1, 0, 1);
  return BigInt(d.getTime()) * 1000n;
})();
const YEAR10000 = (() => {
  const d = new Date(0);
  d.setUTCFullYear(10000, 0, 1);
  return BigInt(d.getTime()) * 1000n;
})();

interface Parts {
  year: number;
  month: number;
  day: number;
  h: number;
  mi: number;
  s: number;
  micro: number;
}

/** UTC fields of an instant, from JS Date (milliseconds) plus the microsecond remainder. */
function parts(micros: bigint): Parts {
  const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
  const micro = Number(micros - ms * 1000n);
  const d = new Date(Number(ms));
  return {
    year: d.getUTCFullYear(),
    month: d.getUTCMonth() + 1,
    day: d.getUTCDate(),
    h: d.getUTCHours(),
    mi: d.getUTCMinutes(),
    s: d.getUTCSeconds(),
    micro: d.getUTCMilliseconds() * 1000 + micro,
  };
}

/** PostgreSQL's spelling: the year (BC for year ≤ 0), at least four digits; a fraction without trailing zeros; an optional offset. */
function spell(p: Parts, opts: { sep?: string; frac?: 'trim' | 'six' | 'none'; offset?: string } = {}): string {
  const bc = p.year <= 0;
  const date = `${pad(bc ? 1 - p.year : p.year, 4)}-${pad(p.month, 2)}-${pad(p.day, 2)}`;
  let frac = '';
  if (opts.frac !== 'none' && (p.micro || opts.frac === 'six')) frac = `.${pad(p.micro, 6)}`;
  if (opts.frac !== 'six') frac = frac.replace(/0+$/, '').replace(/\.$/, '');
  return `${date}${opts.sep ?? ' '}${pad(p.h, 2)}:${pad(p.mi, 2)}:${pad(p.s, 2)}${frac}${opts.offset ?? ''}${bc ? ' BC' : ''}`;
}

const digitsArb = (min: number, max: number) =>
  fc.array(fc.integer({ min: 0, max: 9 }), { minLength: min, maxLength: max }).map((d) => d.join(''));
const fourDigitYears = fc.bigInt({ min: YEAR1, max: YEAR10000 - 1n });
const anyYear = fc.bigInt({ min: -4713n * 365n * DAY_MICROS, max: 200_000n * 365n * DAY_MICROS }); // PostgreSQL's range, and 6-digit years
/** An offset in whole minutes within ±15:59, as seconds. */
const offsetSecs = fc.integer({ min: -(15 * 60 + 59), max: 15 * 60 + 59 }).map((m) => m * 60);

function offsetText(secs: number, form: 'hh' | 'hh:mm' | 'hhmm' | 'hh:mm:ss'): string {
  const a = Math.abs(secs);
  const hh = pad(Math.floor(a / 3600), 2);
  const mm = pad(Math.floor((a % 3600) / 60), 2);
  const sign = secs < 0 ? '-' : '+';
  switch (form) {
    case 'hh':
      return `${sign}${hh}`;
    case 'hh:mm':
      return `${sign}${hh}:${mm}`;
    case 'hhmm':
      return `${sign}${hh}${mm}`;
    case 'hh:mm:ss':
      return `${sign}${hh}:${mm}:${pad(a % 60, 2)}`;
  }
}

describe('parseTimestamp properties', () => {
  it('fast path: any instant of a four-digit year, as the wall clock, comes back to the microsecond', () => {
    fc.assert(
      fc.property(
        fourDigitYears,
        fc.constantFrom<'trim' | 'six' | 'none'>('trim', 'six'),
        fc.constantFrom(' ', 'T'),
        (m, frac, sep) => {
          expect(big(ts(spell(parts(m), { frac, sep })))).toBe(m);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('fast path: a wall clock with a ±HH, ±HH:MM or ±HHMM offset gives the UTC instant', () => {
    fc.assert(
      fc.property(fourDigitYears, offsetSecs, fc.constantFrom<'hh:mm' | 'hhmm'>('hh:mm', 'hhmm'), (m, off, form) => {
        const wall = parts(m + BigInt(off) * 1_000_000n);
        if (wall.year < 1 || wall.year > 9999) return;
        expect(big(ts(spell(wall, { offset: offsetText(off, form) })))).toBe(m);
        const hours = off - (off % 3600);
        const wallH = parts(m + BigInt(hours) * 1_000_000n);
        if (wallH.year >= 1 && wallH.year <= 9999)
          expect(big(ts(spell(wallH, { offset: offsetText(hours, 'hh') })))).toBe(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('general path: BC years and years past 9999 come back to the microsecond', () => {
    fc.assert(
      fc.property(anyYear, (m) => {
        expect(big(ts(spell(parts(m))))).toBe(m);
      }),
      { numRuns: 3000 },
    );
  });

  it('the general path agrees with the fast path: an offset with seconds (:00) gives the same instant', () => {
    fc.assert(
      fc.property(fourDigitYears, offsetSecs, (m, off) => {
        const wall = parts(m + BigInt(off) * 1_000_000n);
        if (wall.year < 1 || wall.year > 9999) return;
        const fast = ts(spell(wall, { offset: offsetText(off, 'hh:mm') }));
        const general = ts(spell(wall, { offset: offsetText(off, 'hh:mm:ss') }));
        expect(big(general)).toBe(big(fast));
        expect(typeof general).toBe(typeof fast);
      }),
      { numRuns: 2000 },
    );
  });

  it('an offset with seconds is applied to the second', () => {
    fc.assert(
      fc.property(fourDigitYears, fc.integer({ min: -(15 * 3600 + 3599), max: 15 * 3600 + 3599 }), (m, off) => {
        const wall = parts(m + BigInt(off) * 1_000_000n);
        if (wall.year < 1 || wall.year > 9999) return;
        expect(big(ts(spell(wall, { offset: offsetText(off, 'hh:mm:ss') })))).toBe(m);
      }),
    );
  });

  it('is a number exactly when it fits in 53 bits, else a bigint', () => {
    fc.assert(
      fc.property(anyYear, (m) => {
        const r = ts(spell(parts(m)));
        if (typeof r === 'number') expect(Number.isSafeInteger(r)).toBe(true);
        else expect(typeof r).toBe('bigint');
      }),
    );
  });

  it('reads only its byte range: whatever bytes follow (the next MySQL field) change nothing', () => {
    fc.assert(
      fc.property(
        fourDigitYears,
        fc.uint8Array({ minLength: 1, maxLength: 6 }),
        fc.constantFrom('', '+05', '.5', ':', '-0'),
        (m, junk, lookalike) => {
          const s = spell(parts(m));
          const buf = Buffer.concat([b(s), b(lookalike), junk]);
          expect(big(parseTimestamp(buf, 0, s.length))).toBe(m);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('follows each value in a run, not the day of the value before (the one-day cache)', () => {
    fc.assert(
      fc.property(fc.array(fourDigitYears, { minLength: 2, maxLength: 20 }), (ms) => {
        expect(ms.map((m) => big(ts(spell(parts(m)))))).toEqual(ms);
      }),
    );
  });

  it('keeps the first six fraction digits and drops the rest', () => {
    fc.assert(
      fc.property(fourDigitYears, digitsArb(1, 6), (m, extra) => {
        const p = parts(m);
        expect(big(ts(`${spell({ ...p, micro: 0 }, { frac: 'none' })}.${pad(p.micro, 6)}${extra}`))).toBe(m);
      }),
    );
  });
});

describe('date properties', () => {
  const dayArb = fc.integer({ min: -2_500_000, max: 2_900_000 }); // about 4800 BC to 9900 AD

  it('daysFromCivil agrees with JS Date on every day of the proleptic Gregorian calendar', () => {
    fc.assert(
      fc.property(dayArb, (days) => {
        const d = new Date(days * 86_400_000);
        expect(daysFromCivil(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate())).toBe(days);
      }),
      { numRuns: 3000 },
    );
  });

  it('parseDatePart reads any date back as its day number, four-digit years and BC alike', () => {
    fc.assert(
      fc.property(dayArb, (days) => {
        const p = parts(BigInt(days) * DAY_MICROS);
        const s = spell(p).replace(/ 00:00:00/, '');
        expect(parseDatePart(b(s), 0, s.length)).toMatchObject({ days });
      }),
      { numRuns: 3000 },
    );
  });

  it('a zero month or day is a MySQL zero date', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 9999 }),
        fc.integer({ min: 0, max: 12 }),
        fc.integer({ min: 0, max: 31 }),
        (y, m, d) => {
          fc.pre(m === 0 || d === 0);
          const s = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}`;
          expect(parseDatePart(b(s), 0, s.length)).toBe('zero');
        },
      ),
    );
  });
});

describe('time of day properties', () => {
  it('any time of day comes back as its microseconds', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: DAY_MICROS - 1n }), (m) => {
        const p = parts(m);
        const s = spell(p).slice(11);
        expect(parseTime(b(s), 0, s.length)).toBe(Number(m));
      }),
      { numRuns: 2000 },
    );
  });

  it('a MySQL duration past 24:00:00 is not representable', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 24, max: 838 }),
        fc.integer({ min: 0, max: 59 }),
        fc.integer({ min: 1, max: 59 }),
        (h, mi, s) => {
          const t = `${pad(h, 2)}:${pad(mi, 2)}:${pad(s, 2)}`;
          expect(parseTime(b(t), 0, t.length)).toBe(NOT_REPRESENTABLE);
        },
      ),
    );
  });
});

describe('binary date and timestamp properties', () => {
  const PG_EPOCH_MICROS = 946_684_800_000_000n;

  it('pgTimestamp gives back any instant written as microseconds from 2000-01-01', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(2n ** 63n) + 1n, max: 2n ** 63n - 2n - PG_EPOCH_MICROS }), (m) => {
        const w = Buffer.alloc(8);
        w.writeBigInt64BE(m);
        const r = pgTimestamp(w, 0, 8);
        expect(big(r)).toBe(m + PG_EPOCH_MICROS);
        if (typeof r === 'number') expect(Number.isSafeInteger(r)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('pgTimestamp agrees with parseTimestamp on the text form of the same instant', () => {
    fc.assert(
      fc.property(anyYear, (m) => {
        const w = Buffer.alloc(8);
        w.writeBigInt64BE(m - PG_EPOCH_MICROS);
        expect(big(pgTimestamp(w, 0, 8))).toBe(big(ts(spell(parts(m)))));
      }),
      { numRuns: 2000 },
    );
  });

  it('pgDate gives back any day written as days from 2000-01-01', () => {
    fc.assert(
      fc.property(fc.integer({ min: -0x7fffffff, max: 0x7ffffffe - 10957 }), (d) => {
        const w = Buffer.alloc(4);
        w.writeInt32BE(d);
        expect(pgDate(w, 0, 4)).toBe(d + 10957);
      }),
    );
  });
});
