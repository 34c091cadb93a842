import type { Command } from 'commander';
import { DEFAULT_MEMORY_OPTIONS, type MemoryOptions } from '../memory/manager.js';
import { byteSize, wholeNumber } from './parse.js';

export interface MemoryFlags { memoryLimit: number; memoryCheckEvery: number; gcEvery: string }

/** --memory-limit, --memory-check-every, --gc-every: the same on every command that reads tables. */
export function addMemoryFlags(c: Command): Command {
  return c
    .option('--memory-limit <size>', 'above this RSS or heap, drain what is in flight and read smaller batches', byteSize, DEFAULT_MEMORY_OPTIONS.limitBytes)
    .option('--memory-check-every <n>', 'check memory every N batches', wholeNumber, DEFAULT_MEMORY_OPTIONS.checkEvery)
    .option('--gc-every <n>', 'force a garbage collection every N batches (0: never)', String(DEFAULT_MEMORY_OPTIONS.gcEvery));
}

export function memoryOptions(f: MemoryFlags): MemoryOptions {
  return { limitBytes: f.memoryLimit, checkEvery: f.memoryCheckEvery, gcEvery: Number(f.gcEvery) };
}
