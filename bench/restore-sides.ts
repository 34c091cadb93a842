import { execFileSync } from 'node:child_process';

/** Quoted for bash. */
export const sh = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** An engine's command-line client and its connection flags and environment. */
export interface EngineSide {
  engine: string;
  url: string;
  env: NodeJS.ProcessEnv;
  /** Runs SQL through the engine's own client (setup and cleanup; never timed). */
  sql: (text: string) => void;
  /** The rows of a table (untimed: after a run, so both restores are known to load the same rows). */
  count: (table: string) => number;
}

export function pgSide(url: string): EngineSide & { conn: string; db: string } {
  const u = new URL(url);
  const db = u.pathname.slice(1);
  const conn = `-h ${u.hostname} -p ${u.port || 5432} -U ${decodeURIComponent(u.username) || 'postgres'}`;
  const env = { ...process.env, PGPASSWORD: decodeURIComponent(u.password) };
  const sql = (text: string) => {
    execFileSync('bash', ['-c', `psql ${conn} -d ${db} -q -v ON_ERROR_STOP=1 -c ${sh(text)}`], { env, stdio: 'pipe' });
  };
  const count = (table: string) =>
    Number(
      execFileSync('bash', ['-c', `psql ${conn} -d ${db} -tA -c ${sh(`SELECT count(*) FROM ${table}`)}`], {
        env,
        encoding: 'utf8',
      }),
    );
  return { engine: 'pg', url, env, sql, count, conn, db };
}

export function mysqlSide(url: string): EngineSide & { conn: string; db: string } {
  const u = new URL(url);
  const db = u.pathname.slice(1);
  const conn = `-h ${u.hostname} -P ${u.port || 3306} -u ${decodeURIComponent(u.username)}`;
  const env = { ...process.env, MYSQL_PWD: decodeURIComponent(u.password) };
  const sql = (text: string) => {
    execFileSync('bash', ['-c', `mysql ${conn} -D ${db} -e ${sh(text)}`], { env, stdio: 'pipe' });
  };
  const count = (table: string) =>
    Number(
      execFileSync('bash', ['-c', `mysql ${conn} -D ${db} -N -e ${sh(`SELECT COUNT(*) FROM ${table}`)}`], {
        env,
        encoding: 'utf8',
      }),
    );
  return { engine: 'mysql', url, env, sql, count, conn, db };
}
