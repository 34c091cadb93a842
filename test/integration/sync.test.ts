import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { resetState } from '../helpers/backup.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import { PG_URL, withPg } from '../helpers/db.js';
import { startS3rverProcess, type S3rverProcess } from '../helpers/s3rver-process.js';
import {
  createBucket,
  getObjectBytes,
  listKeys,
  listMultipartUploads,
  makeS3Client,
  s3EnvFor,
  s3Targets,
  type S3Target,
} from '../helpers/s3.js';

interface Summary {
  listed: { source: number; dest: number };
  toCopy: number;
  copied: { serverSide: number; streamed: number };
  skipped: number;
  deleted: number;
  failed: number;
  bytes: number;
  compared: { checksum: number; etag: number; size: number };
  keptBySizeOnly: number;
  abortedUploads: number;
  requestsPerCopiedObject: number;
  fallback?: string;
  failures: Array<{ key: string; error: string }>;
}

function summary(r: CliResult): Summary {
  if (r.code !== 0) throw new Error(`sync exited ${r.code}:\n${r.stderr}\n${r.stdout}`);
  return JSON.parse(r.stdout) as Summary;
}

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function putMany(
  client: S3Client,
  bucket: string,
  objects: Array<{ key: string; body: Uint8Array; meta?: Record<string, string>; contentType?: string }>,
): Promise<void> {
  let i = 0;
  const worker = async () => {
    while (i < objects.length) {
      const o = objects[i++]!;
      await client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: o.key,
          Body: o.body,
          ContentType: o.contentType,
          Metadata: o.meta,
        }),
      );
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
}

/** A multipart object (ETag "…-N"), with or without tablevault's SHA-256 in its metadata. */
async function putMultipart(
  client: S3Client,
  bucket: string,
  key: string,
  body: Buffer,
  withSha: boolean,
): Promise<void> {
  const { UploadId } = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: key,
      ContentType: 'application/x-test',
      Metadata: withSha ? { 'tablevault-sha256': sha(body), origin: 'test' } : { origin: 'test' },
    }),
  );
  const parts = [];
  for (let n = 1, at = 0; at < body.length; n++, at += 8 * MiB) {
    const r = await client.send(
      new UploadPartCommand({
        Bucket: bucket,
        Key: key,
        UploadId,
        PartNumber: n,
        Body: body.subarray(at, at + 8 * MiB),
      }),
    );
    parts.push({ PartNumber: n, ETag: r.ETag });
  }
  await client.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
}

interface Side {
  client: S3Client;
  bucket: string;
  prefix: string;
}

/** The keys under each side's prefix (relative to it) and each object's SHA-256, taken at one moment of a scenario. */
interface MirrorState {
  keysA: string[];
  keysB: string[];
  shaA: Map<string, string | undefined>;
  shaB: Map<string, string>;
}

