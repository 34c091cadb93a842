import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = (options?: { type?: 'major' | 'minor' }) => void;

let gcFn: Gc | null | undefined;

/** Node's gc(), also when the process was not started with --expose-gc; null if V8 refuses. */
export function exposedGc(): Gc | null {
  if (gcFn !== undefined) return gcFn;
  const g = (globalThis as { gc?: Gc }).gc;
  if (typeof g === 'function') return (gcFn = g);
  try {
    v8.setFlagsFromString('--expose-gc');
    gcFn = vm.runInNewContext('gc') as Gc;
  } catch {
    gcFn = null;
  }
  return gcFn;
}

/**
 * A scavenge of the young generation only (a fraction of a millisecond with the bin's 4 MB
 * semi-spaces). Each batch leaves megabytes of ArrayBuffers behind (Arrow buffers, IPC
 * messages, wire chunks) behind a few hundred bytes of JS objects: V8 sees too little heap
 * growth to collect them soon, so their native memory piles up. Collecting them once per batch
 * keeps it to about one batch's worth.
 */
export function collectYoung(): void {
  exposedGc()?.({ type: 'minor' });
}

/**
 * Frees an ArrayBuffer's memory now instead of when V8 collects the object (for an old one, at
 * the next full GC): `transfer(0)` detaches it, leaving every view on it empty. Only for a buffer
 * nothing reads any more.
 */
export function freeBuffer(buf: ArrayBufferLike): void {
  if (buf instanceof ArrayBuffer && !buf.detached) buf.transfer(0);
}
