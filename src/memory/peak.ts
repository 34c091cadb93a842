/** The process's memory as one reading: RSS and V8 heap in use, in bytes. */
export interface MemoryReading {
  rss: number;
  heapUsed: number;
}

/**
 * A reading is reused for this long. `process.memoryUsage()` reads /proc and costs ~0.1 ms in a
 * busy process (8 µs idle); a run of 244 tables (a PeakMemory each, sampled per batch, at start,
 * at stop and on its timer) asked for ~1,200 readings, ~130 ms of the main thread's time, and
 * ~60 ms still when one was reused for 10 ms. Well under PeakMemory's own 100 ms timer.
 */
const READING_MS = 50;

let last: (MemoryReading & { at: number }) | undefined;

/** The process's memory now, or as read less than READING_MS ago (by any caller). */
export function readMemory(): MemoryReading {
  const now = performance.now();
  if (!last || now - last.at >= READING_MS) {
    const m = process.memoryUsage();
    last = { at: now, rss: m.rss, heapUsed: m.heapUsed };
  }
  return last;
}

/**
 * Records the peak resident set size and heap of the process while a job runs: sampled on a
 * timer and whenever the pipeline calls `sample()` (once per batch), through readMemory.
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
    const m = readMemory();
    if (m.rss > this.rss) this.rss = m.rss;
    if (m.heapUsed > this.heapUsed) this.heapUsed = m.heapUsed;
  }

  stop(): void {
    this.sample();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
