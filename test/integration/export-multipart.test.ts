import { createHash } from 'node:crypto';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { startFaultProxy, type FaultRequest, type FaultRule } from '../helpers/fault-proxy.js';
import { createBucket, getObjectBytes, listKeys, listMultipartUploads, makeS3Client, s3EnvFor, s3Targets } from '../helpers/s3.js';

/**
 * An object above the multipart threshold whose part fails (after the SDK's retries) must
 * abort its multipart upload and fail the export with exit code 1, leaving nothing that looks
 * like an export. Run against every S3 server the tests have (s3rver, and Ceph RGW in CI).
 */
beforeAll(async () => {
  // ~12 MiB of incompressible bytes, so the single Parquet object needs three 5 MiB parts
  await withPg((c) => c.query(`DROP TABLE IF EXISTS tv_big; CREATE TABLE tv_big (id int PRIMARY KEY, payload bytea);
    INSERT INTO tv_big SELECT g, decode(string_agg(md5(g::text || '-' || i::text), ''), 'hex')
    FROM generate_series(1, 12000) g, generate_series(1, 64) i GROUP BY g;`));
});

describe.each(s3Targets().map((t) => [t.name, t] as const))('export: multipart upload failure (%s)', (_name, target) => {
  const args = (bucket: string) => ['export', '--source', PG_URL, '--table', 'tv_big', '--dest', `s3://${bucket}/mp`,
    '--compression', 'none', '--multipart-threshold', '5MiB', '--part-size', '5MiB', '--part-concurrency', '2', '--file-max-rows', '100000'];

  it('a failing part aborts the upload, leaves no object, and exits 1; a clean rerun succeeds', async () => {
    const client = makeS3Client(target);
    const bucket = await createBucket(client);
    const proxy = await startFaultProxy(target.endpoint, [{
      match: (r) => r.method === 'PUT' && r.query.get('partNumber') === '2' && r.query.has('uploadId'),
      action: { kind: 'status', status: 500, code: 'InternalError' },
    }]);
    try {
      const failed = await runCli(args(bucket), { ...s3EnvFor(target), AWS_ENDPOINT_URL: proxy.endpoint });
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/tablevault: S3 upload mp\/public\.tv_big\/part-00000\.parquet failed/);
      const parts = proxy.requests.filter((r) => r.method === 'PUT' && /partNumber=2/.test(r.query));
      expect(parts.length).toBeGreaterThan(1); // retried before giving up
      const aborts = proxy.requests.filter((r) => r.method === 'DELETE' && /uploadId=/.test(r.query));
      expect(aborts).toHaveLength(1);
      if (target.name === 'rgw') expect(aborts[0]!.status).toBe(204);
      // s3rver answers AbortMultipartUpload with 405: the failure is still reported, with what to do about the parts
      else expect(failed.stderr).toMatch(/could not be aborted: .*AbortIncompleteMultipartUpload/);
      expect(await listKeys(client, bucket)).toEqual([]);
      if (target.supportsListMultipartUploads) expect(await listMultipartUploads(client, bucket)).toEqual([]);

      proxy.setRules([]);
      const ok = jsonSummary<{ rows: number; files: Array<{ key: string; bytes: number }> }>(
        await runCli([...args(bucket), '--json'], { ...s3EnvFor(target), AWS_ENDPOINT_URL: proxy.endpoint }),
      );
      expect(ok.rows).toBe(12000);
      expect(ok.files[0]!.bytes).toBeGreaterThan(10 * 1024 * 1024);
      expect(proxy.requests.some((r) => r.method === 'POST' && /uploads/.test(r.query) && r.status === 200)).toBe(true);
      expect(await listKeys(client, bucket)).toEqual(['mp/public.tv_big/_manifest.json', 'mp/public.tv_big/part-00000.parquet']);
      if (target.supportsListMultipartUploads) expect(await listMultipartUploads(client, bucket)).toEqual([]);
      // a multipart object carries the SHA-256 of its bytes in its metadata too
      const stored = await getObjectBytes(client, bucket, ok.files[0]!.key);
      const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: ok.files[0]!.key }));
      expect(head.Metadata?.['tablevault-sha256']).toBe(createHash('sha256').update(stored).digest('hex'));
      expect(head.ContentType).toBe('application/vnd.apache.parquet');
    } finally {
      await proxy.close();
    }
  });

  it.skipIf(!target.checksPartMd5)('a part whose bytes change on the way is refused by the server (Content-MD5; the payload is not signed): exit 1, nothing left', async () => {
    const client = makeS3Client(target);
    const bucket = await createBucket(client);
    const proxy = await startFaultProxy(target.endpoint, [{
      match: (r) => r.method === 'PUT' && r.query.get('partNumber') === '2' && r.query.has('uploadId'),
      action: { kind: 'corrupt', at: 1000 },
    }]);
    try {
      const failed = await runCli(args(bucket), { ...s3EnvFor(target), AWS_ENDPOINT_URL: proxy.endpoint });
      const part2 = proxy.requests.filter((r) => r.method === 'PUT' && /partNumber=2/.test(r.query));
      expect(part2.map((r) => r.status)).toEqual(part2.map(() => 400)); // BadDigest, every attempt
      expect(failed.code).toBe(1);
      expect(failed.stderr).toMatch(/BadDigest|Content-MD5/i);
      expect(await listKeys(client, bucket)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it.each([
    ['a SlowDown burst', { match: (r: FaultRequest) => r.method === 'PUT', action: { kind: 'status', status: 503, code: 'SlowDown' }, times: 3 }],
    ['dropped connections', { match: (r: FaultRequest) => r.method === 'PUT' && r.query.has('partNumber'), action: { kind: 'drop' }, times: 2 }],
    ['slow parts', { match: (r: FaultRequest) => r.method === 'PUT' && r.query.has('partNumber'), action: { kind: 'delay', ms: 400 } }],
  ] as Array<[string, FaultRule]>)('survives %s: the object is exact', async (_what, rule) => {
    const client = makeS3Client(target);
    const bucket = await createBucket(client);
    const proxy = await startFaultProxy(target.endpoint, [rule]);
    try {
      const ok = jsonSummary<{ rows: number; files: Array<{ key: string; bytes: number; sha256: string }> }>(
        await runCli([...args(bucket), '--json'], { ...s3EnvFor(target), AWS_ENDPOINT_URL: proxy.endpoint }),
      );
      expect(ok.rows).toBe(12000);
      const bytes = await getObjectBytes(client, bucket, ok.files[0]!.key);
      expect(bytes.length).toBe(ok.files[0]!.bytes);
      expect(createHash('sha256').update(bytes).digest('hex')).toBe(ok.files[0]!.sha256);
      expect(proxy.requests.some((r) => r.status >= 500 || r.status === 0)).toBe(rule.action.kind !== 'delay'); // the fault did happen (and was retried)
      if (target.supportsListMultipartUploads) expect(await listMultipartUploads(client, bucket)).toEqual([]);
    } finally {
      await proxy.close();
    }
  });

  it.runIf(target.name === 'rgw')('--sse aws:kms reaches every object, single-part and multipart', async () => {
    const client = makeS3Client(target);
    const bucket = await createBucket(client);
    const r = jsonSummary<{ files: Array<{ key: string }>; manifestKey: string }>(
      await runCli([...args(bucket), '--sse', 'aws:kms', '--sse-kms-key-id', 'testkey-1', '--json'], s3EnvFor(target)),
    );
    for (const key of [r.files[0]!.key, r.manifestKey]) {
      const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      expect([key, h.ServerSideEncryption, h.SSEKMSKeyId]).toEqual([key, 'aws:kms', 'testkey-1']);
    }
  });
});
