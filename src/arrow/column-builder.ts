import type { DataType, Data } from 'apache-arrow';
import type { ColumnSpec } from '../source/columns.js';
import { type NOT_REPRESENTABLE, latin1 } from './text.js';

/**
 * One builder per column: it takes each value as the bytes of the engine's text format and
 * appends it to typed arrays (no per-value objects), then hands the batch to Arrow as Data.
 * Values a type cannot hold (MySQL zero dates, infinities, NaN in a DECIMAL) become NULL and
 * are counted, never silently changed into something else.
 */
export interface ColumnBuilder {
  readonly spec: ColumnSpec;
  readonly type: DataType;
  readonly length: number;
  append(buf: Buffer, start: number, end: number): void;
  appendNull(): void;
  /** The values appended since the last flush, as Arrow Data; the builder starts empty again. */
  flush(): Data;
  readonly counters: ValueCounters;
}

export interface ValueCounters {
  /** MySQL zero dates (0000-00-00, or a zero month/day) written as NULL. */
  zeroDates: number;
  /** Other values the Parquet type cannot hold (infinity dates, NaN decimals, TIME beyond 24h) written as NULL. */
  notRepresentable: number;
}

/** The validity bitmap of a builder's values, grown with them. */
export class Validity {
  bits: Uint8Array;
  nullCount = 0;
  constructor(cap: number) {
    this.bits = new Uint8Array((cap + 7) >> 3);
  }
  grow(cap: number): void {
    const need = (cap + 7) >> 3;
    if (need <= this.bits.length) return;
    const next = new Uint8Array(Math.max(need, this.bits.length * 2));
    next.set(this.bits);
    this.bits = next;
  }
  set(i: number, valid: boolean): void {
    if (valid) this.bits[i >> 3]! |= 1 << (i & 7);
    else this.nullCount++;
  }
  take(length: number): { nullCount: number; nullBitmap: Uint8Array | undefined } {
    const out = {
      nullCount: this.nullCount,
      nullBitmap: this.nullCount ? this.bits.slice(0, (length + 7) >> 3) : undefined,
    };
    this.bits.fill(0, 0, (length + 7) >> 3);
    this.nullCount = 0;
    return out;
  }
}

export type Ctor<T> = { new (n: number): T };
export type Fixed =
  | Int8Array
  | Int16Array
  | Int32Array
  | Uint8Array
  | Uint16Array
  | Uint32Array
  | Float32Array
  | Float64Array
  | BigInt64Array
  | BigUint64Array;

/** Why a value became NULL: a MySQL zero date, or a value the type cannot hold. */
export type NullReason = 'zero' | typeof NOT_REPRESENTABLE;

/** Growth, NULLs and counters shared by every builder; subclasses hold the values. */
export abstract class BaseBuilder implements ColumnBuilder {
  length = 0;
  cap: number;
  readonly validity: Validity;
  private readonly ownCounters: ValueCounters = { zeroDates: 0, notRepresentable: 0 };
  get counters(): ValueCounters {
    return this.ownCounters;
  }
  constructor(
    readonly spec: ColumnSpec,
    readonly type: DataType,
    capacity: number,
  ) {
    this.cap = Math.max(16, capacity);
    this.validity = new Validity(this.cap);
  }
  protected ensure(): void {
    if (this.length < this.cap) return;
    this.cap *= 2;
    this.validity.grow(this.cap);
    this.growValues(this.cap);
  }
  protected abstract growValues(cap: number): void;
  abstract append(buf: Buffer, start: number, end: number): void;
  abstract flush(): Data;
  appendNull(): void {
    this.ensure();
    this.validity.set(this.length, false);
    this.writeNull(this.length);
    this.length++;
  }
  protected writeNull(_i: number): void {}
  protected nullFor(reason: NullReason): void {
    if (reason === 'zero') this.ownCounters.zeroDates++;
    else this.ownCounters.notRepresentable++;
    this.appendNull();
  }
  protected valueError(buf: Buffer, start: number, end: number, cause: unknown): Error {
    const shown = latin1(buf, start, Math.min(end, start + 60));
    return new Error(
      `column "${this.spec.name}" (${this.spec.dbType}): cannot read value "${shown}": ${cause instanceof Error ? cause.message : String(cause)}`,
    );
  }
}
