/**
 * The suite runs two test files at a time (vitest.config.ts), each in a process of its own: a
 * lane. Each lane has databases of its own on the shared PostgreSQL and MariaDB servers, so two
 * files running at once never meet: the same table names in database `test`, the state tables
 * there that files reset, a schema or a state database two files both use. Lane 1 keeps every
 * name as it is; lane N appends `_lN` (lane-setup.ts points the test URLs at its `test_lN`).
 */

/** This process's lane: vitest's pool worker id (1 outside vitest). */
export const LANE = Number(process.env.VITEST_POOL_ID ?? 1) || 1;

/** `name` of this lane: a database, a MySQL schema or user, a PostgreSQL schema. */
export function laneName(name: string): string {
  return LANE === 1 ? name : `${name}_l${LANE}`;
}

/** `url` (postgres:// or mysql://) with its database made this lane's. */
export function laneUrl(url: string): string {
  const u = new URL(url);
  u.pathname = `/${laneName(decodeURIComponent(u.pathname.slice(1)))}`;
  return u.href;
}
