/**
 * A run's slots for tables being read: at most `size` tables hold one, from before their lock
 * until their reads are done, so their source connections stay what `--parallel` allows while
 * more tables are in flight (those past their reads: stale parts, manifest, the run's end).
 *
 * @example
 * ```ts
 * const slots = new ReadSlots(2);
 * const release = await slots.acquire();
 * try {
 *   await readTheTable({ readsDone: release });
 * } finally {
 *   release(); // a second call does nothing
 * }
 * ```
 */
export class ReadSlots {
  private held = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly size: number) {}

  /** Waits for a slot (first come, first served); resolves to its release, which may be called more than once. */
  async acquire(): Promise<() => void> {
    if (this.held < this.size) this.held++;
    else await new Promise<void>((r) => this.waiting.push(r)); // handed over by a release, still counted
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.held--;
    };
  }
}
