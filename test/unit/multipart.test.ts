import { describe, expect, it } from 'vitest';
import { MAX_PARTS, partSizeFor } from '../../src/s3/multipart.js';

const MiB = 1024 * 1024;

describe('multipart part sizes', () => {
  it('start at the base and double every 1,000 parts, up to 5 GiB', () => {
    expect(partSizeFor(1, 16 * MiB)).toBe(16 * MiB);
    expect(partSizeFor(1000, 16 * MiB)).toBe(16 * MiB);
    expect(partSizeFor(1001, 16 * MiB)).toBe(32 * MiB);
    expect(partSizeFor(2001, 16 * MiB)).toBe(64 * MiB);
    expect(partSizeFor(10_000, 16 * MiB)).toBe(5 * 1024 * MiB);
  });

  it("let an object of S3's maximum size (5 TB) fit in 10,000 parts even from the smallest base", () => {
    let capacity = 0;
    for (let n = 1; n <= MAX_PARTS; n++) capacity += partSizeFor(n, 5 * MiB);
    expect(capacity).toBeGreaterThanOrEqual(5e12);
  });
});
