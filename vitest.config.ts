import { defineConfig } from 'vitest/config';

/**
 * Files run after the others, one at a time, with no other file beside them:
 * - those that lean on wall-clock time (leases of a few seconds, a schedule of every second, a
 *   process stopped past its lease);
 * - the whole-database family, which share MariaDB databases of their own (tv_whole and the
 *   rest: test/helpers/whole-db.ts) that a lane's databases do not separate.
 */
const SOLO = [
  'test/integration/shared-run.test.ts',
  'test/integration/serve-join.test.ts',
  'test/integration/shared-run-claims.test.ts',
  'test/integration/whole-database.test.ts',
  'test/integration/whole-database-incremental.test.ts',
  'test/integration/whole-database-export.test.ts',
  'test/integration/restore-many.test.ts',
];

export default defineConfig({
  test: {
    // one s3rver for the whole run (endpoint via inject('s3rverEndpoint') / TABLEVAULT_TEST_S3RVER_ENDPOINT)
    globalSetup: ['test/helpers/global-setup.ts'],
    // lane-setup first: it points the test URLs at the lane's own databases
    setupFiles: ['test/helpers/lane-setup.ts', 'test/helpers/quiet.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // two files at a time, each in its lane (test/helpers/lane.ts: databases of its own): one file
    // at a time left a third to a half of the two cores idle, waiting on servers and child processes
    maxWorkers: 2,
    minWorkers: 1,
    // a process per lane runs its files in turn, instead of a new process per file importing the
    // AWS SDK, DuckDB, kysely and the rest again: the files restore what they change (process.env,
    // stubs) in their afterAll
    isolate: false,
    projects: [
      {
        extends: true,
        test: {
          name: 'lanes',
          include: ['test/**/*.test.ts'],
          exclude: SOLO,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'solo',
          include: SOLO,
          poolOptions: { forks: { singleFork: true } },
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
