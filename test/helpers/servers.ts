/** The test servers' URLs when TABLEVAULT_TEST_PG_URL / TABLEVAULT_TEST_MYSQL_URL are not set (see .ci/run). */
export const SERVER_DEFAULTS = {
  PG: 'postgres://postgres@127.0.0.1:5432/test',
  MYSQL: 'mysql://root@127.0.0.1:3306/test',
} as const;

/** The database a postgres:// or mysql:// URL names (its path, decoded). */
export function urlDatabase(url: string): string {
  return decodeURIComponent(new URL(url).pathname.slice(1));
}

/** The host, port, user and password of a mysql:// URL, as mysql2's connection options (database left to the caller). */
export function mysqlLogin(url: string): { host: string; port: number; user: string; password: string } {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: Number(u.port || 3306),
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
  };
}
