import { InvalidArgumentError } from 'commander';

/** A whole number for a CLI flag; `1_000_000` and `1e6` are accepted. */
export function wholeNumber(value: string): number {
  const n = Number(value.replace(/_/g, ''));
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of at least 1');
  return n;
}

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/** A byte size: `16MiB`, `8m`, `5242880`. Units are binary (1 MB = 1 MiB here, as in `aws s3`). */
export function byteSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError('expected a size such as 16MiB, 8M or 5242880');
  return Math.round(Number(m[1]) * unit);
}

