import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // one s3rver for the whole run (endpoint via inject('s3rverEndpoint') / TABLEVAULT_TEST_S3RVER_ENDPOINT)
    globalSetup: ['test/helpers/global-setup.ts'],
    setupFiles: ['test/helpers/quiet.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // test files share the real PostgreSQL/MariaDB databases (same table names): one file at a time
    fileParallelism: false,
    pool: 'forks',
    // one child process runs every file in turn (it is one file at a time anyway), instead of a new
    // process per file importing the AWS SDK, DuckDB, kysely and the rest again: the files restore
    // what they change (process.env, stubs) in their afterAll
    isolate: false,
  },
});
