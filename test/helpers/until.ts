/** Waits until `check` holds (an error counts as not yet), looking every `everyMs`; throws after `ms`, naming `what`. */
export async function until(
  what: string,
  check: () => Promise<boolean> | boolean,
  opts: { ms?: number; everyMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.ms ?? 60_000);
  while (
    !(await Promise.resolve()
      .then(check)
      .catch(() => false))
  ) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, opts.everyMs ?? 100));
  }
}
