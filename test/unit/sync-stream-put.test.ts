import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { GetObjectCommand, PutObjectCommand, type GetObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/sync/budget.js';
import type { CopyRoute } from '../../src/sync/copy-sides.js';
import { streamSmall } from '../../src/sync/copy-stream-put.js';

const BYTES = Buffer.from('the bytes of a small object');
const MD5_HEX = createHash('md5').update(BYTES).digest('hex');
const MD5_B64 = createHash('md5').update(BYTES).digest('base64');

/** A route whose source answers every GET with BYTES and `head`, and whose destination records each PUT (reading its body). */
function route(head: Partial<GetObjectCommandOutput>, putError?: Error) {
  const puts: Array<{ md5?: string; buffered: boolean; body: Buffer }> = [];
  let gets = 0;
  const src = {
    send: async (cmd: unknown) => {
      if (!(cmd instanceof GetObjectCommand)) throw new Error('only GetObject is expected');
      gets++;
      return { ...head, Body: Readable.from([BYTES]) };
    },
  } as unknown as S3Client;
  const dst = {
    send: async (cmd: unknown) => {
      if (!(cmd instanceof PutObjectCommand)) throw new Error('only PutObject is expected');
      const b = cmd.input.Body;
      const chunks: Buffer[] = [];
      if (Buffer.isBuffer(b)) chunks.push(b);
      else for await (const c of b as Readable) chunks.push(c as Buffer);
      puts.push({ md5: cmd.input.ContentMD5, buffered: Buffer.isBuffer(b), body: Buffer.concat(chunks) });
      if (putError) throw putError;
      return {};
    },
  } as unknown as S3Client;
  const r: CopyRoute = {
    src: { client: src, bucket: 's', prefix: 'p', flag: 'the source' },
    dst: { client: dst, bucket: 'd', prefix: 'p', flag: 'the destination' },
    opts: { partSize: 8 << 20, multipartThreshold: 8 << 20, partConcurrency: 4, maxCopyObjectBytes: 5 << 30 },
  };
  return { r, puts, gets: () => gets };
}

const obj = { key: 'k.bin', size: BYTES.length, etag: `"${MD5_HEX}"` };

describe('streamSmall', () => {
  it("passes a single-part object's body into the PUT, with its ETag as Content-MD5", async () => {
    const { r, puts } = route({ ETag: `"${MD5_HEX}"` });
    await streamSmall(r, new ByteBudget(1 << 20), obj, { requests: 0 });
    expect(puts).toEqual([{ md5: MD5_B64, buffered: false, body: BYTES }]);
  });

  it('holds an SSE-KMS object (its ETag is no MD5) and sends the MD5 of its bytes', async () => {
    const { r, puts } = route({ ETag: '"0123456789abcdef0123456789abcdef"', ServerSideEncryption: 'aws:kms' });
    await streamSmall(r, new ByteBudget(1 << 20), obj, { requests: 0 });
    expect(puts).toEqual([{ md5: MD5_B64, buffered: true, body: BYTES }]);
  });

  it('holds an object with a multipart ETag and sends the MD5 of its bytes', async () => {
    const { r, puts } = route({ ETag: '"0123456789abcdef0123456789abcdef-2"' });
    await streamSmall(r, new ByteBudget(1 << 20), obj, { requests: 0 });
    expect(puts).toEqual([{ md5: MD5_B64, buffered: true, body: BYTES }]);
  });

  it('a destination refusing the Content-MD5 fails the copy as a damaged source, without retrying', async () => {
    const { r, gets } = route({ ETag: `"${MD5_HEX}"` }, Object.assign(new Error('bad digest'), { name: 'BadDigest' }));
    await expect(streamSmall(r, new ByteBudget(1 << 20), obj, { requests: 0 })).rejects.toThrow(
      /do not match the MD5 the source stored/,
    );
    expect(gets()).toBe(1);
  });
});
