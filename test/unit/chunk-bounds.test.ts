import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  chooseBounds,
  chunkCount,
  splitIntegerRange,
  splitPages,
  type KeyPoint,
  type KeyRange,
} from '../../src/source/chunk-bounds.js';

/** Keys as zero-padded text, so text order is number order (the engines sort by the column's own order). */
const key = (n: number): string => String(n).padStart(8, '0');
const inRange = <T extends string | bigint>(r: KeyRange<T>, v: T): boolean =>
  (r.above === undefined || v > r.above) && (r.upTo === undefined || v <= r.upTo);

/** Sorted points over 0..9999 with weights 0..5 (repeats allowed: a sample's duplicates). */
const sortedPoints = fc
  .array(fc.record({ n: fc.integer({ min: 0, max: 9999 }), weight: fc.integer({ min: 0, max: 5 }) }), {
    maxLength: 300,
  })
  .map((ps) => ps.sort((a, b) => a.n - b.n).map((p): KeyPoint => ({ value: key(p.n), weight: p.weight })));
const chunksArb = fc.integer({ min: 1, max: 40 });

function expectChained<T>(ranges: Array<KeyRange<T>>): void {
  expect(ranges[0]!.above).toBeUndefined();
  expect(ranges[ranges.length - 1]!.upTo).toBeUndefined();
  for (let i = 0; i + 1 < ranges.length; i++) {
    expect(ranges[i + 1]!.above).toBe(ranges[i]!.upTo);
    expect(ranges[i]!.upTo! < ranges[i + 1]!.upTo! || ranges[i + 1]!.upTo === undefined).toBe(true);
  }
  expect(ranges.reduce((s, r) => s + r.share, 0)).toBeCloseTo(1, 9);
}

describe('chooseBounds', () => {
  it('gives between one and `chunks` chained ranges, bounded at distinct points of the input in order', () => {
    fc.assert(
      fc.property(sortedPoints, chunksArb, (points, chunks) => {
        const ranges = chooseBounds(points, chunks);
        expect(ranges.length).toBeGreaterThanOrEqual(1);
        expect(ranges.length).toBeLessThanOrEqual(chunks);
        expectChained(ranges);
        const values = points.map((p) => p.value);
        for (const r of ranges.slice(0, -1)) {
          expect(values).toContain(r.upTo);
          expect(r.upTo).not.toBe(values[values.length - 1]); // never the last point
        }
      }),
    );
  });

  it('puts every key, sampled or not, in exactly one range', () => {
    fc.assert(
      fc.property(sortedPoints, chunksArb, fc.array(fc.integer({ min: -5, max: 10_005 })), (points, chunks, keys) => {
        const ranges = chooseBounds(points, chunks);
        for (const k of keys) expect(ranges.filter((r) => inRange(r, key(k)))).toHaveLength(1);
      }),
    );
  });

  it('keeps each range within 1/chunks ± twice the heaviest point', () => {
    fc.assert(
      fc.property(sortedPoints, chunksArb, (points, chunks) => {
        const merged = new Map<string, number>();
        for (const p of points) merged.set(p.value, (merged.get(p.value) ?? 0) + p.weight);
        const total = [...merged.values()].reduce((a, b) => a + b, 0);
        fc.pre(total > 0);
        const heaviest = Math.max(...merged.values()) / total;
        const ranges = chooseBounds(points, chunks);
        if (ranges.length === 1) return;
        for (const r of ranges) expect(r.share).toBeLessThanOrEqual(1 / chunks + 2 * heaviest + 1e-9);
      }),
    );
  });

  it('splits n distinct equal points into exactly `chunks` ranges, each within one point of n/chunks', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 0, max: 500 }), (chunks, extra) => {
        const n = chunks + extra;
        const ranges = chooseBounds(
          Array.from({ length: n }, (_, i) => ({ value: key(i), weight: 1 })),
          chunks,
        );
        expect(ranges).toHaveLength(chunks === 1 || n < 2 ? 1 : chunks);
        for (const r of ranges) expect(Math.abs(r.share * n - n / ranges.length)).toBeLessThanOrEqual(1 + 1e-9);
      }),
    );
  });

  it('with rows beyond the last point (a walk), may bound at the last point and counts them in the last range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 8 }), chunksArb, (n, step, chunks) => {
        const points = Array.from({ length: n }, (_, i) => ({ value: key(i), weight: step }));
        const beyond = step; // a whole step past the last point
        const ranges = chooseBounds(points, chunks, beyond);
        expectChained(ranges);
        const total = n * step + beyond;
        const last = ranges[ranges.length - 1]!;
        expect(last.share * total).toBeGreaterThanOrEqual(beyond - 1e-9);
        for (const r of ranges) expect(r.share).toBeLessThanOrEqual(1 / chunks + (2 * step) / total + 1e-9);
        if (chunks > n) expect(ranges.length).toBe(n + 1); // every point a bound, the last one too
      }),
    );
  });

  it('gives one unbounded range for one chunk, no points, one distinct value or no weight', () => {
    const whole = [{ share: 1 }];
    expect(chooseBounds([{ value: 'a', weight: 1 }], 1)).toEqual(whole);
    expect(chooseBounds([], 8)).toEqual(whole);
    expect(
      chooseBounds(
        [
          { value: 'a', weight: 3 },
          { value: 'a', weight: 2 },
        ],
        8,
      ),
    ).toEqual(whole);
    expect(
      chooseBounds(
        [
          { value: 'a', weight: 0 },
          { value: 'b', weight: 0 },
        ],
        8,
      ),
    ).toEqual(whole);
  });

  it('weighs a histogram: a heavy most-common value gets a range to itself', () => {
    const ranges = chooseBounds(
      [
        { value: '10', weight: 0 },
        { value: '20', weight: 0.1 },
        { value: '30', weight: 0.1 },
        { value: '40', weight: 0.6 },
        { value: '50', weight: 0.1 },
        { value: '60', weight: 0.1 },
      ],
      3,
    );
    expect(ranges.map((r) => [r.above, r.upTo])).toEqual([
      [undefined, '30'],
      ['30', '40'],
      ['40', undefined],
    ]);
  });
});

