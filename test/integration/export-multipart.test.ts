import { createHash } from 'node:crypto';
import { HeadObjectCommand, type HeadObjectCommandOutput } from '@aws-sdk/client-s3';
import { beforeAll, describe, expect, it } from 'vitest';
import { jsonSummary, runCli, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { startFaultProxy, type FaultRequest, type FaultRule, type RecordedRequest } from '../helpers/fault-proxy.js';
import {
  createBucket,
  getObjectBytes,
  listKeys,
  listMultipartUploads,
  makeS3Client,
  s3EnvFor,
  s3Targets,
} from '../helpers/s3.js';

/**
 * An object above the multipart threshold whose part fails (after the SDK's retries) must
 * abort its multipart upload and fail the export with exit code 1, leaving nothing that looks
 * like an export. Run against every S3 server the tests have (s3rver, and Ceph RGW in CI).
 */
beforeAll(async () => {
  // ~12 MiB (1 KiB a row, exported with --compression none), so the single Parquet object needs three
  // 5 MiB parts; each row's MD5 then one shared 1,008-byte tail (64 MD5s per row took 10x as long to build)
  await withPg((c) =>
    c.query(`DROP TABLE IF EXISTS tv_big; CREATE TABLE tv_big (id int PRIMARY KEY, payload bytea);
    INSERT INTO tv_big SELECT g, decode(md5(g::text), 'hex') || tail.bytes FROM generate_series(1, 12000) g,
      (SELECT decode(string_agg(md5(i::text), ''), 'hex') AS bytes FROM generate_series(1, 63) i) tail;`),
  );
});

describe.each(s3Targets().map((t) => [t.name, t] as const))(
  'export: multipart upload failure (%s)',
  (_name, target) => {
    const args = (bucket: string) => [
      'export',
      '--source',
      PG_URL,
      '--table',
      'tv_big',
      '--dest',
      `s3://${bucket}/mp`,
      '--compression',
      'none',
      '--multipart-threshold',
      '5MiB',
      '--part-size',
      '5MiB',
      '--part-concurrency',
      '2',
      '--file-max-rows',
      '100000',
    ];

    describe('a failing part, then a clean rerun', () => {
      let failed: CliResult;
      let afterFail: RecordedRequest[];
      let keysAfterFail: string[];
      let uploadsAfterFail: unknown[] = [];
      let rerun: CliResult;
      let allRequests: RecordedRequest[];
      let keysAfterRerun: string[];
      let uploadsAfterRerun: unknown[] = [];
      let stored: Uint8Array | undefined;
      let head: HeadObjectCommandOutput | undefined;
      beforeAll(async () => {
        const client = makeS3Client(target);
        const bucket = await createBucket(client);
        const proxy = await startFaultProxy(target.endpoint, [
          {
            match: (r) => r.method === 'PUT' && r.query.get('partNumber') === '2' && r.query.has('uploadId'),
            action: { kind: 'status', status: 500, code: 'InternalError' },
          },
        ]);
        try {
          failed = await runCli(args(bucket), { ...s3EnvFor(target), AWS_ENDPOINT_URL: proxy.endpoint });
          afterFail = [...proxy.requests];
          keysAfterFail = await listKeys(client, bucket);
          if (target.supportsListMultipartUploads) uploadsAfterFail = await listMultipartUploads(client, bucket);

          proxy.setRules([]);
          rerun = await runCli([...args(bucket), '--json'], { ...s3EnvFor(target), AWS_ENDPOINT_URL: proxy.endpoint });
          allRequests = [...proxy.requests];
          keysAfterRerun = await listKeys(client, bucket);
          if (target.supportsListMultipartUploads) uploadsAfterRerun = await listMultipartUploads(client, bucket);
          const key = rerun.code === 0 ? (JSON.parse(rerun.stdout) as Ok).files[0]?.key : undefined;
          if (key) {
            stored = await getObjectBytes(client, bucket, key);
            head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
          }
        } finally {
          await proxy.close();
        }
      });
      type Ok = { rows: number; files: Array<{ key: string; bytes: number }> };

      it('the export fails with exit 1, naming the object', () => {
        expect(failed.code).toBe(1);
        expect(failed.stderr).toMatch(/tablevault: S3 upload mp\/public\.tv_big\/part-00000\.parquet failed/);
      });

      it('the failing part is retried before giving up', () => {
        const parts = afterFail.filter((r) => r.method === 'PUT' && /partNumber=2/.test(r.query));
        expect(parts.length).toBeGreaterThan(1); // retried before giving up
      });

      it('the multipart upload is aborted once', () => {
        const aborts = afterFail.filter((r) => r.method === 'DELETE' && /uploadId=/.test(r.query));
        expect(aborts).toHaveLength(1);
        if (target.name === 'rgw') expect(aborts[0]!.status).toBe(204);
        // s3rver answers AbortMultipartUpload with 405: the failure is still reported, with what to do about the parts
        else expect(failed.stderr).toMatch(/could not be aborted: .*AbortIncompleteMultipartUpload/);
      });

      it('the failed export leaves no object', () => {
        expect(keysAfterFail).toEqual([]);
      });

      it.runIf(target.supportsListMultipartUploads)('the failed export leaves no multipart upload', () => {
        expect(uploadsAfterFail).toEqual([]);
      });

      it('a clean rerun exports every row as one multipart object', () => {
        const ok = jsonSummary<Ok>(rerun);
        expect(ok.rows).toBe(12000);
        expect(ok.files[0]!.bytes).toBeGreaterThan(10 * 1024 * 1024);
        expect(allRequests.some((r) => r.method === 'POST' && /uploads/.test(r.query) && r.status === 200)).toBe(true);
      });

      it('after the rerun the object and the manifest exist', () => {
        expect(keysAfterRerun).toEqual(['mp/public.tv_big/_manifest.json', 'mp/public.tv_big/part-00000.parquet']);
      });

      it.runIf(target.supportsListMultipartUploads)('after the rerun no multipart upload is left', () => {
        expect(uploadsAfterRerun).toEqual([]);
      });

      it('a multipart object carries the SHA-256 of its bytes in its metadata too', () => {
        expect(head?.Metadata?.['tablevault-sha256']).toBe(
          createHash('sha256')
            .update(stored ?? new Uint8Array())
            .digest('hex'),
        );
      });

      it('a multipart object is stored as Parquet', () => {
        expect(head?.ContentType).toBe('application/vnd.apache.parquet');
      });
    });

    it.skipIf(!target.checksPartMd5)(
      'a part whose bytes change on the way is refused by the server (Content-MD5; the payload is not signed): exit 1, nothing left',
      async () => {
        const client = makeS3Client(target);
        const bucket = await createBucket(client);
        const proxy = await startFaultProxy(target.endpoint, [
          {
            match: (r) => r.method === 'PUT' && r.query.get('partNumber') === '2' && r.query.has('uploadId'),
            action: { kind: 'corrupt', at: 1000 },
          },
        ]);
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
      },
    );

    it.each([
      [
        'a SlowDown burst',
        {
          match: (r: FaultRequest) => r.method === 'PUT',
          action: { kind: 'status', status: 503, code: 'SlowDown' },
          times: 3,
        },
      ],
      [
        'dropped connections',
        {
          match: (r: FaultRequest) => r.method === 'PUT' && r.query.has('partNumber'),
          action: { kind: 'drop' },
          times: 2,
        },
      ],
      [
        'slow parts',
        {
          match: (r: FaultRequest) => r.method === 'PUT' && r.query.has('partNumber'),
          action: { kind: 'delay', ms: 400 },
        },
      ],
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

    it('a part the server never answers is given up after TABLEVAULT_S3_IDLE_TIMEOUT_MS and sent again: the object is exact', async () => {
      const client = makeS3Client(target);
      const bucket = await createBucket(client);
      const isPart2 = (r: { method: string; query: URLSearchParams }) =>
        r.method === 'PUT' && r.query.get('partNumber') === '2' && r.query.has('uploadId');
      // held far longer than the test runs: only the timeout gets the export past it
      const proxy = await startFaultProxy(target.endpoint, [
        { match: isPart2, action: { kind: 'delay', ms: 600_000 }, times: 1 },
      ]);
      try {
        const r = await runCli([...args(bucket), '--json'], {
          ...s3EnvFor(target),
          AWS_ENDPOINT_URL: proxy.endpoint,
          TABLEVAULT_S3_IDLE_TIMEOUT_MS: '1500',
        });
        expect(r.code, r.stderr).toBe(0);
        const ok = jsonSummary<{ files: Array<{ key: string; bytes: number; sha256: string }> }>(r);
        const bytes = await getObjectBytes(client, bucket, ok.files[0]!.key);
        expect(createHash('sha256').update(bytes).digest('hex')).toBe(ok.files[0]!.sha256);
        const part2 = proxy.requests.filter((x) => x.method === 'PUT' && /partNumber=2&/.test(`${x.query}&`));
        expect(part2.length).toBe(2);
      } finally {
        await proxy.close();
      }
    });

    it('TABLEVAULT_S3_IDLE_TIMEOUT_MS that is not a whole number of milliseconds: exit 2, one line saying so', async () => {
      const client = makeS3Client(target);
      const bucket = await createBucket(client);
      const r = await runCli(args(bucket), { ...s3EnvFor(target), TABLEVAULT_S3_IDLE_TIMEOUT_MS: '2m' });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toMatch(
        /^tablevault: TABLEVAULT_S3_IDLE_TIMEOUT_MS must be a whole number of milliseconds/,
      );
      expect(await listKeys(client, bucket)).toEqual([]);
    });

    it.runIf(target.name === 'rgw')('--sse aws:kms reaches every object, single-part and multipart', async () => {
      const client = makeS3Client(target);
      const bucket = await createBucket(client);
      const r = jsonSummary<{ files: Array<{ key: string }>; manifestKey: string }>(
        await runCli(
          [...args(bucket), '--sse', 'aws:kms', '--sse-kms-key-id', 'testkey-1', '--json'],
          s3EnvFor(target),
        ),
      );
      for (const key of [r.files[0]!.key, r.manifestKey]) {
        const h = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        expect([key, h.ServerSideEncryption, h.SSEKMSKeyId]).toEqual([key, 'aws:kms', 'testkey-1']);
      }
    });
  },
);
