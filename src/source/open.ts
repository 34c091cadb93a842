import { engineFor } from './engine.js';
import type { Source, SourceOptions } from './source.js';

/**
 * Opens a source from its URL: postgres://, postgresql://, mysql:// or mariadb://. Connects
 * lazily; loads only the driver the URL needs. `flag` names the URL in messages.
 * @example
 * ```ts
 * const source = await openSource(strategy.source, { maxConnections: 4 });
 * ```
 */
export async function openSource(url: string, opts: SourceOptions & { flag?: string } = {}): Promise<Source> {
  return (await engineFor(url, opts.flag ?? '--source')).openSource(url, { maxConnections: opts.maxConnections });
}
