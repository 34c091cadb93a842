import { runtimeError } from '../errors.js';
import type { ByteBudget } from './budget.js';
import type { ListedObject } from '../s3/list.js';
import { errorName, httpStatus, isNotImplemented, isPreconditionFailed } from './copy-errors.js';
import { copyObject } from './copy-object.js';
import { copyParts } from './copy-part-copy.js';
import { srcKey, type CopyOptions, type CopyRoute, type SyncSide } from './copy-sides.js';
import { streamParts } from './copy-stream-parts.js';
import { streamSmall } from './copy-stream-put.js';

export { MAX_COPY_OBJECT_BYTES } from '../defaults.js';
export type { CopyOptions, SyncSide } from './copy-sides.js';

export type CopyMethod = 'server-side' | 'streamed';

export interface CopyResult {
  method: CopyMethod;
  requests: number;
}

/**
 * Copies objects from one side to the other: server-side (CopyObject, or UploadPartCopy above
 * `maxCopyObjectBytes`) while the store allows it, else streamed (GET into PUT, or ranged GETs into
 * a multipart upload), holding at most the shared byte budget in memory and never touching disk.
 * Every read is conditional on the listed ETag, so an object that changes during the copy fails
 * instead of arriving as a mix of two versions; every multipart copy is checked by size after
 * Complete and aborted on any failure. Each way of copying is its own module; this class chooses
 * between them and remembers, for the rest of the run, which ones the store refused.
 */
export class Copier {
  /** Becomes false for the rest of the run once the store answers NotImplemented (or AccessDenied across accounts). */
  private serverSide: boolean;
  private partCopy = true;
  /** Why server-side copy stopped being used, once; for the summary. */
  fallbackReason: string | undefined;
  private readonly route: CopyRoute;

  constructor(
    src: SyncSide,
    dst: SyncSide,
    opts: CopyOptions,
    private readonly budget: ByteBudget,
    serverSide: boolean,
    /** Same endpoint, different credentials: AccessDenied on a server-side copy means "stream it". */
    private readonly accessDeniedMeansStream: boolean,
    /** Test hook: called after each part of a multipart copy is stored. */
    private readonly onPart: () => void = () => {},
  ) {
    this.serverSide = serverSide;
    this.route = { src, dst, opts };
  }

  async copy(o: ListedObject): Promise<CopyResult> {
    const { src, opts } = this.route;
    const counter = { requests: 0 };
    try {
      if (this.serverSide) {
        try {
          if (o.size <= opts.maxCopyObjectBytes) await copyObject(this.route, o, counter);
          else if (this.partCopy) await copyParts(this.route, o, counter, this.onPart);
          else throw Object.assign(new Error('UploadPartCopy not implemented'), { name: 'NotImplemented' });
          return { method: 'server-side', requests: counter.requests };
        } catch (e) {
          if (isNotImplemented(e)) {
            if (o.size <= opts.maxCopyObjectBytes)
              this.stopServerSide('the destination store answered NotImplemented to CopyObject');
            else {
              this.partCopy = false;
              this.fallbackReason ??= 'the destination store answered NotImplemented to UploadPartCopy';
            }
          } else if (this.accessDeniedMeansStream && (errorName(e) === 'AccessDenied' || httpStatus(e) === 403)) {
            this.stopServerSide('the destination credentials may not read the source (AccessDenied on CopyObject)');
          } else throw e;
        }
      }
      if (o.size <= opts.multipartThreshold) await streamSmall(this.route, this.budget, o, counter);
      else await streamParts(this.route, this.budget, o, counter, this.onPart);
      return { method: 'streamed', requests: counter.requests };
    } catch (e) {
      if (isPreconditionFailed(e)) {
        throw runtimeError(
          'SYNC_SOURCE_CHANGED',
          `s3://${src.bucket}/${srcKey(this.route, o)} changed while it was being copied; run sync again to copy the new version`,
          e,
        );
      }
      throw e;
    }
  }

  private stopServerSide(reason: string): void {
    this.serverSide = false;
    this.fallbackReason ??= reason;
  }
}
