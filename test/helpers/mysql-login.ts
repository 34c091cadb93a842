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
