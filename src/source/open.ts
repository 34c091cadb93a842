import { inputError } from '../errors.js';
import { redactUrl } from '../redact.js';
import type { Source } from './source.js';

/**
 * Opens a source from its URL: postgres://, postgresql://, mysql:// or mariadb://. Connects
 * lazily; loads only the driver the URL needs.
 */
export async function openSource(url: string, flag = '--source'): Promise<Source> {
  let u: URL;
  try { u = new URL(url); } catch {
    throw inputError('SOURCE_URL', `${flag} "${redactUrl(url)}" is not a URL; use postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db`);
  }
  switch (u.protocol) {
    case 'postgres:': case 'postgresql:': return new (await import('./postgres/source.js')).PostgresSource(url);
    case 'mysql:': case 'mariadb:': return new (await import('./mysql/source.js')).MysqlSource(url.replace(/^mariadb:/, 'mysql:'));
    default:
      throw inputError('SOURCE_URL', `${flag} scheme "${u.protocol.replace(/:$/, '')}" is not supported; use postgres://… or mysql://…`);
  }
}
