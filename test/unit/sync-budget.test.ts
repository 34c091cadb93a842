import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/sync/budget.js';

/** Whether `p` has settled after the queued microtasks ran. */
async function settled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => {
    done = true;
  });
  await new Promise((r) => setImmediate(r));
  return done;
}

describe('ByteBudget', () => {
  it('grants at once while the bytes fit', async () => {
    const b = new ByteBudget(100);
    expect(await settled(b.acquire(60))).toBe(true);
    expect(await settled(b.acquire(40))).toBe(true);
  });

  it('holds a request that does not fit until enough is released', async () => {
    const b = new ByteBudget(100);
    const release = await b.acquire(70);
    const waiting = b.acquire(40);
    expect(await settled(waiting)).toBe(false);
    release();
    expect(await settled(waiting)).toBe(true);
  });

  it('runs an item larger than the whole budget alone, once nothing else is held', async () => {
    const b = new ByteBudget(100);
    const small = await b.acquire(10);
    const huge = b.acquire(1000);
    expect(await settled(huge)).toBe(false);
    small();
    const releaseHuge = await huge;
    expect(await settled(b.acquire(1))).toBe(false);
    releaseHuge();
  });

  it('grants first come, first served: a small request does not overtake a waiting large one', async () => {
    const b = new ByteBudget(100);
    const first = await b.acquire(50);
    const large = b.acquire(80);
    const small = b.acquire(10); // would fit now, but the large one asked first
    expect(await settled(large)).toBe(false);
    expect(await settled(small)).toBe(false);
    first();
    expect(await settled(large)).toBe(true);
    expect(await settled(small)).toBe(true);
  });

  it('ignores a second release of the same grant', async () => {
    const b = new ByteBudget(100);
    const r = await b.acquire(100);
    r();
    r();
    await b.acquire(100);
    expect(await settled(b.acquire(1))).toBe(false); // the double release did not free 100 more bytes
  });

  it('never holds more than its capacity, and serves every request, under random acquire/release', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 500 }),
        fc.array(fc.record({ bytes: fc.integer({ min: 0, max: 800 }), holdTicks: fc.integer({ min: 0, max: 3 }) }), {
          minLength: 1,
          maxLength: 40,
        }),
        async (capacity, requests) => {
          const b = new ByteBudget(capacity);
          let held = 0;
          let peak = 0;
          let served = 0;
          const tick = () => new Promise((r) => setImmediate(r));
          await Promise.all(
            requests.map(async (r, i) => {
              for (let k = 0; k < i % 3; k++) await tick(); // arrivals spread over time
              const release = await b.acquire(r.bytes);
              const n = Math.min(r.bytes, capacity);
              held += n;
              peak = Math.max(peak, held);
              for (let k = 0; k < r.holdTicks; k++) await tick();
              held -= n;
              served++;
              release();
            }),
          );
          expect(peak).toBeLessThanOrEqual(capacity);
          expect(served).toBe(requests.length);
        },
      ),
      { numRuns: 200 },
    );
  });
});
