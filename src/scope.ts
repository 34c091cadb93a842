/**
 * Resources a function opens one after another, closed in the reverse order whatever happens:
 * one `try { … } finally { await scope.close() }` instead of a try/finally per resource.
 * Every close runs even when an earlier one fails; the first failure is rethrown after them all,
 * as a failing `finally` would.
 */
export class Scope {
  private readonly closers: Array<() => unknown> = [];

  /** Registers `close` for `resource` and returns the resource. */
  add<T>(resource: T, close: (r: T) => unknown): T {
    this.closers.push(() => close(resource));
    return resource;
  }

  async close(): Promise<void> {
    let failed = false;
    let first: unknown;
    for (const close of this.closers.splice(0).reverse()) {
      try {
        await close();
      } catch (e) {
        if (!failed) {
          failed = true;
          first = e;
        }
      }
    }
    if (failed) throw first;
  }
}
