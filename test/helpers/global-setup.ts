/**
 * Vitest global setup: one s3rver for the whole run, in its own process on a free loopback port, storing into a fresh
 * temp directory. Test files get its endpoint through `inject('s3rverEndpoint')`; child processes
 * spawned by tests through TABLEVAULT_TEST_S3RVER_ENDPOINT (set here, before the test workers start,
 * so they inherit it too).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { startS3rverProcess } from './s3rver-process.js';

declare module 'vitest' {
  export interface ProvidedContext {
    s3rverEndpoint: string;
    s3rverDir: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'tablevault-s3rver-'));
  // SigV4 signatures are checked (the fault proxy keeps the client's Host header, so they still match)
  const server = await startS3rverProcess(dir);
  const endpoint = server.endpoint;
  project.provide('s3rverEndpoint', endpoint);
  project.provide('s3rverDir', dir);
  process.env.TABLEVAULT_TEST_S3RVER_ENDPOINT = endpoint;

  return async () => {
    try {
      await server.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
}
