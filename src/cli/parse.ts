import { InvalidArgumentError } from 'commander';
import {
  DURATION_REQUIREMENT,
  durationSeconds,
  parseByteSize,
  parseWholeNumber,
  wholeNumberRequirement,
} from '../config/validate.js';

/** A whole number for a CLI flag; `1_000_000` and `1e6` are accepted. */
export function wholeNumber(value: string): number {
  const n = parseWholeNumber(value);
  const need = wholeNumberRequirement(n);
  if (need !== undefined) throw new InvalidArgumentError(`expected ${need}`);
  return n;
}

/** A byte size: `16MiB`, `8m`, `5242880`. Units are binary (1 MB = 1 MiB here, as in `aws s3`). */
export function byteSize(value: string): number {
  const n = parseByteSize(value);
  if (n === undefined) throw new InvalidArgumentError('expected a size such as 16MiB, 8M or 5242880');
  return n;
}

/** A duration (`90s`, `15m`, `500ms`) in milliseconds. */
export function durationMs(value: string): number {
  const sec = durationSeconds(value);
  if (sec === undefined) throw new InvalidArgumentError(`expected ${DURATION_REQUIREMENT}`);
  return sec * 1000;
}
