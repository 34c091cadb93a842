/**
 * Hide credentials in anything that may reach a log line or an error message.
 * Connection strings lose their password; AWS secret keys and session tokens never appear.
 */
const URL_WITH_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@/?#\s]*)(@)/gi;

export function redactUrl(url: string): string {
  return url.replace(URL_WITH_PASSWORD, '$1***$3');
}

/** host:port/db of a database URL, for messages that must locate the server without the secret. */
export function describeDbUrl(url: string): string {
  try {
    const u = new URL(url);
    const db = u.pathname.replace(/^\//, '');
    return `${u.protocol.replace(/:$/, '')}://${u.username ? `${decodeURIComponent(u.username)}@` : ''}${u.host}${db ? `/${db}` : ''}`;
  } catch {
    return redactUrl(url);
  }
}

export function redactText(text: string): string {
  let out = redactUrl(text);
  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) {
    const v = process.env[name];
    if (v && v.length >= 4) out = out.split(v).join('***');
  }
  return out;
}
