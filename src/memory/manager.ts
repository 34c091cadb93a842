import { byteSize, wholeNumber } from '../config/validate.js';
import { DEFAULTS, LIMITS } from '../defaults.js';
import type { Logger } from '../log.js';
import { exposedGc } from './gc.js';
import { readMemory, type PeakMemory } from './peak.js';

export interface MemoryOptions {
  /** Check memory every N batches. Default 10. */
  checkEvery: number;
  /**
   * RSS (or heap) above this many bytes applies backpressure. Default 384 MiB: a safety valve
   * about twice the pipeline's working set (~175-190 MB per table with default settings on Node
   * 24), not a target; set below it, every check throttles the run.
   */
  limitBytes: number;
  /** Force a full GC every M batches (0: never). Default 0. */
  gcEvery: number;
}

export const DEFAULT_MEMORY_OPTIONS: MemoryOptions = DEFAULTS.memory;

export function validateMemoryOptions(m: MemoryOptions): MemoryOptions {
  wholeNumber('--memory-check-every', m.checkEvery);
  wholeNumber('--gc-every', m.gcEvery, { min: 0, note: '0: never' });
  byteSize('--memory-limit', m.limitBytes, { min: LIMITS.minMemoryLimit });
  return m;
}

/** Smallest batch the manager shrinks to. */
const MIN_BATCH_ROWS = 1000;

/**
 * Keeps a run inside its memory budget. Called once per batch: every `checkEvery` batches it
 * compares RSS and heap with the limit; when over, it collects garbage, waits for what is
 * already in flight (encoder, uploads) to drain before the reader goes on, and halves the batch
 * size for the pages still to read; below 3/4 of the limit again, batches grow back. Logs each
 * time it applies pressure.
 */
export class MemoryManager {
  private batches = 0;
  /** The batch size asked for: batches grow back towards it once memory is low again. */
  private wanted: number | undefined;
  /** Times the limit was exceeded. */
  pressure = 0;

  constructor(
    private readonly opts: MemoryOptions,
    private readonly peak: PeakMemory,
    private readonly log: Logger,
  ) {}

  /**
   * @param read the live read options: their batchRows is what the reader uses for its next page
   * @param drained resolves when the encoder and uploads hold nothing more
   */
  async afterBatch(read: { batchRows: number }, drained: () => Promise<void>): Promise<void> {
    this.batches++;
    this.peak.sample();
    if (this.opts.gcEvery > 0 && this.batches % this.opts.gcEvery === 0) exposedGc()?.();
    if (this.batches % this.opts.checkEvery !== 0) return;
    this.wanted ??= read.batchRows;
    const m = readMemory();
    if (m.rss <= this.opts.limitBytes && m.heapUsed <= this.opts.limitBytes) {
      // pressure gone (below 3/4 of the limit): back towards the batch size asked for
      if (read.batchRows < this.wanted && m.rss < this.opts.limitBytes * 0.75)
        read.batchRows = Math.min(this.wanted, read.batchRows * 2);
      return;
    }
    this.pressure++;
    const before = read.batchRows;
    read.batchRows = Math.max(MIN_BATCH_ROWS, Math.floor(read.batchRows / 2));
    this.log.warn(
      {
        rssBytes: m.rss,
        heapUsedBytes: m.heapUsed,
        limitBytes: this.opts.limitBytes,
        batchRows: read.batchRows,
        previousBatchRows: before,
      },
      'memory above the limit: waiting for encoding and uploads to drain, smaller batches from now on',
    );
    exposedGc()?.();
    await drained();
    this.peak.sample();
  }
}
