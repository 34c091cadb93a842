import { HeadObjectCommand, type HeadObjectCommandOutput, type S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { decide, isMultipartEtag } from '../../src/sync/compare.js';
import type { SyncSide } from '../../src/sync/copy.js';
import type { ListedObject } from '../../src/s3/list.js';

/** A side whose HeadObject answers from `heads` (by full key) and records every key asked for. */
function side(prefix: string, heads: Record<string, Partial<HeadObjectCommandOutput>> = {}) {
  const asked: string[] = [];
  const client = {
    send: async (cmd: unknown) => {
      if (!(cmd instanceof HeadObjectCommand)) throw new Error('only HeadObject is expected');
      asked.push(`${cmd.input.Bucket}/${cmd.input.Key}`);
      return heads[cmd.input.Key!] ?? {};
    },
  } as unknown as S3Client;
  const s: SyncSide = { client, bucket: prefix === 'src' ? 'a' : 'b', prefix, flag: prefix };
  return { side: s, asked };
}

const obj = (key: string, size: number, etag: string): ListedObject => ({ key, size, etag });
const MD5_A = '"0cc175b9c0f1b6a831c399e269772661"';
const MD5_B = '"92eb5ffee6ae2fec3ad71c777531578f"';
const MULTI_A = '"d41d8cd98f00b204e9800998ecf8427e-3"';
const MULTI_B = '"9e107d9d372bb6826bd81d3542a419d6-3"';

function sides(
  srcHeads?: Record<string, Partial<HeadObjectCommandOutput>>,
  dstHeads?: Record<string, Partial<HeadObjectCommandOutput>>,
) {
  const src = side('src', srcHeads);
  const dst = side('dst', dstHeads);
  return { sides: { src: src.side, dst: dst.side }, asked: () => [...src.asked, ...dst.asked] };
}

describe('isMultipartEtag', () => {
  it('recognises the "-<parts>" suffix of a multipart ETag, quoted or not', () => {
    expect(isMultipartEtag(MULTI_A)).toBe(true);
    expect(isMultipartEtag('d41d8cd98f00b204e9800998ecf8427e-12')).toBe(true);
  });

  it('takes a plain MD5 ETag for a single-part upload', () => {
    expect(isMultipartEtag(MD5_A)).toBe(false);
    expect(isMultipartEtag('')).toBe(false);
  });
});

describe('decide: whether the destination object is replaced', () => {
  it('copies an object the destination lacks, without a request', async () => {
    const s = sides();
    expect(await decide(obj('k', 1, MD5_A), undefined, 'checksum', s.sides)).toEqual({
      copy: true,
      basis: 'missing',
      requests: 0,
    });
    expect(s.asked()).toEqual([]);
  });

  it('copies an object whose size differs, without a request', async () => {
    const s = sides();
    expect(await decide(obj('k', 1, MD5_A), obj('k', 2, MD5_A), 'checksum', s.sides)).toEqual({
      copy: true,
      basis: 'size',
      requests: 0,
    });
    expect(s.asked()).toEqual([]);
  });

  it('under --compare size, keeps an object of equal size even when its ETag differs', async () => {
    const s = sides();
    expect(await decide(obj('k', 5, MD5_A), obj('k', 5, MD5_B), 'size', s.sides)).toEqual({
      copy: false,
      basis: 'size',
      requests: 0,
    });
    expect(s.asked()).toEqual([]);
  });

  it('keeps a single-part object with an equal ETag, without a request', async () => {
    const s = sides();
    expect(await decide(obj('k', 5, MD5_A), obj('k', 5, MD5_A), 'checksum', s.sides)).toEqual({
      copy: false,
      basis: 'etag',
      requests: 0,
    });
    expect(s.asked()).toEqual([]);
  });

  it('heads both sides under their own prefixes when ETags do not settle it', async () => {
    const s = sides();
    await decide(obj('t/x', 5, MULTI_A), obj('t/x', 5, MULTI_A), 'checksum', s.sides);
    expect(s.asked()).toEqual(['a/src/t/x', 'b/dst/t/x']);
  });

  it('compares multipart objects by the SHA-256 both carry: equal keeps it', async () => {
    const meta = { Metadata: { 'tablevault-sha256': 'abc' } };
    const s = sides({ 'src/k': meta }, { 'dst/k': meta });
    expect(await decide(obj('k', 5, MULTI_A), obj('k', 5, MULTI_B), 'checksum', s.sides)).toEqual({
      copy: false,
      basis: 'checksum',
      requests: 2,
    });
  });

  it('compares multipart objects by the SHA-256 both carry: different copies it', async () => {
    const s = sides(
      { 'src/k': { Metadata: { 'tablevault-sha256': 'abc' } } },
      { 'dst/k': { Metadata: { 'tablevault-sha256': 'def' } } },
    );
    expect(await decide(obj('k', 5, MULTI_A), obj('k', 5, MULTI_A), 'checksum', s.sides)).toEqual({
      copy: true,
      basis: 'checksum',
      requests: 2,
    });
  });

  it('prefers the SHA-256 over differing single-part ETags', async () => {
    const meta = { Metadata: { 'tablevault-sha256': 'same' } };
    const s = sides({ 'src/k': meta }, { 'dst/k': meta });
    expect(await decide(obj('k', 5, MD5_A), obj('k', 5, MD5_B), 'checksum', s.sides)).toEqual({
      copy: false,
      basis: 'checksum',
      requests: 2,
    });
  });

  it('copies unencrypted single-part objects whose ETags (MD5s) differ', async () => {
    const s = sides();
    expect(await decide(obj('k', 5, MD5_A), obj('k', 5, MD5_B), 'checksum', s.sides)).toEqual({
      copy: true,
      basis: 'etag',
      requests: 2,
    });
  });

  it('does not trust differing ETags under SSE-KMS (no MD5 there): keeps by size and says why', async () => {
    const s = sides({ 'src/k': { ServerSideEncryption: 'aws:kms' } }, {});
    expect(await decide(obj('k', 5, MD5_A), obj('k', 5, MD5_B), 'checksum', s.sides)).toEqual({
      copy: false,
      basis: 'size',
      note: 'multipart ETag and no SHA-256',
      requests: 2,
    });
  });

  it('keeps multipart objects without a SHA-256 by size alone, and says so', async () => {
    const s = sides();
    expect(await decide(obj('k', 5, MULTI_A), obj('k', 5, MULTI_B), 'checksum', s.sides)).toEqual({
      copy: false,
      basis: 'size',
      note: 'multipart ETag and no SHA-256',
      requests: 2,
    });
  });

  it('keeps by size alone when only one side carries a SHA-256, and says so', async () => {
    const s = sides({ 'src/k': { Metadata: { 'tablevault-sha256': 'abc' } } }, {});
    expect(await decide(obj('k', 5, MULTI_A), obj('k', 5, MULTI_B), 'checksum', s.sides)).toEqual({
      copy: false,
      basis: 'size',
      note: 'only one side carries a SHA-256',
      requests: 2,
    });
  });

  it('never settles by ETag when one side has no ETag', async () => {
    const s = sides();
    expect(await decide(obj('k', 5, ''), obj('k', 5, ''), 'checksum', s.sides)).toEqual({
      copy: false,
      basis: 'size',
      note: 'multipart ETag and no SHA-256',
      requests: 2,
    });
  });
});
