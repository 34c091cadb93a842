import { type TablevaultError, inputError, runtimeError } from '../../errors.js';

/** Turns a failed PostgreSQL connection into an error that says what to fix. */
export function pgConnectError(e: unknown, label: string): TablevaultError {
  const err = e as { code?: string; message?: string };
  const msg = err.message ?? String(e);
  switch (err.code) {
    case 'ECONNREFUSED':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EHOSTUNREACH':
    case 'ETIMEDOUT':
      return inputError(
        'SOURCE_UNREACHABLE',
        `cannot connect to PostgreSQL at ${label} (${err.code}); check the host and port in --source and that the server is running`,
        e,
      );
    case '28P01':
    case '28000':
      return inputError(
        'SOURCE_AUTH',
        `PostgreSQL at ${label} rejected the login (${msg}); check the user and password in --source`,
        e,
      );
    case '3D000':
      return inputError('SOURCE_DATABASE', `PostgreSQL at ${label}: ${msg}; check the database name in --source`, e);
  }
  if (/timeout/i.test(msg))
    return inputError('SOURCE_UNREACHABLE', `cannot connect to PostgreSQL at ${label} (timed out); check --source`, e);
  return runtimeError('SOURCE_CONNECT', `cannot connect to PostgreSQL at ${label}: ${msg}`, e);
}