/** Each object's SHA-256, read 32 at a time. */
async function shas(side: Side, keys: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let i = 0;
  const worker = async () => {
    while (i < keys.length) {
      const k = keys[i++]!;
      out.set(k, sha(await getObjectBytes(side.client, side.bucket, `${side.prefix}/${k}`)));
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  return out;
}

/** The SHA-256 of the objects a test put, by key relative to `prefix` (what mirrorState's `putA` takes). */
function putShas(prefix: string, objects: Array<{ key: string; body: Uint8Array }>): Map<string, string> {
  return new Map(objects.map((o) => [o.key.slice(prefix.length + 1), sha(o.body)]));
}

/**
 * Both sides' keys, and the bytes' SHA-256 of each of side A's keys and of side B's keys that A has.
 * With `putA`, A's SHA-256 are those of the bytes the test put there (by relative key; a key A lists
 * that the test did not put has none), instead of reading every object of A back: half the GETs.
 */
async function mirrorState(a: Side, b: Side, putA?: Map<string, string>): Promise<MirrorState> {
  const keysA = (await listKeys(a.client, a.bucket, `${a.prefix}/`)).map((k) => k.slice(a.prefix.length + 1));
  const keysB = (await listKeys(b.client, b.bucket, `${b.prefix}/`)).map((k) => k.slice(b.prefix.length + 1));
  return {
    keysA,
    keysB,
    shaA: putA ? new Map(keysA.map((k) => [k, putA.get(k)])) : await shas(a, keysA),
    shaB: await shas(
      b,
      keysA.filter((k) => keysB.includes(k)),
    ),
  };
}

/** Every object under the prefixes had the same bytes on both sides (and only those keys existed). */
function expectMirrored(m: MirrorState): void {
  expect(m.keysB).toEqual(m.keysA);
  for (const k of m.keysA) expect(m.shaB.get(k), k).toBe(m.shaA.get(k));
}

describe.each(s3Targets().map((t) => [t.name, t] as const))('sync (%s)', (_name, target) => {
  const client = makeS3Client(target);
  const env = s3EnvFor(target);
  const sync = (args: string[], extra: Record<string, string> = {}) =>
    runCli(['sync', ...args, '--json'], { ...env, ...extra });
  // three parts of 8 MiB (the last 5 bytes), above --copy-object-max 16MiB below
  const big = randomBytes(16 * MiB + 5);
  const bigPlain = randomBytes(16 * MiB + 123);

  /** 1,003 objects mirrored; rerun; one object changed; two deleted in the source; then sync without and with --delete. */
  describe('mirroring a prefix, then keeping it in step', () => {
    let smallBytes = 0;
    let first: CliResult;
    let firstMirror: MirrorState;
    let meta: HeadObjectCommandOutput;
    let bigHead: HeadObjectCommandOutput;
    let second: CliResult;
    let third: CliResult;
    let thirdMirror: MirrorState;
    let kept: CliResult;
    let fourth: CliResult;
    let fourthMirror: MirrorState;
    let other: string[];
    beforeAll(async () => {
      const src = await createBucket(client);
      const dst = await createBucket(client);
      const small = Array.from({ length: 1000 }, (_, i) => ({
        key: `nightly/t${i % 10}/obj-${String(i).padStart(4, '0')}.bin`,
        body: randomBytes(512 + (i % 7) * 300),
      }));
      smallBytes = small.reduce((n, o) => n + o.body.length, 0);
      const metaJson = {
        key: 'nightly/meta.json',
        body: Buffer.from('{"a":1}'),
        contentType: 'application/json',
        meta: { owner: 'ops' },
      };
      await putMany(client, src, [...small, metaJson]);
      await putMultipart(client, src, 'nightly/big/with-sha.parquet', big, true);
      await putMultipart(client, src, 'nightly/big/plain.bin', bigPlain, false);
      // what the source holds, kept in step with the changes below
      const put = putShas('nightly', [
        ...small,
        metaJson,
        { key: 'nightly/big/with-sha.parquet', body: big },
        { key: 'nightly/big/plain.bin', body: bigPlain },
      ]);
      const rel = (key: string) => key.slice('nightly/'.length);
      const sides = [
        { client, bucket: src, prefix: 'nightly' },
        { client, bucket: dst, prefix: 'archive' },
      ] as const;
      const args = [`s3://${src}/nightly`, `s3://${dst}/archive`];

      first = await sync(args);
      firstMirror = await mirrorState(...sides, put);
      meta = await client.send(new HeadObjectCommand({ Bucket: dst, Key: 'archive/meta.json' }));
      bigHead = await client.send(new HeadObjectCommand({ Bucket: dst, Key: 'archive/big/with-sha.parquet' }));
      second = await sync(args);
      // same size, different bytes
      const changed = randomBytes(small[17]!.body.length);
      await client.send(new PutObjectCommand({ Bucket: src, Key: small[17]!.key, Body: changed }));
      put.set(rel(small[17]!.key), sha(changed));
      third = await sync(args);
      thirdMirror = await mirrorState(...sides, put);
      await client.send(new DeleteObjectCommand({ Bucket: src, Key: small[3]!.key }));
      await client.send(new DeleteObjectCommand({ Bucket: src, Key: small[500]!.key }));
      put.delete(rel(small[3]!.key));
      put.delete(rel(small[500]!.key));
      await client.send(new PutObjectCommand({ Bucket: dst, Key: 'archive-other/keep.bin', Body: Buffer.from('x') }));
      kept = await sync(args);
      fourth = await sync([...args, '--delete']);
      fourthMirror = await mirrorState(...sides, put);
      other = await listKeys(client, dst, 'archive-other/');
    });

    it('lists every source object and an empty destination', () => {
      expect(summary(first).listed).toEqual({ source: 1003, dest: 0 });
    });

    it('copies all 1,003 objects, none failing', () => {
      const s = summary(first);
      expect(s.copied.serverSide + s.copied.streamed).toBe(1003);
      expect(s.failed).toBe(0);
    });

    it('counts the bytes of every object copied', () => {
      expect(summary(first).bytes).toBe(smallBytes + 7 + big.length + bigPlain.length);
    });

    it('the destination then holds the same keys and bytes as the source', () => {
      expectMirrored(firstMirror);
    });

    it('metadata and content type travel with the bytes', () => {
      expect(meta.ContentType).toBe('application/json');
      expect(meta.Metadata?.owner).toBe('ops');
    });

    it('the stored SHA-256 travels with a multipart object', () => {
      expect(bigHead.Metadata?.['tablevault-sha256']).toBe(sha(big));
    });

    it('a rerun copies nothing and skips every object', () => {
      const s = summary(second);
      expect(s.toCopy).toBe(0);
      expect(s.skipped).toBe(1003);
    });

    it('a rerun compares single-part objects by ETag, the tablevault multipart object by SHA-256, the other multipart one by size alone (and says so)', () => {
      const s = summary(second);
      // (s3rver's multipart ETags are the MD5 of the whole object, without the "-N" suffix: every object compares by ETag there)
      expect(s.compared).toEqual(
        target.name === 's3rver' ? { checksum: 0, etag: 1003, size: 0 } : { checksum: 1, etag: 1001, size: 1 },
      );
      expect(s.keptBySizeOnly).toBe(target.name === 's3rver' ? 0 : 1);
    });

    it('an object changed to other bytes of the same size is the only one copied', () => {
      const s = summary(third);
      expect(s.toCopy).toBe(1);
      expect(s.copied.serverSide + s.copied.streamed).toBe(1);
    });

    it('after the changed object is copied the prefixes are mirrored again', () => {
      expectMirrored(thirdMirror);
    });

    it('without --delete, objects the source lacks are kept', () => {
      expect(summary(kept).deleted).toBe(0);
    });

    it('--delete removes exactly the objects the source lacks and copies nothing', () => {
      const s = summary(fourth);
      expect(s.deleted).toBe(2);
      expect(s.toCopy).toBe(0);
    });

    it('after --delete the prefixes are mirrored', () => {
      expectMirrored(fourthMirror);
    });

    it('--delete touches nothing outside the destination prefix', () => {
      expect(other).toEqual(['archive-other/keep.bin']);
    });
  });

  describe('copy modes on one endpoint', () => {
    let server: CliResult;
    let serverMirror: MirrorState;
    let serverBigHead: HeadObjectCommandOutput;
    let serverUploads: unknown[] = [];
    let streamed: CliResult;
    let streamedMirror: MirrorState;
    let streamedHead: HeadObjectCommandOutput;
    beforeAll(async () => {
      const src = await createBucket(client);
      const small = Array.from({ length: 20 }, (_, i) => ({ key: `p/s-${i}.bin`, body: randomBytes(4096) }));
      await putMany(client, src, small);
      await putMultipart(client, src, 'p/big.parquet', big, true);
      const put = putShas('p', [...small, { key: 'p/big.parquet', body: big }]);

      const dst1 = await createBucket(client);
      server = await sync([`s3://${src}/p`, `s3://${dst1}/p`, '--copy-object-max', '16MiB', '--part-size', '8MiB']);
      serverMirror = await mirrorState(
        { client, bucket: src, prefix: 'p' },
        { client, bucket: dst1, prefix: 'p' },
        put,
      );
      serverBigHead = await client.send(new HeadObjectCommand({ Bucket: dst1, Key: 'p/big.parquet' }));
      if (target.supportsListMultipartUploads) serverUploads = await listMultipartUploads(client, dst1);

      const dst2 = await createBucket(client);
      streamed = await sync([
        `s3://${src}/p`,
        `s3://${dst2}/p`,
        '--copy-mode',
        'streamed',
        '--part-size',
        '8MiB',
        '--multipart-threshold',
        '8MiB',
      ]);
      streamedMirror = await mirrorState(
        { client, bucket: src, prefix: 'p' },
        { client, bucket: dst2, prefix: 'p' },
        put,
      );
      streamedHead = await client.send(new HeadObjectCommand({ Bucket: dst2, Key: 'p/big.parquet' }));
    });

    it('a server-side sync fails no object', () => {
      expect(summary(server).failed).toBe(0);
    });

    it(
      target.name === 'rgw'
        ? 'copies server-side: CopyObject for the small objects, UploadPartCopy above --copy-object-max'
        : 'copies small objects with CopyObject and streams the large one where the store answers NotImplemented to UploadPartCopy',
      () => {
        const s = summary(server);
        if (target.name === 'rgw') {
          // CopyObject for the small ones, three UploadPartCopy parts for the large one
          expect(s.copied).toEqual({ serverSide: 21, streamed: 0 });
          expect(s.fallback).toBeUndefined();
        } else {
          // s3rver does CopyObject but answers NotImplemented to UploadPartCopy: the large object is streamed instead
          expect(s.copied).toEqual({ serverSide: 20, streamed: 1 });
          expect(s.fallback).toMatch(/UploadPartCopy/);
        }
      },
    );

    it('a server-side sync leaves the prefixes mirrored', () => {
      expectMirrored(serverMirror);
    });

    it('a server-side copy keeps the SHA-256 in the metadata', () => {
      expect(serverBigHead.Metadata?.['tablevault-sha256']).toBe(sha(big));
    });

    it.runIf(target.supportsListMultipartUploads)('a server-side sync leaves no multipart upload behind', () => {
      expect(serverUploads).toEqual([]);
    });

    it('--copy-mode streamed streams every object', () => {
      expect(summary(streamed).copied).toEqual({ serverSide: 0, streamed: 21 });
    });

    it('a streamed copy makes GET + PUT per small object and ranged GET + UploadPart per part of the large one', () => {
      // 20 × (GET + PUT) + (HEAD + create + 3 × (ranged GET + UploadPart) + complete + HEAD)
      expect(summary(streamed).requestsPerCopiedObject).toBeCloseTo((20 * 2 + 4 + 3 * 2) / 21, 2);
    });

    it('a streamed sync leaves the prefixes mirrored', () => {
      expectMirrored(streamedMirror);
    });

    it('a streamed copy keeps the content type and the metadata', () => {
      expect(streamedHead.ContentType).toBe('application/x-test');
      expect(streamedHead.Metadata).toMatchObject({ 'tablevault-sha256': sha(big), origin: 'test' });
    });
  });

  describe('--include/--exclude and --dry-run', () => {
    let dry: CliResult;
    let afterDry: string[];
    let real: CliResult;
    let afterReal: string[];
    beforeAll(async () => {
      const src = await createBucket(client);
      const dst = await createBucket(client);
      await putMany(
        client,
        src,
        ['a/x.parquet', 'a/_manifest.json', 'b/y.parquet', 'b/tmp/z.parquet', 'c.txt'].map((key) => ({
          key: `pre/${key}`,
          body: Buffer.from(key),
        })),
      );
      await putMany(client, dst, [
        { key: 'pre/stale.parquet', body: Buffer.from('old') },
        { key: 'pre/c.txt.bak', body: Buffer.from('keep') },
      ]);
      const args = [
        `s3://${src}/pre`,
        `s3://${dst}/pre`,
        '--include',
        '**/*.parquet',
        '--exclude',
        '**/tmp/**',
        '--delete',
      ];
      dry = await sync([...args, '--dry-run']);
      afterDry = await listKeys(client, dst);
      real = await sync(args);
      afterReal = await listKeys(client, dst);
    });

    const planLines = () =>
      dry.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type?: string; action?: string; key?: string });

    it('--dry-run exits 0', () => {
      expect(dry.code).toBe(0);
    });

    it('--dry-run lists the copies and deletions the globs select', () => {
      expect(
        planLines()
          .filter((l) => l.action)
          .map((l) => `${l.action} ${l.key}`),
      ).toEqual(['copy a/x.parquet', 'copy b/y.parquet', 'delete stale.parquet']);
    });

    it('--dry-run ends with a summary of the plan', () => {
      expect(planLines().at(-1)).toMatchObject({ type: 'summary', dryRun: true, toCopy: 2, deleted: 1 });
    });

    it('--dry-run changes nothing in the destination', () => {
      expect(afterDry).toEqual(['pre/c.txt.bak', 'pre/stale.parquet']);
    });

    it('the real run copies only the selected keys', () => {
      const s = summary(real);
      expect(s.copied.serverSide + s.copied.streamed).toBe(2);
    });

    it('the real run deletes only selected keys the source lacks', () => {
      expect(afterReal).toEqual(['pre/a/x.parquet', 'pre/b/y.parquet', 'pre/c.txt.bak']);
    });
  });

  describe('a run killed in the middle of a multipart copy', () => {
    let killed: CliResult;
    let afterKill: string[];
    let uploadsAfterKill: unknown[] = [];
    let rerun: CliResult;
    let uploadsAfterRerun: unknown[] = [];
    let mirror: MirrorState;
    beforeAll(async () => {
      const src = await createBucket(client);
      const dst = await createBucket(client);
      const small = Array.from({ length: 5 }, (_, i) => ({ key: `k/a-${i}.bin`, body: randomBytes(2048) }));
      await putMany(client, src, small);
      await putMultipart(client, src, 'k/z-big.bin', bigPlain, false);
      const put = putShas('k', [...small, { key: 'k/z-big.bin', body: bigPlain }]);
      const args = [
        `s3://${src}/k`,
        `s3://${dst}/k`,
        '--copy-mode',
        'streamed',
        '--part-size',
        '8MiB',
        '--multipart-threshold',
        '8MiB',
        '--concurrency',
        '1',
        '--part-concurrency',
        '1',
      ];
      killed = await sync(args, { TABLEVAULT_TEST_KILL_AT: 'sync-part:2' });
      afterKill = await listKeys(client, dst);
      if (target.supportsListMultipartUploads) uploadsAfterKill = await listMultipartUploads(client, dst);
      rerun = await sync(args);
      if (target.supportsListMultipartUploads) uploadsAfterRerun = await listMultipartUploads(client, dst);
      mirror = await mirrorState({ client, bucket: src, prefix: 'k' }, { client, bucket: dst, prefix: 'k' }, put);
    });

    it('dies by SIGKILL at the second part', () => {
      expect(killed.signal).toBe('SIGKILL');
    });

    it('leaves nothing that looks complete: only the small objects already copied', () => {
      expect(afterKill).toEqual(['k/a-0.bin', 'k/a-1.bin', 'k/a-2.bin', 'k/a-3.bin', 'k/a-4.bin']);
    });

    it.runIf(target.supportsListMultipartUploads)('leaves its multipart upload open', () => {
      expect(uploadsAfterKill).toHaveLength(1);
    });

    it('the next run copies only what is missing', () => {
      const s = summary(rerun);
      expect(s.copied).toEqual({ serverSide: 0, streamed: 1 });
      expect(s.skipped).toBe(5);
    });

    it.runIf(target.supportsListMultipartUploads)('the next run aborts the dead multipart upload', () => {
      expect(summary(rerun).abortedUploads).toBe(1);
      expect(uploadsAfterRerun).toEqual([]);
    });

    it('after the next run the prefixes are mirrored', () => {
      expectMirrored(mirror);
    });
  });

  describe('bad input exits 2 with what to fix, before writing anything', () => {
    let src: string;
    beforeAll(async () => {
      src = await createBucket(client);
      await putMany(client, src, [{ key: 'a/one.bin', body: Buffer.from('1') }]);
    });

    it('refuses the same location as source and destination', async () => {
      const same = await sync([`s3://${src}/a`, `s3://${src}/a/`]);
      expect(same.code).toBe(2);
      expect(same.stderr).toMatch(/same location/);
    });

    it('refuses a destination inside the source', async () => {
      const overlap = await sync([`s3://${src}/a`, `s3://${src}/a/copy`]);
      expect(overlap.code).toBe(2);
      expect(overlap.stderr).toMatch(/overlap/);
    });

    it('names a destination bucket that does not exist', async () => {
      const missing = await sync([`s3://${src}/a`, 's3://tv-no-such-bucket-here/a']);
      expect(missing.code).toBe(2);
      expect(missing.stderr).toMatch(/bucket "tv-no-such-bucket-here" does not exist.*fix the destination/);
    });

    it('says the credentials were rejected, without printing the secret', async () => {
      const denied = await sync([`s3://${src}/a`, `s3://${src}/b`], {
        AWS_ACCESS_KEY_ID: 'NOSUCHKEY',
        AWS_SECRET_ACCESS_KEY: 'wrong-secret',
      });
      expect(denied.code).toBe(2);
      expect(denied.stderr).toMatch(/rejected the credentials|denied access/);
      expect(denied.stderr).not.toContain('wrong-secret');
    });

    it('none of the refused runs wrote anything', async () => {
      expect(await listKeys(client, src)).toEqual(['a/one.bin']);
    });
  });
});

