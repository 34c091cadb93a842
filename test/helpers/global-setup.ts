/**
 * Vitest global setup: one s3rver for the whole run, on a free loopback port, storing into a fresh
 * temp directory. Test files get its endpoint through `inject('s3rverEndpoint')`; child processes
 * spawned by tests through TABLEVAULT_TEST_S3RVER_ENDPOINT (set here, before the test workers start,
 * so they inherit it too).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import S3rver from 's3rver';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    s3rverEndpoint: string;
    s3rverDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'tablevault-s3rver-'));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory: dir,
    silent: true,
    // SigV4 signatures are checked (the fault proxy keeps the client's Host header, so they still match)
    allowMismatchedSignatures: false,
  });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  project.provide('s3rverEndpoint', endpoint);
  project.provide('s3rverDir', dir);
  process.env.TABLEVAULT_TEST_S3RVER_ENDPOINT = endpoint;

  return async () => {
    try {
      await server.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