describe('splitIntegerRange', () => {
  const bigs = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n });
  it('gives min(chunks, span) chained ranges whose value counts differ by at most one', () => {
    fc.assert(
      fc.property(bigs, fc.bigInt({ min: 0n, max: 10_000n }), chunksArb, (min, width, chunks) => {
        const max = min + width;
        const ranges = splitIntegerRange(min, max, chunks);
        expect(ranges).toHaveLength(Math.min(chunks, Number(width) + 1));
        expectChained(ranges);
        const counts = ranges.map((r) => (r.upTo ?? max) - (r.above ?? min - 1n));
        expect(counts.reduce((a, b) => a + b, 0n)).toBe(width + 1n);
        const spread =
          counts.reduce((a, b) => (b > a ? b : a), 0n) - counts.reduce((a, b) => (b < a ? b : a), counts[0]!);
        expect(spread <= 1n).toBe(true);
      }),
    );
  });

  it('puts every integer in exactly one range', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -50, max: 50 }),
        fc.integer({ min: 0, max: 200 }),
        chunksArb,
        (min, width, chunks) => {
          const ranges = splitIntegerRange(BigInt(min), BigInt(min + width), chunks);
          for (let v = min - 3; v <= min + width + 3; v++)
            expect(ranges.filter((r) => inRange(r, BigInt(v)))).toHaveLength(1);
        },
      ),
    );
  });
});

describe('splitPages', () => {
  it('gives min(chunks, pages) chained page ranges, near equal, covering every page once', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5000 }), chunksArb, (pages, chunks) => {
        const ranges = splitPages(pages, chunks);
        expect(ranges).toHaveLength(Math.max(1, Math.min(chunks, pages)));
        expect(ranges[0]!.from).toBeUndefined();
        expect(ranges[ranges.length - 1]!.to).toBeUndefined();
        for (let i = 0; i + 1 < ranges.length; i++) expect(ranges[i + 1]!.from).toBe(ranges[i]!.to);
        const sizes = ranges.map((r) => (r.to ?? pages) - (r.from ?? 0));
        expect(sizes.reduce((a, b) => a + b, 0)).toBe(pages);
        if (ranges.length > 1) expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('chunkCount', () => {
  it('is the rows over chunk rows, rounded up past 5% over, and at least one', () => {
    expect(chunkCount(0, 10)).toBe(1);
    expect(chunkCount(100, 100)).toBe(1);
    expect(chunkCount(105, 100)).toBe(1);
    expect(chunkCount(106, 100)).toBe(2);
    expect(chunkCount(4_000_048, 250_000)).toBe(16);
    expect(() => chunkCount(5, 0)).toThrow(/chunkRows/);
  });
});