/** `mirror:` in a strategy: each table's new objects follow it to the archive after a successful run, the manifest last. */
describe.each(s3Targets().map((t) => [t.name, t] as const))('backup with mirror: (%s)', (_name, target) => {
  const client = makeS3Client(target);
  type Mirrors = { tables: Array<{ status: string; mirrors: Array<{ copied: number; failed: number }> }> };
  let first: CliResult;
  let firstMirror: MirrorState;
  let second: CliResult;
  let secondMirror: MirrorState;
  let manifestFiles: unknown[];
  let bad: CliResult;
  let missing: CliResult;
  let freshKeys: string[];
  beforeAll(async () => {
    const primary = await createBucket(client);
    const archive = await createBucket(client);
    await withPg((c) =>
      c.query(`DROP TABLE IF EXISTS tv_mirror; CREATE TABLE tv_mirror (id int PRIMARY KEY, v text, at timestamptz NOT NULL);
      INSERT INTO tv_mirror SELECT g, 'v' || g, timestamptz '2024-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(1, 500) g;`),
    );
    await resetState('pg');
    const dir = await mkdtemp(join(tmpdir(), 'tv-mirror-'));
    const file = join(dir, 'strategy.yaml');
    const tables = `tables:\n  - table: tv_mirror\n    strategy: incremental\n    cursor: at\n`;
    const sides = [
      { client, bucket: primary, prefix: 'nightly/public.tv_mirror' },
      { client, bucket: archive, prefix: 'copy/public.tv_mirror' },
    ] as const;
    await writeFile(
      file,
      `source: ${PG_URL}\ndestination: s3://${primary}/nightly\n${tables}mirror:\n  - dest: s3://${archive}/copy\n`,
    );
    first = await runCli(['backup', file, '--json'], s3EnvFor(target));
    firstMirror = await mirrorState(...sides);

    await withPg((c) =>
      c.query(
        `INSERT INTO tv_mirror SELECT g, 'v' || g, timestamptz '2025-01-01 00:00:00+00' + g * interval '1 minute' FROM generate_series(501, 600) g`,
      ),
    );
    second = await runCli(['backup', file, '--json'], s3EnvFor(target));
    secondMirror = await mirrorState(...sides);
    manifestFiles = (
      JSON.parse(
        Buffer.from(await getObjectBytes(client, archive, 'copy/public.tv_mirror/_manifest.json')).toString(),
      ) as { files: unknown[] }
    ).files;

    await writeFile(
      file,
      `source: ${PG_URL}\ndestination: s3://${primary}/nightly\n${tables}mirror:\n  - dest: s3://${primary}/nightly/inside\n`,
    );
    bad = await runCli(['backup', file], s3EnvFor(target));
    // a mirror bucket that does not exist stops the run before any table is read
    const fresh = await createBucket(client);
    await writeFile(
      file,
      `source: ${PG_URL}\ndestination: s3://${fresh}/nightly\n${tables}mirror:\n  - dest: s3://tv-no-such-archive/copy\n`,
    );
    missing = await runCli(['backup', file], s3EnvFor(target));
    freshKeys = await listKeys(client, fresh);
    await rm(dir, { recursive: true, force: true });
  });

  it('the first backup mirrors its object and the manifest', () => {
    expect(first.code, first.stderr).toBe(0);
    const s1 = JSON.parse(first.stdout) as Mirrors;
    expect(s1.tables[0]!.mirrors).toEqual([expect.objectContaining({ copied: 2, failed: 0 })]); // incr-00000001 and the manifest
  });

  it("after the first backup the archive mirrors the table's prefix", () => {
    expectMirrored(firstMirror);
  });

  it('the next backup mirrors only its new object and the new manifest', () => {
    const s2 = JSON.parse(second.stdout) as Mirrors;
    expect(s2.tables[0]!.mirrors).toEqual([expect.objectContaining({ copied: 2, skipped: 1, failed: 0 })]); // the new object and the new manifest
  });

  it("after the next backup the archive mirrors the table's prefix", () => {
    expectMirrored(secondMirror);
  });

  it("the mirrored manifest lists both runs' objects", () => {
    expect(manifestFiles).toHaveLength(2);
  });

  it('a mirror inside the destination is a strategy error (exit 2)', () => {
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/mirror\[0\]\.dest: .*overlap/);
  });

  it('a mirror bucket that does not exist stops the run before any table is read', () => {
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/bucket "tv-no-such-archive" does not exist.*mirror\[0\]\.dest/);
    expect(freshKeys).toEqual([]);
  });
});

