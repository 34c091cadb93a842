/**
 * A byte budget shared by every copy in flight: a streamed copy takes the bytes it is about to
 * hold (a small object, or one part) before reading them and gives them back once they are
 * uploaded, so buffered bytes never pass the budget however many objects are in flight. Grants
 * are first come, first served, so a large part is not starved by a stream of small objects.
 */
export class ByteBudget {
  private used = 0;
  private readonly queue: Array<{ n: number; grant: () => void }> = [];

  constructor(readonly capacity: number) {}

  async acquire(bytes: number): Promise<() => void> {
    const n = Math.min(bytes, this.capacity); // one item larger than the budget runs alone
    if (this.queue.length === 0 && this.used + n <= this.capacity) this.used += n;
    else await new Promise<void>((grant) => this.queue.push({ n, grant }));
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= n;
      this.pump();
    };
  }

  private pump(): void {
    while (this.queue.length && this.used + this.queue[0]!.n <= this.capacity) {
      const next = this.queue.shift()!;
      this.used += next.n;
      next.grant();
    }
  }
}
