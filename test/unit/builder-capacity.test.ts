import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { builderCapacity } from '../../src/arrow/batch.js';

describe('builderCapacity', () => {
  it('starts a table estimated small with a small capacity', () => {
    expect(builderCapacity(40, 20_000)).toBe(256);
  });

  it('starts a table estimated empty (or without an estimate) as small as a small one', () => {
    expect(builderCapacity(0, 20_000)).toBe(256);
  });

  it('never exceeds the batch size and holds the estimated rows when they fit in a batch', () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.integer({ min: 1, max: 1_000_000 }), (estimate, batch) => {
        const cap = builderCapacity(estimate, batch);
        expect(cap).toBeLessThanOrEqual(batch);
        expect(cap).toBeGreaterThanOrEqual(Math.min(batch, Math.max(estimate, 256)));
      }),
    );
  });
});
