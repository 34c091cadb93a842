import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  HeadObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ByteBudget } from '../../src/sync/budget.js';
import type { CopyRoute } from '../../src/sync/copy-sides.js';
import { streamParts } from '../../src/sync/copy-stream-parts.js';

const MiB = 1024 * 1024;
const SIZE = 6 * MiB; // one 5 MiB part and one of 1 MiB
const PART = 5 * MiB;

/** A source whose ranged GETs fail after their first chunk `failures` times, then answer whole; a destination recording what it is sent. */
function route(failures: number, answeredEtag?: (body: Buffer) => string) {
  const sent: string[] = [];
  let gets = 0;
  const src = {
    send: async (cmd: unknown) => {
      if (cmd instanceof HeadObjectCommand) return { ContentType: 'application/x-test' };
      if (!(cmd instanceof GetObjectCommand)) throw new Error('unexpected source command');
      gets++;
      const [a, b] = cmd.input.Range!.slice(6).split('-').map(Number) as [number, number];
      const bytes = Buffer.alloc(b - a + 1, a / PART + 1);
      const failing = gets <= failures;
      return {
        Body: Readable.from(
          (async function* () {
            yield bytes.subarray(0, 1024);
            if (failing) throw Object.assign(new Error('connection reset by the source'), { name: 'ECONNRESET' });
            yield bytes.subarray(1024);
          })(),
        ),
      };
    },
  } as unknown as S3Client;
  const dst = {
    send: async (cmd: unknown, o?: { abortSignal?: AbortSignal }) => {
      if (cmd instanceof CreateMultipartUploadCommand) return { UploadId: 'u1' };
      if (cmd instanceof AbortMultipartUploadCommand) return (sent.push('abort'), {});
      if (cmd instanceof CompleteMultipartUploadCommand) return (sent.push('complete'), {});
      if (cmd instanceof HeadObjectCommand) return { ContentLength: SIZE };
      if (!(cmd instanceof UploadPartCommand)) throw new Error('unexpected destination command');
      const chunks: Buffer[] = [];
      const aborted = new Promise<never>((_, reject) =>
        o?.abortSignal?.addEventListener('abort', () =>
          reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        ),
      );
      await Promise.race([
        (async () => {
          for await (const c of cmd.input.Body as Readable) chunks.push(c as Buffer);
        })(),
        aborted,
      ]);
      const body = Buffer.concat(chunks);
      sent.push(`part ${cmd.input.PartNumber}`);
      return { ETag: answeredEtag ? answeredEtag(body) : `"${createHash('md5').update(body).digest('hex')}"` };
    },
  } as unknown as S3Client;
  const r: CopyRoute = {
    src: { client: src, bucket: 's', prefix: 'p', flag: 'the source' },
    dst: { client: dst, bucket: 'd', prefix: 'p', flag: 'the destination' },
    opts: { partSize: PART, multipartThreshold: PART, partConcurrency: 1, maxCopyObjectBytes: 5 * 1024 * MiB },
  };
  return { r, sent, gets: () => gets };
}

const obj = { key: 'big.bin', size: SIZE, etag: '"abc-2"' };

describe('streamParts', () => {
  it('a source failing in the middle of a part ends that upload and copies the part again from a new GET', async () => {
    const { r, sent, gets } = route(1);
    await streamParts(r, new ByteBudget(MiB), obj, { requests: 0 }, () => {});
    expect(gets()).toBe(3); // part 1 twice, part 2 once
    expect(sent).toEqual(['part 1', 'part 2', 'complete']);
  });

  it('a source that keeps failing fails the copy with its own error and aborts the upload', async () => {
    const { r, sent } = route(99);
    await expect(streamParts(r, new ByteBudget(MiB), obj, { requests: 0 }, () => {})).rejects.toThrow(
      'connection reset by the source',
    );
    expect(sent).toEqual(['abort']);
  });

  it('a part whose answered ETag is not the MD5 of the bytes sent fails the copy', async () => {
    const { r, sent } = route(0, () => '"00000000000000000000000000000000"');
    await expect(streamParts(r, new ByteBudget(MiB), obj, { requests: 0 }, () => {})).rejects.toThrow(
      /stored other bytes than were sent/,
    );
    expect(sent.at(-1)).toBe('abort');
  });
});
