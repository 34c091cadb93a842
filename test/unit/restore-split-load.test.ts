import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Loader } from '../../src/source/loader.js';
import { JobPool, SplitLoad } from '../../src/restore/split.js';

/** A stand-in loader: SplitLoad only hands it to loadOne and reads its formats. */
const loader = (formats?: Record<string, number>) => ({ formats }) as unknown as Loader;
const tick = () => new Promise<void>((r) => setTimeout(r, 0));

describe('SplitLoad', () => {
  it('loads every object exactly once over any number of connections, each taking the next', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 1, max: 5 }), async (n, conns) => {
        const seen: number[] = [];
        const load = new SplitLoad(
          Array.from({ length: n }, (_, i) => i),
          async (_l, i) => {
            await tick();
            seen.push(i);
          },
        );
        const ok = await Promise.all(Array.from({ length: conns }, () => load.work(loader())));
        await load.settled();
        expect(ok.every(Boolean)).toBe(true);
        expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i));
        expect(load.perConnection.reduce((a, b) => a + b, 0)).toBe(n);
      }),
      { numRuns: 50 },
    );
  });

  it('takes no object after one failed, waits for those under way, then throws the failure', async () => {
    const done: number[] = [];
    const load = new SplitLoad([0, 1, 2, 3, 4, 5], async (_l, i) => {
      await tick();
      if (i === 1) throw new Error('object 1 is corrupt');
      await tick();
      done.push(i);
    });
    const [a, b] = await Promise.all([load.work(loader()), load.work(loader())]);
    expect([a, b]).toEqual([true, false]);
    await expect(load.settled()).rejects.toThrow('object 1 is corrupt');
    expect(done).toEqual([0]);
    expect(load.open).toBe(false);
  });

  it('counts the batches by format of every connection but the first', async () => {
    const counts = [{ binary: 0 }, { binary: 0 }];
    const load = new SplitLoad([0, 1, 2], async (l) => {
      await tick();
      (l.formats as Record<string, number>).binary! += 2;
    });
    await Promise.all(counts.map((f) => load.work(loader(f))));
    await load.settled();
    expect(load.helperFormats).toEqual({ binary: 2 * load.perConnection[1]! });
  });
});

describe('JobPool', () => {
  it('an idle job waits while a table may still offer, and ends once every table has decided', async () => {
    const pool = new JobPool(2);
    const t = pool.forTable();
    let ended = false;
    const waiting = pool.next().then((l) => ((ended = true), l));
    await tick();
    expect(ended).toBe(false);
    t.decided();
    expect(await waiting).toBeUndefined();
  });

  it('an idle job gets the objects a table offers, until none is left', async () => {
    const pool = new JobPool(2);
    const t = pool.forTable();
    const load = new SplitLoad([0], () => tick());
    const waiting = pool.next();
    t.offer(load);
    expect(await waiting).toBe(load);
    await load.work(loader());
    expect(await pool.next()).toBeUndefined();
  });
});
