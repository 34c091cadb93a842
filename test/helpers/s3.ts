/**
 * The S3 servers the tests run against, and small S3 helpers for assertions.
 *
 * - s3rver: always; started once per run by test/helpers/global-setup.ts.
 * - Ceph RADOS Gateway ('rgw'): when TABLEVAULT_TEST_RGW_ENDPOINT is set (.ci/run starts one). CI must
 *   exercise it: with CI set and no RGW endpoint, s3Targets() throws.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { inject } from 'vitest';

export type S3Target = {
  name: 's3rver' | 'rgw';
  endpoint: string;
  region: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** s3rver answers ListMultipartUploads with 501 NotImplemented */
  supportsListMultipartUploads: boolean;
  /** s3rver stores an UploadPart whose body does not match its Content-MD5; S3 and RGW refuse it (BadDigest) */
  checksPartMd5: boolean;
};

function s3rverEndpoint(): string {
  let endpoint: string | undefined;
  try {
    endpoint = inject('s3rverEndpoint');
  } catch {
    // not inside a vitest worker: fall back to the environment variable
  }
  endpoint ??= process.env.TABLEVAULT_TEST_S3RVER_ENDPOINT;
  if (!endpoint)
    throw new Error('no s3rver endpoint: run the tests through vitest (test/helpers/global-setup.ts starts it)');
  return endpoint;
}

/** Every S3 server to test against; the first is always s3rver. */
export function s3Targets(): S3Target[] {
  const targets: S3Target[] = [
    {
      name: 's3rver',
      endpoint: s3rverEndpoint(),
      region: 'us-east-1',
      accessKeyId: 'S3RVER',
      secretAccessKey: 'S3RVER',
      supportsListMultipartUploads: false,
      checksPartMd5: false,
    },
  ];
  const rgw = process.env.TABLEVAULT_TEST_RGW_ENDPOINT;
  if (rgw) {
    targets.push({
      name: 'rgw',
      endpoint: rgw,
      region: 'us-east-1',
      accessKeyId: process.env.TABLEVAULT_TEST_RGW_ACCESS_KEY || 'testkey',
      secretAccessKey: process.env.TABLEVAULT_TEST_RGW_SECRET_KEY || 'testsecret',
      supportsListMultipartUploads: true,
      checksPartMd5: true,
    });
  } else if (process.env.CI) {
    throw new Error('CI is set but TABLEVAULT_TEST_RGW_ENDPOINT is not: CI must test against Ceph RGW (see .ci/run)');
  }
  return targets;
}

export function makeS3Client(t: S3Target): S3Client {
  return new S3Client({
    endpoint: t.endpoint,
    region: t.region,
    credentials: { accessKeyId: t.accessKeyId, secretAccessKey: t.secretAccessKey },
    forcePathStyle: true,
    // no aws-chunked bodies / CRC trailers: RGW (Ceph 16) answers them 411, s3rver does not understand them
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
}

/** Creates a bucket (by default a fresh `tv-test-<random>`) and returns its name. */
export async function createBucket(client: S3Client, name?: string): Promise<string> {
  const bucket = name ?? `tv-test-${randomBytes(6).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

/** Every key in the bucket (under `prefix`), sorted. */
export async function listKeys(client: S3Client, bucket: string, prefix?: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of r.Contents ?? []) if (o.Key !== undefined) keys.push(o.Key);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

export async function getObjectBytes(client: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const r = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!r.Body) throw new Error(`GetObject ${bucket}/${key}: no body`);
  return r.Body.transformToByteArray();
}

/** Multipart uploads still open in the bucket (only where the target's supportsListMultipartUploads). */
export async function listMultipartUploads(
  client: S3Client,
  bucket: string,
): Promise<Array<{ Key: string; UploadId: string }>> {
  const out: Array<{ Key: string; UploadId: string }> = [];
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  for (;;) {
    const r = await client.send(
      new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
    );
    for (const u of r.Uploads ?? []) out.push({ Key: u.Key ?? '', UploadId: u.UploadId ?? '' });
    if (!r.IsTruncated || (r.NextKeyMarker === undefined && r.NextUploadIdMarker === undefined)) return out;
    keyMarker = r.NextKeyMarker;
    uploadIdMarker = r.NextUploadIdMarker;
  }
}

/** The environment a tablevault child process needs to reach target `t`. */
export function s3EnvFor(t: S3Target): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: t.accessKeyId,
    AWS_SECRET_ACCESS_KEY: t.secretAccessKey,
    AWS_REGION: t.region,
    AWS_ENDPOINT_URL: t.endpoint,
  };
}
