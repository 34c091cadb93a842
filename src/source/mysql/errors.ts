import { type TablevaultError, inputError, runtimeError } from '../../errors.js';

/** Turns a failed MySQL connection into an error that says what to fix. */
export function mysqlConnectError(e: unknown, label: string): TablevaultError {
  const err = e as { code?: string; errno?: number; message?: string };
  const msg = err.message ?? String(e);
  if (['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ETIMEDOUT'].includes(err.code ?? '')) {
    return inputError(
      'SOURCE_UNREACHABLE',
      `cannot connect to MySQL at ${label} (${err.code}); check the host and port in --source and that the server is running`,
      e,
    );
  }
  if (err.code === 'ER_ACCESS_DENIED_ERROR' || err.errno === 1045)
    return inputError(
      'SOURCE_AUTH',
      `MySQL at ${label} rejected the login; check the user and password in --source`,
      e,
    );
  if (err.code === 'ER_BAD_DB_ERROR' || err.errno === 1049)
    return inputError('SOURCE_DATABASE', `MySQL at ${label}: ${msg}; check the database name in --source`, e);
  return runtimeError('SOURCE_CONNECT', `cannot connect to MySQL at ${label}: ${msg}`, e);
}
