import { loadStrategy, type Strategy } from '../config/strategy.js';
import { onlyTables, planRunTables, type RunTable } from '../plan/run-tables.js';
import { openSource } from '../source/open.js';
import { openState, type StateRepository } from '../state/repository.js';
import { stateUrl } from '../state/url.js';
import { openDestination, type Destination } from '../store/open.js';
import { s3Options, uploaderOptions } from '../backup/destination-options.js';

/** What a lifecycle command (compact, expire) works with: the strategy, its state store and destination, its tables. */
export interface StrategyTables {
  strategy: Strategy;
  state: StateRepository;
  dest: Destination;
  /** The strategy's tables as a backup's plan matches them, `--only` applied. */
  tables: RunTable[];
}

/**
 * Opens a strategy's state store (migrated) and destination (checked), matches its tables as a
 * backup would (the source is asked only that), runs `fn`, and closes them all.
 */
export async function withStrategyTables<T>(
  opts: { strategy: string; state?: string; only?: string[] },
  fn: (c: StrategyTables) => Promise<T>,
): Promise<T> {
  const strategy = loadStrategy(opts.strategy);
  const source = await openSource(strategy.source, { maxConnections: 2 });
  const state = await openState(stateUrl(opts.state, strategy));
  const dest = openDestination(strategy.destination, s3Options(strategy), uploaderOptions(strategy));
  try {
    await dest.store.check();
    const { tables: all } = await planRunTables(strategy, source, {
      prefix: dest.prefix,
      destination: strategy.destination,
    });
    return await fn({ strategy, state, dest, tables: onlyTables(all, opts.only, strategy.file) });
  } finally {
    await source.close().catch(() => {});
    await state.close().catch(() => {});
    dest.store.close();
  }
}
