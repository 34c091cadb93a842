import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { runtimeError } from '../errors.js';
import { collectYoung } from '../memory/gc.js';
import type { ByteBudget } from './budget.js';

/**
 * A young-generation collection after every this many bytes passed. Each chunk a socket reads is
 * an ArrayBuffer freed only when a collection finds its Buffer dead, and the few JS objects a
 * chunk allocates fill the young generation so slowly that without this, 100+ MB of passed
 * chunks waited for a collection (`npm run bench -- --sync`, streamed 4 × 256 MiB).
 */
const COLLECT_EVERY = 8 * 1024 * 1024;
let sinceCollect = 0;

/**
 * A source response body passed straight on as an upload's body, chunk by chunk, instead of being
 * read whole into a buffer first. Each chunk is taken from the shared byte budget before it is
 * read on and given back when the upload asks for the next one (its request has taken the chunk
 * and can take more), so the bytes held between the two sockets never pass the budget, however
 * many copies are in flight; a full budget or a slow destination stops the reading of the source,
 * and TCP slows the source down. The length is checked as the bytes pass (more or fewer than
 * `expected` fails the stream, which the caller turns into an aborted upload), and the MD5 of the
 * bytes is computed on the way, for the caller to compare with the ETag the destination answers.
 */
export class PassBody extends Readable {
  private readonly source: AsyncIterator<Uint8Array>;
  private readonly md5: Hash | undefined;
  private held: (() => void) | undefined;
  private passed = 0;

  constructor(
    body: AsyncIterable<Uint8Array>,
    private readonly budget: ByteBudget,
    private readonly expected: number,
    /** The object and range, for error messages. */
    private readonly what: string,
    /** Compute the MD5 on the way (not needed where the upload carries the source's MD5 as Content-MD5). */
    hashMd5 = true,
  ) {
    // nothing buffered here beyond the one chunk the budget accounts for
    super({ highWaterMark: 0 });
    this.source = body[Symbol.asyncIterator]();
    this.md5 = hashMd5 ? createHash('md5') : undefined;
  }

  /** Bytes passed on so far. */
  get bytes(): number {
    return this.passed;
  }

  /** The MD5 of the bytes passed, as hex (call once the stream has ended). */
  digestHex(): string {
    if (!this.md5) throw new Error('PassBody: created without an MD5');
    return this.md5.digest('hex');
  }

  override _read(): void {
    this.release();
    void this.pull();
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    this.release();
    // ends the source response (its socket is not reused mid-body)
    void Promise.resolve(this.source.return?.()).catch(() => {});
    cb(err);
  }

  private release(): void {
    const r = this.held;
    this.held = undefined;
    r?.();
  }

  private async pull(): Promise<void> {
    try {
      const r = await this.source.next();
      if (this.destroyed) return;
      if (r.done) {
        if (this.passed !== this.expected)
          throw runtimeError(
            'SYNC_SHORT_READ',
            `${this.what}: the server sent ${this.passed} of ${this.expected} bytes`,
          );
        this.push(null);
        return;
      }
      const chunk = r.value;
      if (this.passed + chunk.length > this.expected)
        throw runtimeError(
          'SYNC_SHORT_READ',
          `${this.what}: the server sent more than the ${this.expected} bytes expected`,
        );
      const release = await this.budget.acquire(chunk.length);
      if (this.destroyed) {
        release();
        return;
      }
      this.held = release;
      this.passed += chunk.length;
      this.md5?.update(chunk);
      sinceCollect += chunk.length;
      if (sinceCollect >= COLLECT_EVERY) {
        sinceCollect = 0;
        collectYoung();
      }
      this.push(chunk);
    } catch (e) {
      this.destroy(e as Error);
    }
  }
}

/** Attempts of a copy whose upload body is a PassBody: the SDK cannot retry a stream, so the copy is redone from a new GET. */
export const PASS_ATTEMPTS = 3;

/**
 * Runs `copy` up to PASS_ATTEMPTS times, after 200 ms, then 400 ms; a changed source (412) or bad
 * input (exit code 2) is not retried. `retried` counts the attempts after the first.
 */
export async function withAttempts<T>(
  copy: () => Promise<T>,
  final: (e: unknown) => boolean,
  retried: () => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await copy();
    } catch (e) {
      if (attempt >= PASS_ATTEMPTS || final(e)) throw e;
      retried();
      await new Promise((res) => setTimeout(res, 100 * 2 ** attempt));
    }
  }
}
