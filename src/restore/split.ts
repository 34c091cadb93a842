import { DEFAULTS } from '../defaults.js';
import type { Loader } from '../source/loader.js';

/** The bound: TABLEVAULT_RESTORE_SPLIT_ROWS (the tests' small tables), else the default. */
export function splitRows(): number {
  const v = Number(process.env.TABLEVAULT_RESTORE_SPLIT_ROWS);
  return Number.isInteger(v) && v > 0 ? v : DEFAULTS.restore.splitRows;
}

/**
 * One table's objects loaded by several connections at once: each connection takes the next
 * object no other has taken, loads and commits it, and takes another, until none is left or one
 * has failed (then none is taken, and the loads under way end). The table's own connection works
 * it; idle jobs lend theirs (Helpers). Only for objects that may load in any order: a full
 * export's, into a table built aside and put in place once all are in.
 */
export class SplitLoad {
  private taken = 0;
  private running = 0;
  private waiters: Array<() => void> = [];
  private failure: { error: unknown } | undefined;
  /** Objects loaded per connection: the table's own first, then each that joined, in the order it did. */
  readonly perConnection: number[] = [];
  /**
   * Batches per wire format (Loader.formats) the connections but the first loaded: the first to
   * work is the table's own (it works as soon as it offers), whose loader's counts its restore reads.
   */
  readonly helperFormats: Record<string, number> = {};

  /**
   * @param objects the objects to load (indices into the table's files)
   * @param loadOne loads and commits one object on `loader`; `connection` is its index in perConnection
   */
  constructor(
    private readonly objects: number[],
    private readonly loadOne: (loader: Loader, object: number, connection: number) => Promise<void>,
  ) {}

  /** Objects are left to take, and none has failed. */
  get open(): boolean {
    return this.failure === undefined && this.taken < this.objects.length;
  }

  /**
   * Loads objects on `loader` until none is left; false when one failed on it (the connection
   * may be mid-statement: do not reuse it).
   */
  async work(loader: Loader): Promise<boolean> {
    if (!this.open) return true;
    const connection = this.perConnection.push(0) - 1;
    while (this.open) {
      const object = this.objects[this.taken++]!;
      this.running++;
      const before = { ...(loader.formats ?? {}) };
      try {
        await this.loadOne(loader, object, connection);
        this.perConnection[connection]!++;
        if (connection > 0)
          for (const [k, n] of Object.entries(loader.formats ?? {}))
            this.helperFormats[k] = (this.helperFormats[k] ?? 0) + n - (before[k] ?? 0);
      } catch (e) {
        this.failure ??= { error: e };
        return false;
      } finally {
        if (--this.running === 0) for (const w of this.waiters.splice(0)) w();
      }
    }
    return true;
  }

  /** Once no object is loading: throws the first failure, if one failed. */
  async settled(): Promise<void> {
    while (this.running > 0) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure.error;
  }
}

/** Connections that may join a table's SplitLoad: idle jobs of a whole-backup restore, or a table's own `--jobs`. */
export interface Helpers {
  /** How many may join at most (0: none will, do not split). */
  readonly count: number;
  /** Offers the table's objects to them. */
  offer(load: SplitLoad): void;
  /** Says the table will offer nothing (so an idle job waiting for it may end). */
  decided(): void;
}

/**
 * The idle jobs of a whole-backup restore: a job that has no table left to start helps with
 * the objects of a table another job has split, and waits while a table started may still offer
 * its own.
 */
export class JobPool {
  private loads: SplitLoad[] = [];
  private undecided = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly jobs: number) {}

  private wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** A table's Helpers: the other jobs; it must offer or decide (decided is called again safely). */
  forTable(): Helpers {
    this.undecided++;
    let decided = false;
    const decide = () => {
      if (decided) return;
      decided = true;
      this.undecided--;
      this.wake();
    };
    return {
      count: this.jobs - 1,
      offer: (load) => {
        this.loads.push(load);
        decide();
      },
      decided: decide,
    };
  }

  /** The next table's objects to help with; undefined once no table has objects left nor may offer some. */
  async next(): Promise<SplitLoad | undefined> {
    for (;;) {
      this.loads = this.loads.filter((l) => l.open);
      if (this.loads.length) return this.loads[0];
      if (this.undecided === 0) return undefined;
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

/** A table's own helpers (restoreTable with `jobs`): connections opened when it splits, closed once it is loaded. */
export function ownHelpers(count: number, open: () => Promise<Loader>): Helpers & { close(): Promise<void> } {
  const running: Array<Promise<void>> = [];
  return {
    count,
    offer(load) {
      for (let i = 0; i < count; i++)
        running.push(
          (async () => {
            // a connection that cannot be opened leaves the objects to the others
            const loader = await open().catch(() => undefined);
            if (!loader) return;
            try {
              await load.work(loader);
            } finally {
              await loader.close();
            }
          })(),
        );
    },
    decided() {},
    async close() {
      await Promise.allSettled(running);
    },
  };
}
