import { DeleteObjectsCommand } from '@aws-sdk/client-s3';
import { errorMessage, isTablevaultError } from '../errors.js';
import type { Logger } from '../log.js';
import { s3Error } from '../s3/errors.js';
import { joinKey } from '../s3/location.js';
import type { ListedObject } from '../s3/list.js';
import type { ProgressSink } from '../progress.js';
import { decide, type Basis, type CompareMode } from './compare.js';
import type { Copier, SyncSide } from './copy.js';
import { isManifest } from './listing.js';
import type { SyncTally } from './summary.js';

export interface SyncAction {
  action: 'copy' | 'skip' | 'delete';
  key: string;
  bytes: number;
  basis?: Basis;
  note?: string;
}

export interface ExecuteOptions {
  concurrency: number;
  compareMode: CompareMode;
  dryRun?: boolean;
  onAction?: (a: SyncAction) => void;
  progress?: ProgressSink;
}

/** Keys per DeleteObjects request (S3's limit). */
const DELETE_BATCH = 1000;

/**
 * Works the pairs of the listings: decides and copies with `concurrency` objects in flight,
 * batches deletes, and copies the manifests last. A task never rejects: bad input stops the run
 * (exit 2, rethrown by `finish`), anything else fails that object only and is counted.
 */
export class SyncExecutor {
  private readonly inflight = new Set<Promise<void>>();
  private fatal: unknown;
  private deletes: string[] = [];
  private readonly manifests: ListedObject[] = [];

  constructor(
    private readonly src: SyncSide,
    private readonly dst: SyncSide,
    private readonly copier: Copier,
    private readonly opts: ExecuteOptions,
    private readonly tally: SyncTally,
    private readonly log: Logger,
  ) {}

  /** Whether bad input has shown, so that no further work should start. */
  get stopped(): boolean {
    return this.fatal !== undefined;
  }

  /** Queues the deletion of a destination object the source lacks (`key` relative to the prefix). */
  async delete(key: string, bytes: number): Promise<void> {
    this.act({ action: 'delete', key, bytes });
    this.deletes.push(joinKey(this.dst.prefix, key));
    if (this.deletes.length >= DELETE_BATCH) await this.flushDeletes();
  }

  /** Decides whether the source's object replaces the destination's, and copies it (manifests wait for `finish`). */
  async sync(key: string, so: ListedObject, d: ListedObject | undefined): Promise<void> {
    while (this.inflight.size >= this.opts.concurrency) await Promise.race(this.inflight);
    this.run(key, () => this.decideAndCopy(key, so, d));
  }

  /** Waits for what is in flight, then copies the manifests (unless an object failed) and sends the last deletes. */
  async finish(): Promise<void> {
    await Promise.all(this.inflight);
    if (this.fatal !== undefined) throw this.fatal;
    // a table's manifest goes last, once every object it may name is in place
    for (const m of this.manifests) {
      if (this.tally.failed > 0)
        this.fail(
          m.key,
          new Error(
            `not copied because ${this.tally.failed} other object(s) failed; the destination keeps its previous manifest`,
          ),
        );
      else await this.copyOne(m);
    }
    await this.flushDeletes();
  }

  private run(key: string, task: () => Promise<void>): void {
    const p: Promise<void> = task()
      .catch((e: unknown) => {
        if (isTablevaultError(e) && e.exitCode === 2) this.fatal ??= e;
        else this.fail(key, e);
      })
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  private act(a: SyncAction): void {
    this.opts.onAction?.(a);
  }

  private fail(key: string, e: unknown): void {
    this.tally.fail(key, e);
    this.log.error({ key, err: errorMessage(e) }, 'object not copied');
  }

  private async decideAndCopy(key: string, so: ListedObject, d: ListedObject | undefined): Promise<void> {
    let decision;
    try {
      decision = await decide(so, d, this.opts.compareMode, { src: this.src, dst: this.dst });
    } catch (e) {
      const mapped = s3Error(e, {
        bucket: this.dst.bucket,
        endpoint: this.dst.endpoint,
        action: 'compare',
        flag: this.dst.flag,
      });
      if (mapped.exitCode === 2) throw mapped;
      this.fail(key, e);
      return;
    }
    this.tally.request('compare', decision.requests);
    if (d) this.tally.comparedBy(decision.basis);
    if (!decision.copy) {
      this.tally.skip(key, decision.note);
      this.opts.progress?.({ skipped: 1 });
      this.act({
        action: 'skip',
        key,
        bytes: so.size,
        basis: decision.basis,
        ...(decision.note ? { note: decision.note } : {}),
      });
      return;
    }
    this.tally.planCopy();
    this.act({ action: 'copy', key, bytes: so.size, basis: decision.basis });
    if (isManifest(key)) this.manifests.push(so);
    else await this.copyOne(so);
  }

  private async copyOne(o: ListedObject): Promise<void> {
    if (this.opts.dryRun) {
      this.tally.copy(o.size);
      return;
    }
    try {
      const r = await this.copier.copy(o);
      this.tally.request('copy', r.requests);
      this.tally.copy(o.size, r.method);
      this.opts.progress?.({ objects: 1, bytes: o.size });
    } catch (e) {
      if (isTablevaultError(e) && e.exitCode === 2) throw e;
      const mapped = s3Error(e, {
        bucket: this.dst.bucket,
        endpoint: this.dst.endpoint,
        action: 'copy',
        flag: this.dst.flag,
      });
      if (mapped.exitCode === 2) throw mapped;
      this.fail(o.key, e);
    }
  }

  private async flushDeletes(): Promise<void> {
    const batch = this.deletes;
    this.deletes = [];
    if (batch.length === 0) return;
    if (this.opts.dryRun) {
      this.tally.deleted(batch.length);
      return;
    }
    this.tally.request('delete');
    const dst = this.dst;
    const res = await dst.client
      .send(
        new DeleteObjectsCommand({
          Bucket: dst.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      )
      .catch((e: unknown) => {
        throw s3Error(e, { bucket: dst.bucket, endpoint: dst.endpoint, action: 'delete objects', flag: dst.flag });
      });
    const errors = res.Errors ?? [];
    for (const er of errors) this.fail(er.Key ?? '?', new Error(er.Message ?? er.Code ?? 'delete failed'));
    this.tally.deleted(batch.length - errors.length);
  }
}
