import { inputError } from '../errors.js';

/**
 * One validator per kind of option, used by the library's entry points, the CLI's flag parsers
 * and the strategy file alike, so a limit is checked (and worded) the same way everywhere. Each
 * kind has a `…Requirement` (the phrase a message is built from, or undefined when the value is
 * fine) and a checker that throws an input error (exit 2) naming the option and the limit.
 */

export interface WholeNumberLimits {
  /** Default 1. */
  min?: number;
  max?: number;
  /** Said after the limit, in brackets: what a special value means (`0: never`). */
  note?: string;
}

/** What a whole-number option must be, or undefined when `value` is one within the limits. */
export function wholeNumberRequirement(value: unknown, limits: WholeNumberLimits = {}): string | undefined {
  const { min = 1, max, note } = limits;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && (max === undefined || value <= max))
    return undefined;
  const range = max === undefined ? `of at least ${min}` : `from ${min} to ${max}`;
  return `a whole number ${range}${note ? ` (${note})` : ''}`;
}

/**
 * `value` (or `dflt` when it is undefined) if it is a whole number within the limits.
 *
 * ```ts
 * const batchRows = wholeNumber('--batch-rows', opts.batchRows, { max: 10_000_000 }, 20_000);
 * ```
 */
export function wholeNumber(
  name: string,
  value: number | undefined,
  limits: WholeNumberLimits = {},
  dflt?: number,
): number {
  const n = value ?? dflt;
  const need = wholeNumberRequirement(n, limits);
  if (need !== undefined) throw inputError('OPTION', `${name} must be ${need}; got ${String(value)}`);
  return n!;
}

/** `a`, `a or b`, `a, b or c`. */
function alternatives(allowed: readonly string[]): string {
  return allowed.length < 2 ? allowed.join('') : `${allowed.slice(0, -1).join(', ')} or ${allowed[allowed.length - 1]}`;
}

/** `value` (or `dflt`) if it is one of `allowed`. */
export function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], dflt?: T): T {
  const v = value ?? dflt;
  if (v === undefined || !allowed.includes(v))
    throw inputError('OPTION', `${name} must be ${alternatives(allowed)}; got ${String(value)}`);
  return v;
}

function showBytes(n: number): string {
  const MiB = 1024 * 1024;
  if (n >= 1024 * MiB && n % (1024 * MiB) === 0) return `${n / (1024 * MiB)} GiB (${n} bytes)`;
  if (n >= MiB && n % MiB === 0) return `${n / MiB} MiB (${n} bytes)`;
  return n === 1 ? '1 byte' : `${n} bytes`;
}

/** What a byte-size option must be, or undefined when `value` is a whole number of bytes within the limits. */
export function byteSizeRequirement(value: unknown, limits: { min?: number; max?: number } = {}): string | undefined {
  const { min = 1, max } = limits;
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && (max === undefined || value <= max))
    return undefined;
  return `at least ${showBytes(min)}${max === undefined ? '' : ` and at most ${showBytes(max)}`}`;
}

/** `value` (or `dflt`) if it is a whole number of bytes within the limits. */
export function byteSize(
  name: string,
  value: number | undefined,
  limits: { min?: number; max?: number } = {},
  dflt?: number,
): number {
  const n = value ?? dflt;
  const need = byteSizeRequirement(n, limits);
  if (need !== undefined) throw inputError('OPTION', `${name} must be ${need}; got ${String(value)}`);
  return n!;
}

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** The bytes of a size written as `16MiB`, `8m` or `5242880` (binary units: 1 MB = 1 MiB, as in `aws s3`); undefined if it is not one. */
export function parseByteSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) return undefined;
  return Math.round(Number(m[1]) * unit);
}

/** A whole number as a flag is written: `1_000_000` and `1e6` are accepted. NaN if it is not a number. */
export function parseWholeNumber(text: string): number {
  return Number(text.replace(/_/g, ''));
}

/** A duration as strategy files write it: `90s`, `15m`, `2h`, `1d`, `500ms`. */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/;
export const DURATION_REQUIREMENT = 'a duration such as 90s, 15m, 2h or 1d';

const DURATION_SECONDS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** The seconds of a duration, or undefined if `text` is not one. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION_PATTERN.exec(text);
  return m ? Number(m[1]) * DURATION_SECONDS[m[2]!]! : undefined;
}
