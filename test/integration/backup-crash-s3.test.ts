import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { backup, resetState, strategyFile } from '../helpers/backup.js';
import { CLI, jsonSummary, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { readParquetRows } from '../helpers/duckdb.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import {
  createBucket,
  getObjectBytes,
  listKeys,
  listMultipartUploads,
  makeS3Client,
  s3EnvFor,
  s3Targets,
} from '../helpers/s3.js';

interface Crash {
  /** how the killed backup exited, or why the kill could not be placed */
  signal: NodeJS.Signals | null;
  keysAfterKill: string[];
  uploadsAfterKill: number;
  rerun: CliResult;
  keysAfterRerun: string[];
  ids: number[];
  uploadsAfterRerun: number;
}

/** A backup killed in the middle of a multipart upload, then run again: exact, and no object left looking complete. */
describe.each(s3Targets().map((t) => [t.name, t] as const))('backup: SIGKILL mid-multipart (%s)', (_name, target) => {
  let c: Crash;
  beforeAll(async () => {
    await resetState('pg');
    // ~20 MiB of rows (1 KiB each, compression: none): one object, uploaded in two 16 MiB-threshold parts;
    // each row's MD5 then one shared 1,008-byte tail (64 MD5s aggregated per row took 10x as long to build)
    await withPg((c) =>
      c.query(`DROP TABLE IF EXISTS tv_mpk; CREATE TABLE tv_mpk (id int PRIMARY KEY, payload bytea, at timestamptz NOT NULL DEFAULT timestamptz '2024-01-01 00:00:00+00');
      INSERT INTO tv_mpk (id, payload) SELECT g, decode(md5(g::text), 'hex') || tail.bytes FROM generate_series(1, 20000) g,
        (SELECT decode(string_agg(md5(i::text), ''), 'hex') AS bytes FROM generate_series(1, 63) i) tail;`),
    );
    const client = makeS3Client(target);
    const bucket = await createBucket(client);
    const proxy = await startFaultProxy(target.endpoint, [
      {
        match: (r) => r.method === 'PUT' && r.query.get('partNumber') === '2',
        action: { kind: 'delay', ms: 60_000 },
      },
    ]);
    try {
      const { file } = strategyFile(
        () =>
          `source: ${PG_URL}\ndestination: s3://${bucket}/b\ntables:\n  - table: tv_mpk\n    strategy: incremental\n    cursor: at\n    compression: none\n    file_max_rows: 100000\n`,
      );
      const env = {
        ...process.env,
        ...s3EnvFor(target),
        AWS_ENDPOINT_URL: proxy.endpoint,
        TABLEVAULT_LOG_LEVEL: 'warn',
      };
      const child = spawn(process.execPath, [CLI, 'backup', file], { env, stdio: 'ignore' });
      const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
      const deadline = Date.now() + 60_000;
      while (!proxy.requests.some((r) => r.method === 'PUT' && /partNumber=2/.test(r.query))) {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error('part 2 never started');
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      // part 2 is in flight (held by the proxy): kill the backup there
      child.kill('SIGKILL');
      const signal = await exited;
      const keysAfterKill = await listKeys(client, bucket);
      const uploadsAfterKill = target.supportsListMultipartUploads
        ? (await listMultipartUploads(client, bucket)).length
        : 0;

      proxy.setRules([]);
      const rerun = await backup(file, ['--json'], { ...s3EnvFor(target), AWS_ENDPOINT_URL: proxy.endpoint });
      const keysAfterRerun = await listKeys(client, bucket);
      const f = join(strategyFile(() => '').dir, 'o.parquet');
      writeFileSync(f, await getObjectBytes(client, bucket, 'b/public.tv_mpk/incr-00000000.parquet'));
      const ids = (await readParquetRows(f)).map((r) => Number(r.id));
      const uploadsAfterRerun = target.supportsListMultipartUploads
        ? (await listMultipartUploads(client, bucket)).length
        : 0;
      c = { signal, keysAfterKill, uploadsAfterKill, rerun, keysAfterRerun, ids, uploadsAfterRerun };
    } finally {
      await proxy.close();
    }
  });

  it('the backup dies by SIGKILL while part 2 is in flight', () => {
    expect(c.signal).toBe('SIGKILL');
  });

  it('the dead upload never shows as an object', () => {
    expect(c.keysAfterKill).toEqual([]);
  });

  it.runIf(target.supportsListMultipartUploads)('the kill did land mid-multipart: one upload is left open', () => {
    expect(c.uploadsAfterKill).toBe(1);
  });

  it('the rerun backs up every row in one object', () => {
    const s = jsonSummary<{ tables: Array<{ rows: number; files: number }> }>(c.rerun);
    expect(s.tables[0]).toMatchObject({ rows: 20000, files: 1 });
  });

  it('the rerun writes the same key from the same watermark, and the manifest', () => {
    expect(c.keysAfterRerun).toEqual(['b/public.tv_mpk/_manifest.json', 'b/public.tv_mpk/incr-00000000.parquet']);
  });

  it("the rerun's object holds every row once", () => {
    expect(new Set(c.ids).size).toBe(20000);
  });

  it.runIf(target.supportsListMultipartUploads)(
    "the killed run's upload is the only one left (a lifecycle rule removes it); the rerun's completed",
    () => {
      expect(c.uploadsAfterRerun).toBe(c.uploadsAfterKill);
    },
  );
});
