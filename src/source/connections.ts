import { inputError } from '../errors.js';
import { DEFAULT_MAX_CONNECTIONS, type SourceOptions } from './source.js';

/** `opts.maxConnections`, checked, or the default. */
export function maxConnections(opts: SourceOptions): number {
  const max = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  if (!Number.isInteger(max) || max < 1)
    throw inputError('OPTION', `max source connections must be a whole number of at least 1, not ${max}`);
  return max;
}

/** A run snapshot's readers leave one of the source's connections for describes, planning and fallback reads. */
export function checkReaders(readers: number, max: number): void {
  if (!Number.isInteger(readers) || readers < 1 || readers > max - 1)
    throw inputError(
      'OPTION',
      `a run snapshot for ${readers} concurrent reads needs ${readers + 1} source connections, and at most ${max} are allowed; lower the reads (--parallel) to at most ${max - 1} or raise max_source_connections`,
    );
}
