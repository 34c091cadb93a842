/** mysql2 connection options from a mysql:// URL: host, port, credentials (URL-decoded), database, utf8mb4. */
export function mysqlConnectionOptions(url: string): {
  host: string;
  port: number;
  user: string;
  password: string;
  database?: string;
  charset: string;
} {
  const u = new URL(url);
  return {
    host: u.hostname,
    port: u.port ? Number(u.port) : 3306,
    user: decodeURIComponent(u.username),
    password: decodeURIComponent(u.password),
    database: decodeURIComponent(u.pathname.replace(/^\//, '')) || undefined,
    charset: 'utf8mb4',
  };
}
