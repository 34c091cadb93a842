/**
 * The flow control both engines' row readers share (PostgreSQL's CopyOut, MySQL's TextRows): the
 * reader is paused between batches and resumed when the batch is taken, and the consumer waits
 * for either, or for the end of the result, or for its error.
 */
export abstract class RowFlow {
  protected paused = false;
  protected finished = false;
  /** The server's or the connection's error, or a row that could not be read on: wait() rejects at once. */
  protected error: unknown;
  /** A value the builders refused while the rest of the result is drained: wait() rejects at the end. */
  protected errorAtEnd: unknown;
  private wake: (() => void) | undefined;

  /** Stops delivering rows after the current one (call it from the row callback). */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    this.pauseSource();
    this.notify();
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    this.resumeSource();
  }

  protected abstract pauseSource(): void;
  protected abstract resumeSource(): void;

  /** 'paused' after pause(), 'done' once the whole result has been read; rejects with its error. */
  wait(): Promise<'paused' | 'done'> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        if (this.error !== undefined) {
          reject(this.error);
          return true;
        }
        if (this.finished) {
          if (this.errorAtEnd !== undefined) reject(this.errorAtEnd);
          else resolve('done');
          return true;
        }
        if (this.paused && this.errorAtEnd === undefined) {
          resolve('paused');
          return true;
        }
        return false;
      };
      if (!check())
        this.wake = () => {
          if (check()) this.wake = undefined;
        };
    });
  }

  protected notify(): void {
    this.wake?.();
  }
}
