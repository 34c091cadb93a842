import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { startFaultProxy, type RecordedRequest } from '../helpers/fault-proxy.js';
import { createBucket, getObjectBytes, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

beforeAll(async () => {
  // 1 KiB a row: the row's MD5 then one shared 1,008-byte tail (exported with --compression none, so
  // stored as they are); 64 MD5s aggregated per row took 11.7 s of the file's 19 s to build
  await withPg((c) =>
    c.query(`DROP TABLE IF EXISTS tv_mem; CREATE TABLE tv_mem (id int PRIMARY KEY, payload bytea);
    INSERT INTO tv_mem SELECT g, decode(md5(g::text), 'hex') || tail.bytes FROM generate_series(1, 100000) g,
      (SELECT decode(string_agg(md5(i::text), ''), 'hex') AS bytes FROM generate_series(1, 63) i) tail;`),
  );
});

/**
 * A slow S3 (every part held 500 ms) and a memory limit the process is always above: the memory
 * manager logs, waits for the encoder and uploads to drain before reading on, halves the batch
 * size, and the export is still exact. ~100 MB of rows, stored uncompressed: more than every bounded
 * buffer of the pipeline together (~35 MB), so the reader cannot finish before the uploads catch up.
 */
type MemSummary = {
  rows: number;
  files: Array<{ key: string; sha256: string }>;
  memoryPressure: number;
  peakRssBytes: number;
  peakHeapBytes: number;
};

describe('memory manager: a slow S3 and a tight limit', () => {
  let r: CliResult;
  let requests: RecordedRequest[];
  let stored: Uint8Array | undefined;
  beforeAll(async () => {
    const target = s3Targets()[0]!;
    const client = makeS3Client(target);
    const bucket = await createBucket(client);
    const proxy = await startFaultProxy(target.endpoint, [
      { match: (q) => q.method === 'PUT' && q.query.has('partNumber'), action: { kind: 'delay', ms: 500 } },
    ]);
    try {
      r = await runCli(
        [
          'export',
          '--source',
          PG_URL,
          '--table',
          'tv_mem',
          '--dest',
          `s3://${bucket}/m`,
          '--compression',
          'none',
          '--batch-rows',
          '4000',
          '--row-group-rows',
          '4000',
          '--memory-limit',
          '64MiB',
          '--memory-check-every',
          '1',
          '--gc-every',
          '2',
          '--multipart-threshold',
          '5MiB',
          '--part-size',
          '5MiB',
          '--part-concurrency',
          '2',
          '--json',
        ],
        { ...s3EnvFor(target), AWS_ENDPOINT_URL: proxy.endpoint, TABLEVAULT_LOG_LEVEL: 'debug' },
      );
      requests = [...proxy.requests];
      const key = r.code === 0 ? (JSON.parse(r.stdout) as MemSummary).files[0]?.key : undefined;
      if (key) stored = await getObjectBytes(client, bucket, key);
    } finally {
      await proxy.close();
    }
  });
  const s = () => jsonSummary<MemSummary>(r);
  const pressureLogs = () =>
    r.stderr
      .split('\n')
      .filter((l) => l.includes('memory above the limit'))
      .map((l) => JSON.parse(l) as { batchRows: number; previousBatchRows: number });
  const batches = () =>
    r.stderr
      .split('\n')
      .filter((l) => l.includes('"batch read"'))
      .map((l) => JSON.parse(l) as { time: number; rows: number });
  const partsDone = () =>
    requests
      .filter((q) => q.method === 'PUT' && /partNumber=/.test(q.query) && q.status === 200)
      .map((q) => q.doneAt!)
      .sort((a, b) => a - b);

  it('exports every row', () => {
    expect(s().rows).toBe(100000);
  });

  it('reports memory pressure, logging each time', () => {
    expect(s().memoryPressure).toBeGreaterThan(0);
    expect(pressureLogs().length).toBe(s().memoryPressure);
  });

  it('halves the batch size under pressure', () => {
    expect(pressureLogs()[0]).toMatchObject({ previousBatchRows: 4000, batchRows: 2000 });
  });

  it('shrinks the batch no further than 1000 rows', () => {
    expect(pressureLogs().at(-1)!.batchRows).toBe(1000);
  });

  it('uploads all 20 parts and reads every row', () => {
    // the reader waited for the slow uploads: without backpressure all ~100 MB would be read in
    // a second or two, while 20 parts held 500 ms each, two at a time, take five
    expect(partsDone().length).toBe(20);
    expect(batches().at(-1)!.rows).toBe(100000);
  });

  it("reading runs ahead of what S3 has by no more than the pipeline's buffers", () => {
    // how far reading ran ahead of what S3 had: bounded by the pipeline's buffers, however long
    // the uploads take (encoded bytes pending 8 MB, batches in flight, a 4,000-row row group,
    // the parts in flight and the next one being filled: ~35 MB, ~35,000 of these ~1 KB rows);
    // without backpressure all 100,000 rows are read while at most 4 parts (~20,000 rows) are done
    const done = partsDone();
    const lead = batches().map((b) => b.rows - done.filter((t) => t <= b.time).length * 5000);
    expect(Math.max(...lead)).toBeLessThan(60_000);
  });

  it('reports the peak heap', () => {
    expect(s().peakHeapBytes).toBeGreaterThan(0);
  });

  it('the stored object is exact: its SHA-256 is the one reported', () => {
    expect(
      createHash('sha256')
        .update(stored ?? new Uint8Array())
        .digest('hex'),
    ).toBe(s().files[0]!.sha256);
  });
});
