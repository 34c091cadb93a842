/**
 * Records the peak resident set size and heap of the process while a job runs: sampled on a
 * timer and whenever the pipeline calls `sample()` (once per batch).
 */
export class PeakMemory {
  rss = 0;
  heapUsed = 0;
  private timer: NodeJS.Timeout | undefined;

  start(everyMs = 100): this {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
    return this;
  }

  sample(): void {
    const m = process.memoryUsage();
    if (m.rss > this.rss) this.rss = m.rss;
    if (m.heapUsed > this.heapUsed) this.heapUsed = m.heapUsed;
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