/** Across endpoints, each side with its own credentials profile: streamed copies, no local disk. */
describe('sync across endpoints', () => {
  let other: S3rverProcess;
  let otherDir: string;
  let target2: S3Target;
  let credDir: string;
  beforeAll(async () => {
    otherDir = await mkdtemp(join(tmpdir(), 'tablevault-s3rver-2-'));
    other = await startS3rverProcess(otherDir);
    target2 = { ...s3Targets()[0]!, endpoint: other.endpoint };
    credDir = await mkdtemp(join(tmpdir(), 'tablevault-creds-'));
  });
  afterAll(async () => {
    await other?.stop();
    await rm(otherDir, { recursive: true, force: true });
    await rm(credDir, { recursive: true, force: true });
  });

  const pairs = () => {
    const [s3rver, rgw] = s3Targets();
    return [
      ['s3rver → another s3rver', s3rver!, () => target2] as const,
      ...(rgw ? [['s3rver → rgw', s3rver!, () => rgw] as const] : []),
    ];
  };

  describe.each(pairs())('%s', (_name, from, toFn) => {
    let to: S3Target;
    let first: CliResult;
    let mirror: MirrorState;
    let largeHead: HeadObjectCommandOutput;
    let again: CliResult;
    beforeAll(async () => {
      to = toFn();
      const a = makeS3Client(from);
      const b = makeS3Client(to);
      const src = await createBucket(a);
      const dst = await createBucket(b);
      const small = Array.from({ length: 30 }, (_, i) => ({ key: `x/${i}.bin`, body: randomBytes(1000 + i) }));
      const large = randomBytes(20 * MiB + 5);
      await putMany(a, src, small);
      await putMultipart(a, src, 'x/large.parquet', large, true);
      const put = putShas('x', [...small, { key: 'x/large.parquet', body: large }]);
      const creds = join(credDir, `credentials-${randomBytes(4).toString('hex')}`);
      await writeFile(
        creds,
        `[src]\naws_access_key_id = ${from.accessKeyId}\naws_secret_access_key = ${from.secretAccessKey}\n\n[dst]\naws_access_key_id = ${to.accessKeyId}\naws_secret_access_key = ${to.secretAccessKey}\n`,
      );
      const args = [
        'sync',
        `s3://${src}/x`,
        `s3://${dst}/y`,
        '--source-endpoint',
        from.endpoint,
        '--dest-endpoint',
        to.endpoint,
        '--source-profile',
        'src',
        '--dest-profile',
        'dst',
        '--part-size',
        '8MiB',
        '--multipart-threshold',
        '8MiB',
        '--json',
      ];
      const cliEnv = {
        AWS_SHARED_CREDENTIALS_FILE: creds,
        AWS_CONFIG_FILE: join(credDir, 'none'),
        AWS_REGION: 'us-east-1',
      };
      first = await runCli(args, cliEnv);
      mirror = await mirrorState({ client: a, bucket: src, prefix: 'x' }, { client: b, bucket: dst, prefix: 'y' }, put);
      largeHead = await b.send(new HeadObjectCommand({ Bucket: dst, Key: 'y/large.parquet' }));
      again = await runCli(args, cliEnv);
    });

    it('streams every object across the endpoints', () => {
      expect(summary(first).copied).toEqual({ serverSide: 0, streamed: 31 });
    });

    it('the destination then mirrors the source', () => {
      expectMirrored(mirror);
    });

    it('the SHA-256 travels with the large object', () => {
      expect(largeHead.Metadata?.['tablevault-sha256']).toBeDefined();
    });

    it('a rerun copies nothing', () => {
      expect(summary(again).toCopy).toBe(0);
    });

    it('a rerun compares a "-N" multipart ETag by the SHA-256 both copies carry', () => {
      // a "-N" multipart ETag on RGW: compared by the SHA-256 both copies carry; s3rver's ETags are whole-object MD5s
      expect(summary(again).compared).toEqual(
        to.name === 'rgw' ? { checksum: 1, etag: 30, size: 0 } : { checksum: 0, etag: 31, size: 0 },
      );
    });
  });
});
