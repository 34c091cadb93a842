/**
 * The suite runs two test files at a time (vitest.config.ts), each in a process of its own: a
 * lane. Each lane has databases of its own on the shared PostgreSQL and MariaDB servers, so two
 * files running at once never meet: the same table names in database `test`, the state tables
 * there that files reset. Lane N appends `_lN` to the database's name (lane-setup.ts points the
 * test URLs at `test_lN`), lane 1 too: a test that names `test` itself fails in every lane, not
 * only when it happens to run in the second.
 */

import { urlDatabase } from './servers.js';

/** This process's lane: vitest's pool worker id (none outside vitest). */
export const LANE = process.env.VITEST_POOL_ID ? Number(process.env.VITEST_POOL_ID) : undefined;

/** The name of this lane's database beside the one `url` (postgres:// or mysql://) names. */
export function laneDatabase(url: string): string {
  const name = urlDatabase(url);
  return LANE === undefined ? name : `${name}_l${LANE}`;
}

/** `url` with its database made this lane's. */
export function laneUrl(url: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(laneDatabase(url))}`;
  return u.href;
}
