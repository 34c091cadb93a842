import { defineConfig } from 'vitest/config';

/**
 * `npm run test:unit`: the tests that need no database and no S3 server (test/unit), in seconds.
 * No global setup, so no s3rver is started; the files run in parallel.
 */
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    setupFiles: ['test/helpers/quiet.ts'],
    testTimeout: 60_000,
    pool: 'threads',
  },
});
