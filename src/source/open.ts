import { inputError } from '../errors.js';
import { redactUrl } from '../redact.js';
import { MysqlSource } from './mysql/source.js';
import { PostgresSource } from './postgres/source.js';
import type { Source } from './source.js';

/** Opens a source from its URL: postgres://, postgresql://, mysql:// or mariadb://. Connects lazily. */
export function openSource(url: string): Source {
  let u: URL;
  try { u = new URL(url); } catch {
    throw inputError('SOURCE_URL', `--source "${redactUrl(url)}" is not a URL; use postgres://user:pass@host:5432/db or mysql://user:pass@host:3306/db`);
  }
  switch (u.protocol) {
    case 'postgres:': case 'postgresql:': return new PostgresSource(url);
    case 'mysql:': case 'mariadb:': return new MysqlSource(url.replace(/^mariadb:/, 'mysql:'));
    default:
      throw inputError('SOURCE_URL', `--source scheme "${u.protocol.replace(/:$/, '')}" is not supported; use postgres://… or mysql://…`);
  }
}
