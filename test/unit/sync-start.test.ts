import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/log.js';
import type { ListedObject } from '../../src/s3/list.js';
import { abortStaleUploads } from '../../src/sync/buckets.js';
import type { SyncSide } from '../../src/sync/copy.js';
import { mergeListings } from '../../src/sync/listing.js';

/** A destination with one stale upload, recording the commands it is sent. */
function staleSide() {
  const sent: string[] = [];
  const client = {
    send: async (cmd: unknown) => {
      if (cmd instanceof ListMultipartUploadsCommand) {
        sent.push('list');
        return { Uploads: [{ Key: 'p/x', UploadId: 'u1' }], IsTruncated: false } as ListMultipartUploadsCommandOutput;
      }
      if (cmd instanceof AbortMultipartUploadCommand) {
        sent.push('abort');
        return {};
      }
      throw new Error('unexpected command');
    },
  } as unknown as S3Client;
  const side: SyncSide = { client, bucket: 'b', prefix: 'p', flag: 'the destination' };
  return { side, sent };
}

/** A listing whose first page is held until `open()`; records when its first object was asked for. */
function heldListing(name: string, asked: string[], objects: ListedObject[]) {
  let open!: () => void;
  const opened = new Promise<void>((r) => (open = r));
  async function* gen(): AsyncGenerator<ListedObject> {
    asked.push(name);
    await opened;
    yield* objects;
  }
  return { listing: gen(), open };
}

describe('sync start', () => {
  it('lists stale uploads before the checks pass but aborts none when they fail', async () => {
    const { side, sent } = staleSide();
    const checked = Promise.reject(new Error('NoSuchBucket'));
    await expect(abortStaleUploads(side, silentLogger(), checked)).rejects.toThrow('NoSuchBucket');
    expect(sent).toEqual(['list']);
  });

  it('aborts the stale uploads once the checks pass', async () => {
    const { side, sent } = staleSide();
    expect(await abortStaleUploads(side, silentLogger(), Promise.resolve())).toBe(1);
    expect(sent).toEqual(['list', 'abort']);
  });

  it('asks both listings for their first page before either has answered', async () => {
    const asked: string[] = [];
    const a = heldListing('source', asked, [{ key: 'k', size: 1, etag: '' }]);
    const b = heldListing('dest', asked, []);
    const first = mergeListings(a.listing, b.listing).next();
    await new Promise((r) => setImmediate(r));
    expect(asked).toEqual(['source', 'dest']);
    a.open();
    b.open();
    expect((await first).value).toMatchObject({ key: 'k' });
  });
});
