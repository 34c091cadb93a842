import {
  NOT_REPRESENTABLE,
  latin1,
  parseBigInt,
  parseDatePart,
  parseDecimal,
  parseSmallInt,
  parseTime,
  parseTimestamp,
} from './text.js';
import { setInt64, writeDecimal, type FixedBuilder, type Writer } from './fixed-builder.js';

/** The writers of FixedBuilder for values in the engines' text forms, one per column kind. */

export function int64Writer(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const small = parseSmallInt(buf, s, e);
  setInt64(b, i, small ?? parseBigInt(buf, s, e));
}

export function intWriter(min: number, max: number): Writer {
  return (b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void => {
    const v = parseSmallInt(buf, s, e);
    if (v === undefined || v < min || v > max) throw new RangeError(`not an integer in [${min}, ${max}]`);
    (b.values as Int32Array)[i] = v;
  };
}

export function floatWriter(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const text = latin1(buf, s, e);
  const v = Number(text);
  if (Number.isNaN(v) && !/^[+-]?nan$/i.test(text)) throw new SyntaxError('not a number');
  (b.values as Float64Array)[i] = v;
}

export function dateWriter(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const d = parseDatePart(buf, s, e);
  if (d === 'zero' || d === NOT_REPRESENTABLE) {
    b.nullInstead(d);
    return;
  }
  (b.values as Int32Array)[i] = d.days;
}

export function timeWriter(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const t = parseTime(buf, s, e);
  if (t === NOT_REPRESENTABLE) {
    b.nullInstead(t);
    return;
  }
  setInt64(b, i, t);
}

export function timestampWriter(b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void {
  const t = parseTimestamp(buf, s, e);
  if (t === 'zero' || t === NOT_REPRESENTABLE) {
    b.nullInstead(t);
    return;
  }
  setInt64(b, i, t);
}

export function decimalWriter(scale: number): Writer {
  return (b: FixedBuilder, i: number, buf: Buffer, s: number, e: number): void => {
    writeDecimal(b, i, parseDecimal(buf, s, e, scale));
  };
}
