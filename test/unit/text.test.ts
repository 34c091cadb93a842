import { describe, expect, it } from 'vitest';
import {
  NOT_REPRESENTABLE,
  daysFromCivil,
  parseDatePart,
  parseDecimal,
  parseTime,
  parseTimestamp,
} from '../../src/arrow/text.js';

const b = (s: string) => Buffer.from(s, 'latin1');
const ts = (s: string) => parseTimestamp(b(s), 0, s.length);
const dec = (s: string, scale: number) => parseDecimal(b(s), 0, s.length, scale);
const micros = (iso: string) => BigInt(Date.parse(iso)) * 1000n;

describe('text parsers', () => {
  it('days from civil dates, including before 1970 and year 1', () => {
    expect(daysFromCivil(1970, 1, 1)).toBe(0);
    expect(daysFromCivil(1969, 12, 31)).toBe(-1);
    expect(daysFromCivil(2000, 2, 29)).toBe(Date.UTC(2000, 1, 29) / 86400000);
    expect(daysFromCivil(1, 1, 1)).toBe(-719162);
  });

  it('dates: BC, infinity, MySQL zero dates', () => {
    expect(parseDatePart(b('0001-01-01 BC'), 0, 13)).toMatchObject({ days: daysFromCivil(0, 1, 1) });
    expect(parseDatePart(b('infinity'), 0, 8)).toBe(NOT_REPRESENTABLE);
    expect(parseDatePart(b('-infinity'), 0, 9)).toBe(NOT_REPRESENTABLE);
    expect(parseDatePart(b('0000-00-00'), 0, 10)).toBe('zero');
    expect(parseDatePart(b('2020-00-15'), 0, 10)).toBe('zero');
  });

  it('timestamps at microsecond precision, with and without offsets', () => {
    expect(ts('1970-01-01 00:00:00')).toBe(0);
    expect(ts('1969-12-31 23:59:59.999999')).toBe(-1);
    expect(ts('2020-01-01 12:00:00.5+00')).toBe(Number(micros('2020-01-01T12:00:00.5Z')));
    expect(ts('2020-01-01 12:00:00+05:30')).toBe(Number(micros('2020-01-01T06:30:00Z')));
    expect(ts('1901-12-13 20:45:52.123456+02:30')).toBe(Number(micros('1901-12-13T18:15:52.123Z')) + 456);
    // beyond 2^53 microseconds the value is a bigint, exact
    expect(ts('9999-12-31 23:59:59.999999')).toBe(micros('9999-12-31T23:59:59.999Z') + 999n);
    expect(ts('0001-01-01 00:00:00')).toBe(micros('0001-01-01T00:00:00Z'));
    expect(ts('0000-00-00 00:00:00')).toBe('zero');
  });

  it('the fixed-width fast path agrees with the general parser on every shape, and never reads past the value', () => {
    const general = (s: string) => ts(`${s} `.trimEnd()); // same input; compared with spelled-out instants below
    expect(ts('1969-12-31 23:59:59')).toBe(-1_000_000);
    expect(parseDatePart(b('1969-12-31'), 0, 10)).toMatchObject({ days: -1 });
    expect(parseDatePart(b('2024-02-29'), 0, 10)).toMatchObject({ days: daysFromCivil(2024, 2, 29) });
    expect(ts('2020-01-01T12:00:00Z'.slice(0, 19))).toBe(Number(micros('2020-01-01T12:00:00Z')));
    expect(ts('2020-01-01 12:00:00+0530')).toBe(Number(micros('2020-01-01T06:30:00Z')));
    expect(ts('2020-01-01 12:00:00-08')).toBe(Number(micros('2020-01-01T20:00:00Z')));
    expect(ts('2020-01-01 12:00:00.1')).toBe(Number(micros('2020-01-01T12:00:00.1Z')));
    // shapes the fast path leaves to the general parser
    expect(ts('2020-01-01 12:00:00+05:30:15')).toBe(Number(micros('2020-01-01T06:29:45Z')));
    expect(ts('0044-03-15 12:00:00 BC')).toBe(micros('-000043-03-15T12:00:00Z'));
    expect(ts('12020-01-01 00:00:00')).toBe(micros('+012020-01-01T00:00:00Z'));
    expect(general('2020-01-01 00:00:00')).toBe(Number(micros('2020-01-01T00:00:00Z')));
    // a value followed by bytes that look like an offset (MySQL: the next field's length byte) is read to its end only
    const packed = b('2020-01-01 00:00:00+05');
    expect(parseTimestamp(packed, 0, 19)).toBe(Number(micros('2020-01-01T00:00:00Z')));
    const cut = b('2020-01-01 00:00:00.5+');
    expect(parseTimestamp(cut, 0, 21)).toBe(Number(micros('2020-01-01T00:00:00.5Z')));
    // the general parser too (a five-digit year): a '.' just past the end is not its fraction
    expect(parseTimestamp(b('12020-01-01 00:00:00.+05'), 0, 20)).toBe(micros('+012020-01-01T00:00:00Z'));
    // the one-day cache follows the value, not the previous one
    expect(ts('2020-01-02 00:00:00')).toBe(Number(micros('2020-01-02T00:00:00Z')));
    expect(ts('2020-01-01 00:00:00')).toBe(Number(micros('2020-01-01T00:00:00Z')));
  });

  it('times of day; MySQL durations outside a day are not representable', () => {
    expect(parseTime(b('23:59:59.999999'), 0, 15)).toBe(86_399_999_999);
    expect(parseTime(b('24:00:00'), 0, 8)).toBe(86_400_000_000);
    expect(parseTime(b('-01:00:00'), 0, 9)).toBe(NOT_REPRESENTABLE);
    expect(parseTime(b('838:59:59'), 0, 9)).toBe(NOT_REPRESENTABLE);
  });

  it('decimals become exact unscaled integers', () => {
    expect(dec('-12.5', 2)).toBe(-1250);
    expect(dec('0.01', 2)).toBe(1);
    expect(dec('123', 3)).toBe(123000);
    expect(dec('9999999999999999999999999999.9999999999', 10)).toBe(99999999999999999999999999999999999999n);
    expect(dec('-0.0000000001', 10)).toBe(-1);
    expect(dec('1.500', 1)).toBe(15); // trailing zeros beyond the scale are harmless
    expect(dec('1.55', 1)).toBe(NOT_REPRESENTABLE);
    expect(dec('NaN', 2)).toBe(NOT_REPRESENTABLE);
  });
});
