import { runtimeError, type TablevaultError } from './errors.js';
import type { Source } from './source/source.js';
import { withMethods } from './wrap.js';

/** The error a run stops with after SIGTERM/SIGINT: what was committed stands, the rest is redone next run. */
export function stoppedError(): TablevaultError {
  return runtimeError(
    'STOPPED',
    'stopped by a signal; objects and watermarks committed before it stand, and the next run continues from there',
  );
}

export function isStopped(e: unknown): boolean {
  return (e as { code?: string } | undefined)?.code === 'STOPPED';
}

/**
 * Batches until `signal` fires, then a STOPPED error at the next batch boundary: the batch in
 * hand is finished by the consumer or abandoned with its file (whose upload is aborted, whose
 * watermark is never committed), never half-written.
 */
export async function* abortable<T>(items: AsyncIterable<T>, signal?: AbortSignal): AsyncGenerator<T> {
  for await (const item of items) {
    if (signal?.aborted) throw stoppedError();
    yield item;
  }
}

/** A source whose reads stop at the next batch once `signal` fires. */
export function abortableSource(source: Source, signal?: AbortSignal): Source {
  if (!signal) return source;
  return withMethods(source, { read: (...args) => abortable(source.read(...args), signal) });
}
