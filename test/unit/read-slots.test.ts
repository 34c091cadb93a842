import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ReadSlots } from '../../src/backup/read-slots.js';

describe('ReadSlots', () => {
  it('never lets more than its size hold a slot at once, and lets every one through', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.nat(3), { minLength: 1, maxLength: 30 }),
        async (size, waits) => {
          const slots = new ReadSlots(size);
          let now = 0;
          let most = 0;
          await Promise.all(
            waits.map(async (ticks) => {
              const release = await slots.acquire();
              most = Math.max(most, ++now);
              for (let i = 0; i < ticks; i++) await Promise.resolve();
              now--;
              release();
            }),
          );
          expect({ most: most <= size, through: now }).toEqual({ most: true, through: 0 });
        },
      ),
    );
  });

  it('frees a slot once however often its release is called', async () => {
    const slots = new ReadSlots(1);
    const first = await slots.acquire();
    first();
    first();
    const second = await slots.acquire();
    let third = false;
    void slots.acquire().then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(false);
    second();
    await new Promise((r) => setImmediate(r));
    expect(third).toBe(true);
  });
});
