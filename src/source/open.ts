import { engineFor } from './engine.js';
import type { Source } from './source.js';

/**
 * Opens a source from its URL: postgres://, postgresql://, mysql:// or mariadb://. Connects
 * lazily; loads only the driver the URL needs.
 */
export async function openSource(url: string, flag = '--source'): Promise<Source> {
  return (await engineFor(url, flag)).openSource(url);
}
