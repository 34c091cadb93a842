import type { Command } from 'commander';
import { DEFAULTS } from '../defaults.js';
import type { MemoryOptions } from '../memory/manager.js';
import { byteSize, wholeNumber } from './parse.js';

export interface MemoryFlags {
  memoryLimit: number;
  memoryCheckEvery: number;
  gcEvery: string;
}

/** --memory-limit, --memory-check-every, --gc-every: the same on every command that reads tables. */
export function addMemoryFlags(c: Command): Command {
  return c
    .option(
      '--memory-limit <size>',
      'above this RSS or heap, drain what is in flight and read smaller batches',
      byteSize,
      DEFAULTS.memory.limitBytes,
    )
    .option('--memory-check-every <n>', 'check memory every N batches', wholeNumber, DEFAULTS.memory.checkEvery)
    .option('--gc-every <n>', 'force a garbage collection every N batches (0: never)', String(DEFAULTS.memory.gcEvery));
}

export function memoryOptions(f: MemoryFlags): MemoryOptions {
  return { limitBytes: f.memoryLimit, checkEvery: f.memoryCheckEvery, gcEvery: Number(f.gcEvery) };
}
